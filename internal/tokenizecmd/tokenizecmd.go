package tokenizecmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"io"
)

// Run executes the subcommand. args are the arguments after "tokenize":
//
//	--tokenizer PATH  tokenizer.json, model directory or HuggingFace cache
//	                  name (ORG/NAME)
//	--model NAME      used as the tokenizer when --tokenizer is absent
//	--decode          read id arrays, write strings
//
// With neither --tokenizer nor a resolvable --model the built-in Qwen3
// tokenizer is used and a one-line note goes to stderr.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tokenizerFlag := fs.String("tokenizer", "", "tokenizer.json, model directory or HuggingFace cache name (ORG/NAME)")
	modelFlag := fs.String("model", "", "model path or name, used as the tokenizer when --tokenizer is absent")
	decode := fs.Bool("decode", false, "read JSON arrays of ids, write JSON strings")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: servingbench tokenize [--tokenizer PATH] [--model NAME] [--decode] < lines")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tokenize: unexpected argument %q", fs.Arg(0))
	}
	r, err := tokenizer.Resolve(*tokenizerFlag, *modelFlag)
	if err != nil {
		return fmt.Errorf("tokenize: --tokenizer: %w", err)
	}
	if r.IsDefault() {
		fmt.Fprintln(stderr, "tokenize:", defaultNote(r))
	}
	tok := r.Tokenizer
	convert := encodeLine
	if *decode {
		convert = decodeLine
	}
	return process(ctx, tok, convert, stdin, stdout)
}

// defaultNote is the one line that says the built-in tokenizer stands in,
// in the terms of the tokenize flags.
func defaultNote(r tokenizer.Resolution) string {
	why := "no --tokenizer or --model given"
	if r.Model != "" {
		if _, ok := tokenizer.NotFound(r.ModelErr); ok {
			why = fmt.Sprintf("no tokenizer found for --model %q", r.Model)
		} else {
			why = fmt.Sprintf("tokenizer for --model %q unusable (%v)", r.Model, r.ModelErr)
		}
	}
	return why + "; using the built-in Qwen3 tokenizer (pass --tokenizer PATH for exact counts)"
}

// convertFunc turns one input line into one output value (JSON-encoded).
type convertFunc func(tok *tokenizer.Tokenizer, line []byte) (any, error)

func encodeLine(tok *tokenizer.Tokenizer, line []byte) (any, error) {
	var text string
	if err := json.Unmarshal(line, &text); err != nil {
		return nil, fmt.Errorf("want a JSON string: %w", err)
	}
	ids := tok.Encode(text)
	if ids == nil {
		ids = []int{}
	}
	return ids, nil
}

func decodeLine(tok *tokenizer.Tokenizer, line []byte) (any, error) {
	var ids []int
	if err := json.Unmarshal(line, &ids); err != nil {
		return nil, fmt.Errorf("want a JSON array of integer ids: %w", err)
	}
	if ids == nil {
		return nil, errors.New("want a JSON array of integer ids, got null")
	}
	return tok.Decode(ids), nil
}

func process(ctx context.Context, tok *tokenizer.Tokenizer, convert convertFunc, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			out.Flush()
			return err
		}
		if in.Buffered() == 0 { // about to block: let a reader see what is done
			if err := out.Flush(); err != nil {
				return fmt.Errorf("tokenize: writing output: %w", err)
			}
		}
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			out.Flush()
			return fmt.Errorf("tokenize: line %d: reading input: %w", n, err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			out.Flush()
			return fmt.Errorf("tokenize: line %d: empty line", n)
		}
		v, cerr := convert(tok, line)
		if cerr != nil {
			out.Flush()
			return fmt.Errorf("tokenize: line %d: %w", n, cerr)
		}
		if werr := enc.Encode(v); werr != nil {
			return fmt.Errorf("tokenize: writing output: %w", werr)
		}
		if err == io.EOF {
			break
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("tokenize: writing output: %w", err)
	}
	return nil
}
