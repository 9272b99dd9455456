package scenarios

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/servingbench/servingbench/servingbench"
)

// ShareGPT is vLLM's sharegpt dataset, read from a file in the layout of
// ShareGPT_V3_unfiltered_cleaned_split.json: a JSON array of records
// {"conversations": [{"from": ..., "value": ...}, ...]}.
//
// As vLLM does: records with fewer than two turns are dropped, the rest are
// shuffled with the seed, and each record in turn gives a request whose
// prompt is the first turn's value and whose MaxTokens is the second turn's
// token count (or OutputLen when set). A record is skipped unless the
// prompt has at least 4 tokens, the output at least 4 (not checked when
// OutputLen is set), the prompt at most 1024 and both together at most
// 2048. When fewer records pass than requests are asked for, passing ones
// are repeated, picked at random with the seed (vLLM's oversampling).
//
// The turns are taken by position, not by their "from" field, as vLLM
// does. vLLM counts tokens with the tokenizer's special tokens (a BOS for
// Llama-style tokenizers); servingbench.Tokenizer.Encode adds none, so a
// record at the edge of a filter may be kept here and dropped by vLLM.
// The file is decoded as a stream, one record at a time, keeping only the
// two turns used.
type ShareGPT struct {
	Path      string
	OutputLen int // tokens; 0 means each record's reply length
}

var (
	_ Dataset      = ShareGPT{}
	_ lengthScaler = ShareGPT{}
)

// vLLM's is_valid_sequence limits.
const (
	shareGPTMinLen       = 4
	shareGPTMaxPromptLen = 1024
	shareGPTMaxTotalLen  = 2048
)

// String is "dataset=sharegpt/file=NAME", with "/out=N" when OutputLen is set.
func (d ShareGPT) String() string {
	s := "dataset=sharegpt/file=" + base(d.Path)
	if d.OutputLen != 0 {
		s += fmt.Sprintf("/out=%d", d.OutputLen)
	}
	return s
}

// Validate reports a bad field.
func (d ShareGPT) Validate() error {
	if d.Path == "" {
		return errors.New("scenarios: ShareGPT.Path is empty")
	}
	if d.OutputLen < 0 {
		return fmt.Errorf("scenarios: ShareGPT.OutputLen must be >= 0, got %d", d.OutputLen)
	}
	return nil
}

// scaled sets OutputLen (see Scale); ShareGPT has no input length.
func (d ShareGPT) scaled(in, out, _ int) (Dataset, []string) {
	problems := noLengths(d, in, 0, "its prompts are the conversations' first turns")
	d.OutputLen = cmpOr(out, d.OutputLen)
	return d, problems
}

// exchange is the part of a record ShareGPT uses.
type exchange struct{ prompt, reply string }

// Requests reads the file and returns n requests.
func (d ShareGPT) Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error) {
	exs, err := readDataset(ctx, "ShareGPT", d, d.Path, tok, n, func(r io.Reader) ([]exchange, error) {
		return readShareGPT(bufio.NewReaderSize(r, 1<<20), d.Path)
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	shuffle(exs, seed)
	reqs, err := d.pick(ctx, tok, exs, n)
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, &FileError{Path: d.Path, Err: fmt.Errorf("%w: none of %d conversations passes the length filters", ErrEmpty, len(exs))}
	}
	return oversample(reqs, n, seed), nil
}

// pick tokenizes exchanges in order, a batch at a time in parallel, and
// keeps those passing the filters until it has n.
func (d ShareGPT) pick(ctx context.Context, tok servingbench.Tokenizer, exs []exchange, n int) ([]servingbench.Request, error) {
	batch := max(16, 4*runtime.GOMAXPROCS(0))
	reqs := make([]servingbench.Request, 0, n)
	cand := make([]servingbench.Request, batch)
	for start := 0; start < len(exs) && len(reqs) < n; start += batch {
		chunk := exs[start:min(start+batch, len(exs))]
		err := parallel(ctx, len(chunk), func(i int) {
			out := d.OutputLen
			if out == 0 {
				out = len(tok.Encode(chunk[i].reply))
			}
			cand[i] = servingbench.Request{Prompt: chunk[i].prompt, PromptTokens: len(tok.Encode(chunk[i].prompt)), MaxTokens: out}
		})
		if err != nil {
			return nil, err
		}
		for _, r := range cand[:len(chunk)] {
			if len(reqs) < n && validSequence(r.PromptTokens, r.MaxTokens, d.OutputLen != 0) {
				reqs = append(reqs, r)
			}
		}
	}
	return reqs, nil
}

// validSequence is vLLM's is_valid_sequence with its default limits.
func validSequence(prompt, output int, skipOutputMin bool) bool {
	return prompt >= shareGPTMinLen &&
		(skipOutputMin || output >= shareGPTMinLen) &&
		prompt <= shareGPTMaxPromptLen &&
		prompt+output <= shareGPTMaxTotalLen
}

// shareGPTRecord is one element of the file's array.
type shareGPTRecord struct {
	Conversations []struct {
		From  string `json:"from"`
		Value string `json:"value"`
	} `json:"conversations"`
}

// readShareGPT decodes the array one record at a time and returns the
// first two turns of each record that has at least two.
func readShareGPT(r io.Reader, path string) ([]exchange, error) {
	dec, err := openJSONArray(r, path)
	if err != nil {
		return nil, err
	}
	var exs []exchange
	rec := 0
	for dec.More() {
		rec++
		var v shareGPTRecord
		if err := dec.Decode(&v); err != nil {
			return nil, &FileError{Path: path, Unit: "record", Pos: rec, Err: fmt.Errorf("byte %d: %w", dec.InputOffset(), err)}
		}
		if len(v.Conversations) >= 2 {
			exs = append(exs, exchange{prompt: v.Conversations[0].Value, reply: v.Conversations[1].Value})
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, &FileError{Path: path, Unit: "record", Pos: rec + 1, Err: fmt.Errorf("byte %d: %w", dec.InputOffset(), err)}
	}
	if len(exs) == 0 {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: none of %d records has two turns", ErrEmpty, rec)}
	}
	return exs, nil
}

// openJSONArray returns a decoder of r positioned after the '[' that opens
// the JSON array of records a ShareGPT file is; an empty file, a syntax
// error or another value is a *FileError.
func openJSONArray(r io.Reader, path string) (*json.Decoder, error) {
	dec := json.NewDecoder(r)
	t, err := dec.Token()
	if err == io.EOF {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: file is empty", ErrEmpty)}
	}
	if err != nil {
		return nil, &FileError{Path: path, Err: fmt.Errorf("byte %d: %w", dec.InputOffset(), err)}
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return nil, &FileError{Path: path, Err: fmt.Errorf("want a JSON array of records, found %v", t)}
	}
	return dec, nil
}
