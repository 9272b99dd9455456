package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/servingbench/servingbench/internal/tokenizecmd"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
)

// runTokenize is "servingbench tokenize [--tokenizer PATH] [--model NAME]
// [--decode]": it turns JSON strings on stdin into JSON arrays of ids on
// stdout, or back with --decode (internal/tokenizecmd), with the tokenizer
// a benchmark would use. With neither --tokenizer nor a resolvable --model
// the built-in Qwen3 tokenizer is used and a one-line note goes to stderr.
// -h prints the usage to stderr and succeeds; a bad command line is a
// usageError. args excludes "tokenize".
func runTokenize(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned and printed once, by main
	tokenizerFlag := fs.String("tokenizer", "", "tokenizer.json, model directory or HuggingFace cache name (ORG/NAME)")
	modelFlag := fs.String("model", "", "model path or name, used as the tokenizer when --tokenizer is absent")
	decode := fs.Bool("decode", false, "read JSON arrays of ids, write JSON strings")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: servingbench tokenize [--tokenizer PATH] [--model NAME] [--decode] < lines")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return nil
		}
		return flagParseError("tokenize", err, args)
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("tokenize: unexpected argument %q", fs.Arg(0))}
	}
	r, err := tokenizer.Resolve(*tokenizerFlag, *modelFlag)
	if err != nil {
		return fmt.Errorf("tokenize: --tokenizer: %w", err)
	}
	if note := tokenizerNote(r); note != "" {
		fmt.Fprintln(stderr, "tokenize:", note)
	}
	return tokenizecmd.Run(ctx, r.Tokenizer, *decode, stdin, stdout)
}
