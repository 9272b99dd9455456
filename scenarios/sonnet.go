package scenarios

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// Sonnet is vLLM's sonnet dataset: prompts made of lines of a text file
// (vLLM ships benchmarks/sonnet.txt), all starting with the same lines so
// that a prefix cache can share them. The zero lengths are vLLM's defaults:
// InputLen 550, OutputLen 150, PrefixLen 200.
//
// With avg the mean token count of a line and b the token count of the
// instruction "Pick as many lines as you can from these poem lines:\n", a
// prompt is the instruction, then the file's first round((PrefixLen-b)/avg)
// lines, then round((InputLen-b)/avg) minus that many lines drawn at random
// with replacement (rounding half to even, as Python does). Lines keep
// their line ends. MaxTokens is OutputLen.
//
// vLLM measures b and the prompt length after applying the model's chat
// template, and by default sends the untemplated prompt to the server; a
// chat endpoint applies the template itself. servingbench.Tokenizer has no
// chat template, so b and PromptTokens are counts of the raw text: a few
// tokens fewer than vLLM's, and the line counts can differ by one from
// vLLM's for the same lengths.
type Sonnet struct {
	Path      string
	InputLen  int // tokens; 0 means 550
	OutputLen int // tokens; 0 means 150
	PrefixLen int // tokens; 0 means 200
}

var (
	_ Dataset      = Sonnet{}
	_ lengthScaler = Sonnet{}
)

// SonnetInstruction starts every Sonnet prompt.
const SonnetInstruction = "Pick as many lines as you can from these poem lines:\n"

// vLLM's defaults for the sonnet dataset.
const (
	DefaultSonnetInputLen  = 550
	DefaultSonnetOutputLen = 150
	DefaultSonnetPrefixLen = 200
)

func (d Sonnet) lens() (in, out, prefix int) {
	return cmpOr(d.InputLen, DefaultSonnetInputLen), cmpOr(d.OutputLen, DefaultSonnetOutputLen), cmpOr(d.PrefixLen, DefaultSonnetPrefixLen)
}

// String is "dataset=sonnet/file=NAME/in=I/out=O/prefix=P".
func (d Sonnet) String() string {
	in, out, prefix := d.lens()
	return fmt.Sprintf("dataset=sonnet/file=%s/in=%d/out=%d/prefix=%d", base(d.Path), in, out, prefix)
}

// Validate reports a bad field.
func (d Sonnet) Validate() error {
	in, _, prefix := d.lens()
	switch {
	case d.Path == "":
		return errors.New("scenarios: Sonnet.Path is empty")
	case d.InputLen < 0:
		return fmt.Errorf("scenarios: Sonnet.InputLen must be >= 0, got %d", d.InputLen)
	case d.OutputLen < 0:
		return fmt.Errorf("scenarios: Sonnet.OutputLen must be >= 0, got %d", d.OutputLen)
	case d.PrefixLen < 0:
		return fmt.Errorf("scenarios: Sonnet.PrefixLen must be >= 0, got %d", d.PrefixLen)
	case prefix > in:
		return fmt.Errorf("scenarios: Sonnet.PrefixLen (%d) must be <= InputLen (%d)", prefix, in)
	}
	return nil
}

// scaled sets OutputLen, and InputLen with PrefixLen keeping its share of
// the prompt (see Scale).
func (d Sonnet) scaled(in, out, _ int) (Dataset, []string) {
	d.OutputLen = cmpOr(out, d.OutputLen)
	if in != 0 {
		oldIn, _, prefix := d.lens()
		d.InputLen, d.PrefixLen = in, scaleShare(prefix, oldIn, in, 1, in)
	}
	return d, nil
}

// Requests reads the file and returns n requests.
func (d Sonnet) Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error) {
	lines, err := readDataset(ctx, "Sonnet", d, d.Path, tok, n, func(r io.Reader) ([]string, error) {
		return readLines(r, d.Path)
	})
	if err != nil {
		return nil, err
	}
	in, out, prefix := d.lens()
	lineLens := make([]int, len(lines))
	if err := parallel(ctx, len(lines), func(i int) { lineLens[i] = len(tok.Encode(lines[i])) }); err != nil {
		return nil, err
	}
	total := 0
	for _, l := range lineLens {
		total += l
	}
	avg := float64(total) / float64(len(lines))
	if avg == 0 {
		return nil, &FileError{Path: d.Path, Err: fmt.Errorf("%w: lines encode to no tokens", ErrEmpty)}
	}
	b := len(tok.Encode(SonnetInstruction))
	if in <= b {
		return nil, fmt.Errorf("scenarios: Sonnet.InputLen (%d) must be greater than the instruction's %d tokens", in, b)
	}
	numInput := int(math.RoundToEven(float64(in-b) / avg))
	numPrefix := min(max(int(math.RoundToEven(float64(prefix-b)/avg)), 0), len(lines))
	shared := SonnetInstruction + strings.Join(lines[:numPrefix], "")

	rng := newRand(seed, streamPick)
	picks := make([][]int, n)
	for i := range picks {
		picks[i] = make([]int, max(numInput-numPrefix, 0))
		for j := range picks[i] {
			picks[i][j] = rng.IntN(len(lines))
		}
	}
	reqs := make([]servingbench.Request, n)
	err = parallel(ctx, n, func(i int) {
		var sb strings.Builder
		sb.WriteString(shared)
		for _, k := range picks[i] {
			sb.WriteString(lines[k])
		}
		p := sb.String()
		reqs[i] = servingbench.Request{Prompt: p, PromptTokens: len(tok.Encode(p)), MaxTokens: out}
	})
	if err != nil {
		return nil, err
	}
	return reqs, nil
}

// readLines returns the lines of r with their line ends, as Python's
// readlines does; it fails on an empty file.
func readLines(r io.Reader, path string) ([]string, error) {
	br := bufio.NewReader(r)
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, &FileError{Path: path, Unit: "line", Pos: len(lines) + 1, Err: err}
		}
		if line != "" {
			lines = append(lines, line)
		}
		if err == io.EOF {
			break
		}
	}
	if len(lines) == 0 {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: file is empty", ErrEmpty)}
	}
	return lines, nil
}
