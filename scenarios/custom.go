package scenarios

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/servingbench/servingbench/servingbench"
)

// Custom is vLLM's custom dataset: a JSONL file, one object a line, with a
// string "prompt" and, an addition of ours, an optional integer
// "output_tokens" that overrides OutputLen for that line, unless
// IgnoreOutputTokens is set (then every request asks for OutputLen). Blank
// lines are skipped. As vLLM does, the entries are shuffled with the seed
// unless NoShuffle is set (vLLM's --disable-shuffle), the first n are used,
// and when the file has fewer, entries are repeated, picked at random with
// the seed. PromptTokens is the tokenizer's count of the prompt.
//
// vLLM applies the model's chat template to each prompt unless
// --skip-chat-template is given; servingbench sends the prompt as written
// (a chat endpoint applies the template on the server).
type Custom struct {
	Path      string
	OutputLen int // tokens; 0 means 256, vLLM's --custom-output-len default
	NoShuffle bool
	// IgnoreOutputTokens makes OutputLen apply to every line, whatever
	// its "output_tokens".
	IgnoreOutputTokens bool
}

var (
	_ Dataset      = Custom{}
	_ lengthScaler = Custom{}
)

// DefaultCustomOutputLen is vLLM's --custom-output-len default.
const DefaultCustomOutputLen = 256

// String is "dataset=custom/file=NAME/out=O", with "/shuffle=false" when
// NoShuffle is set and "/output-tokens=ignored" when IgnoreOutputTokens is.
func (d Custom) String() string {
	s := fmt.Sprintf("dataset=custom/file=%s/out=%d", base(d.Path), cmpOr(d.OutputLen, DefaultCustomOutputLen))
	if d.NoShuffle {
		s += "/shuffle=false"
	}
	if d.IgnoreOutputTokens {
		s += "/output-tokens=ignored"
	}
	return s
}

// scaled sets OutputLen for every line, IgnoreOutputTokens set (see
// Scale); Custom has no input length.
func (d Custom) scaled(in, out, _ int) (Dataset, []string) {
	problems := noLengths(d, in, 0, "its prompts are the file's")
	if out != 0 {
		d.OutputLen, d.IgnoreOutputTokens = out, true
	}
	return d, problems
}

// Validate reports a bad field.
func (d Custom) Validate() error {
	if d.Path == "" {
		return errors.New("scenarios: Custom.Path is empty")
	}
	if d.OutputLen < 0 {
		return fmt.Errorf("scenarios: Custom.OutputLen must be >= 0, got %d", d.OutputLen)
	}
	return nil
}

// Requests reads the file and returns n requests.
func (d Custom) Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error) {
	reqs, err := readDataset(ctx, "Custom", d, d.Path, tok, n, func(r io.Reader) ([]servingbench.Request, error) {
		return readCustom(r, d.Path, cmpOr(d.OutputLen, DefaultCustomOutputLen), d.IgnoreOutputTokens)
	})
	if err != nil {
		return nil, err
	}
	if !d.NoShuffle {
		shuffle(reqs, seed)
	}
	reqs = reqs[:min(n, len(reqs))]
	if err := parallel(ctx, len(reqs), func(i int) { reqs[i].PromptTokens = len(tok.Encode(reqs[i].Prompt)) }); err != nil {
		return nil, err
	}
	return oversample(reqs, n, seed), nil
}

// customLine is one line of a Custom file.
type customLine struct {
	Prompt       *string `json:"prompt"`
	OutputTokens *int    `json:"output_tokens"`
}

// readCustom parses a JSONL file into requests without token counts; with
// fixed set, every request asks for outputLen.
func readCustom(r io.Reader, path string, outputLen int, fixed bool) ([]servingbench.Request, error) {
	br := bufio.NewReader(r)
	var reqs []servingbench.Request
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, &FileError{Path: path, Unit: "line", Pos: lineNo, Err: err}
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			req, perr := parseCustomLine(trimmed, outputLen, fixed)
			if perr != nil {
				return nil, &FileError{Path: path, Unit: "line", Pos: lineNo, Err: perr}
			}
			reqs = append(reqs, req)
		}
		if err == io.EOF {
			break
		}
	}
	if len(reqs) == 0 {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: no JSON lines", ErrEmpty)}
	}
	return reqs, nil
}

func parseCustomLine(line []byte, outputLen int, fixed bool) (servingbench.Request, error) {
	var v customLine
	if err := json.Unmarshal(line, &v); err != nil {
		return servingbench.Request{}, err
	}
	if v.Prompt == nil {
		return servingbench.Request{}, errors.New(`missing string field "prompt"`)
	}
	if v.OutputTokens != nil {
		if *v.OutputTokens < 1 {
			return servingbench.Request{}, fmt.Errorf(`"output_tokens" must be >= 1, got %d`, *v.OutputTokens)
		}
		if !fixed {
			outputLen = *v.OutputTokens
		}
	}
	return servingbench.Request{Prompt: *v.Prompt, MaxTokens: outputLen}, nil
}
