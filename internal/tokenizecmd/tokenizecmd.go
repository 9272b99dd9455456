package tokenizecmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/servingbench/servingbench/scenarios/tokenizer"
)

// Run converts stdin to stdout line by line with tok: each JSON string to
// its ids, or with decode each JSON array of ids to its text. It stops at
// the first malformed line, with an error naming its number, and when ctx
// is done.
func Run(ctx context.Context, tok *tokenizer.Tokenizer, decode bool, stdin io.Reader, stdout io.Writer) error {
	convert := encodeLine
	if decode {
		convert = decodeLine
	}
	return process(ctx, tok, convert, stdin, stdout)
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
