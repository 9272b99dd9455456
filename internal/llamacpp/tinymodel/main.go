// Command tinymodel writes the conformance suite's model (see
// llamacpp.TinyModel) from the built-in Qwen3 tokenizer:
//
//	go run ./internal/llamacpp/tinymodel -o tiny-qwen3-chain-f16.gguf
//
// .ci/install-llamacpp runs it. The output is the same on every run; it
// is written to OUT.tmp and renamed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/servingbench/servingbench/internal/hftok/builtin"
	"github.com/servingbench/servingbench/internal/llamacpp"
)

func main() {
	out := flag.String("o", "", "output GGUF file (required)")
	var m llamacpp.TinyModel
	flag.StringVar(&m.Name, "name", "", "general.name (default tiny-qwen3-chain)")
	flag.Uint64Var(&m.Seed, "seed", 0, "weights seed")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, m); err != nil {
		fmt.Fprintln(os.Stderr, "tinymodel:", err)
		os.Exit(1)
	}
}

func run(out string, m llamacpp.TinyModel) error {
	tj, cj, err := builtin.Qwen3()
	if err != nil {
		return err
	}
	g, err := m.Build(tj, cj)
	if err != nil {
		return err
	}
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = g.WriteTo(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out + ".tmp")
		return err
	}
	return os.Rename(out+".tmp", out)
}
