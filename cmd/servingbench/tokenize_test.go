package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		in      string
		want    string
		wantErr string
		usage   bool
		note    bool
	}{
		{
			name: "encode",
			args: []string{"--tokenizer", qwen3},
			in:   "\"Hello, world!\"\n\"<|im_start|>user\\nhi<|im_end|>\"\n\"\"\n",
			want: "[9707,11,1879,0]\n[151644,872,198,6023,151645]\n[]\n",
		},
		{
			name: "decode",
			args: []string{"--tokenizer", qwen3, "--decode"},
			in:   "[9707,11,1879,0]\n",
			want: "\"Hello, world!\"\n",
		},
		{
			name: "built-in default with a note",
			args: nil,
			in:   "\"Hello, world!\"\n",
			want: "[9707,11,1879,0]\n",
			note: true,
		},
		{
			name:    "missing tokenizer",
			args:    []string{"--tokenizer", "acme/does-not-exist"},
			wantErr: "no tokenizer for \"acme/does-not-exist\"",
		},
		{
			name:    "stray argument",
			args:    []string{"--tokenizer", qwen3, "extra"},
			wantErr: "tokenize: unexpected argument \"extra\"",
			usage:   true,
		},
		{
			name:    "unknown flag",
			args:    []string{"--bogus"},
			wantErr: "tokenize: flag provided but not defined: --bogus (see servingbench tokenize -h)",
			usage:   true,
		},
		{
			name:    "flag without its value",
			args:    []string{"-tokenizer"},
			wantErr: "tokenize: flag needs an argument: -tokenizer (see servingbench tokenize -h)",
			usage:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HF_HUB_CACHE", t.TempDir())
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"tokenize"}, tt.args...), strings.NewReader(tt.in), &stdout, &stderr)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				var u usageError
				assert.Equal(t, tt.usage, errors.As(err, &u), "tokenize %q: usage error (exit status 2)", tt.args)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, stdout.String(), "tokenize %v stdout", tt.args)
			if tt.note {
				assert.Contains(t, stderr.String(), "built-in Qwen3")
			} else {
				assert.Empty(t, stderr.String())
			}
		})
	}
}
