package scenarios

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const customFixture = "testdata/datasets/custom.jsonl"

func TestCustomRequests(t *testing.T) {
	tok := newFakeTok()
	tests := []struct {
		name string
		d    Custom
		want map[string]int // prompt -> MaxTokens
	}{
		{"default output", Custom{Path: customFixture}, map[string]int{
			"What is the capital of France?":         256,
			"Name three primary colours.":            16,
			"Write a haiku about autumn leaves.":     40,
			"Translate 'good morning' into Spanish.": 256,
		}},
		{"output 64", Custom{Path: customFixture, OutputLen: 64}, map[string]int{
			"What is the capital of France?":         64,
			"Name three primary colours.":            16,
			"Write a haiku about autumn leaves.":     40,
			"Translate 'good morning' into Spanish.": 64,
		}},
		{"output 64 for every line", Custom{Path: customFixture, OutputLen: 64, IgnoreOutputTokens: true}, map[string]int{
			"What is the capital of France?":         64,
			"Name three primary colours.":            64,
			"Write a haiku about autumn leaves.":     64,
			"Translate 'good morning' into Spanish.": 64,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, err := tt.d.Requests(context.Background(), tok, 4, 1)
			require.NoError(t, err)
			got := map[string]int{}
			for i, r := range reqs {
				got[r.Prompt] = r.MaxTokens
				assert.Equal(t, len(tok.Encode(r.Prompt)), r.PromptTokens, "Requests()[%d].PromptTokens", i)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCustomOrderAndCount(t *testing.T) {
	tok := newFakeTok()
	reqs, err := Custom{Path: customFixture, NoShuffle: true}.Requests(context.Background(), tok, 2, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"What is the capital of France?", "Name three primary colours."}, prompts(reqs))

	reqs, err = Custom{Path: customFixture}.Requests(context.Background(), tok, 10, 1)
	require.NoError(t, err)
	require.Len(t, reqs, 10)
	for i, r := range reqs {
		assert.Positive(t, r.PromptTokens, "oversampled Requests()[%d].PromptTokens", i)
	}

	orders := map[string]bool{}
	for seed := range uint64(8) {
		reqs, err := Custom{Path: customFixture}.Requests(context.Background(), tok, 4, seed)
		require.NoError(t, err)
		orders[strings.Join(prompts(reqs), "|")] = true
	}
	assert.Greater(t, len(orders), 1, "8 seeds gave one order")
}

func TestCustomBadFiles(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, []byte("\n\n"), 0o600))
	tests := []struct {
		path string
		pos  int
		want string
	}{
		{"testdata/datasets/missing.jsonl", 0, "no such file"},
		{empty, 0, "no JSON lines"},
		{"testdata/datasets/custom_bad_json.jsonl", 3, "unexpected end of JSON input"},
		{"testdata/datasets/custom_missing_prompt.jsonl", 2, `missing string field "prompt"`},
		{"testdata/datasets/custom_bad_output.jsonl", 4, `"output_tokens" must be >= 1, got 0`},
		{"testdata/datasets/custom_prompt_not_string.jsonl", 1, "cannot unmarshal number"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			_, err := Custom{Path: tt.path}.Requests(context.Background(), newFakeTok(), 2, 1)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.path, fe.Path)
			assert.Equal(t, tt.pos, fe.Pos, "error %v", err)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	_, err := Custom{}.Requests(context.Background(), newFakeTok(), 1, 1)
	assert.ErrorContains(t, err, "Custom.Path")
}

func TestReadCustomReaders(t *testing.T) {
	data, err := os.ReadFile(customFixture)
	require.NoError(t, err)
	want, err := readCustom(strings.NewReader(string(data)), "x", 7, false)
	require.NoError(t, err)
	require.Len(t, want, 4)
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(strings.NewReader(string(data))),
		"half":     iotest.HalfReader(strings.NewReader(string(data))),
		"data err": iotest.DataErrReader(strings.NewReader(string(data))),
	} {
		got, err := readCustom(r, "x", 7, false)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, "readCustom(%s)", name)
	}
	_, err = readCustom(iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(string(data)))), "x", 7, false)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}

func FuzzReadCustom(f *testing.F) {
	f.Add([]byte("{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"output_tokens\": 3}\n"))
	f.Add([]byte("{\"prompt\": 1}\n"))
	f.Add([]byte("\n\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, err := readCustom(bytes.NewReader(data), "f", 9, false)
		if err != nil {
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			return
		}
		require.NotEmpty(t, reqs)
		for i, r := range reqs {
			require.Positive(t, r.MaxTokens, "readCustom()[%d].MaxTokens", i)
		}
	})
}

func TestCustomIgnoreOutputTokens(t *testing.T) {
	d := Custom{Path: customFixture, OutputLen: 5, IgnoreOutputTokens: true}
	assert.Equal(t, "dataset=custom/file=custom.jsonl/out=5/output-tokens=ignored", d.String())
	assert.Equal(t, "dataset=custom/file=custom.jsonl/out=256/shuffle=false/output-tokens=ignored", Custom{Path: customFixture, NoShuffle: true, IgnoreOutputTokens: true}.String())
	// An ignored "output_tokens" must still be valid: the file is malformed.
	_, err := Custom{Path: "testdata/datasets/custom_bad_output.jsonl", IgnoreOutputTokens: true}.Requests(context.Background(), newFakeTok(), 2, 1)
	assert.ErrorContains(t, err, `"output_tokens" must be >= 1`)
}
