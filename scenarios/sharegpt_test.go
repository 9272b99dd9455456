package scenarios

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

const shareGPTFixture = "testdata/datasets/sharegpt.json"

// shareGPTPassing are the first turns of the fixture's records that pass
// vLLM's filters with the fake tokenizer and no OutputLen.
var shareGPTPassing = []string{
	"What is the boiling point of water at sea level?",
	"Explain in a few words why the sky is blue during the day.",
	"Give me three names for a small black cat, please.",
	"This record starts with the model's turn, which vLLM still uses as the prompt.",
	"Traduisez « bonjour le monde » en anglais, s'il vous plaît.",
}

func prompts(reqs []servingbench.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Prompt
	}
	return out
}

func TestShareGPTRequests(t *testing.T) {
	tok := newFakeTok()
	reqs, err := ShareGPT{Path: shareGPTFixture}.Requests(context.Background(), tok, 5, 1)
	require.NoError(t, err)
	assert.ElementsMatch(t, shareGPTPassing, prompts(reqs), "ShareGPT.Requests(context.Background(), 5) prompts")
	for i, r := range reqs {
		assert.Equal(t, len(tok.Encode(r.Prompt)), r.PromptTokens, "Requests()[%d].PromptTokens", i)
		assert.GreaterOrEqual(t, r.MaxTokens, 4, "Requests()[%d].MaxTokens", i)
	}
	// The reply of the sky question is its second turn, not its fourth.
	for _, r := range reqs {
		if strings.HasPrefix(r.Prompt, "Explain") {
			assert.Equal(t, len(tok.Encode("Sunlight is scattered by the air, and blue light is scattered more than red light.")), r.MaxTokens)
		}
	}
}

func TestShareGPTOutputLen(t *testing.T) {
	tok := newFakeTok()
	// With OutputLen set the short reply "Ok." no longer disqualifies the
	// poem record; "Hi" is still too short a prompt.
	reqs, err := ShareGPT{Path: shareGPTFixture, OutputLen: 50}.Requests(context.Background(), tok, 6, 1)
	require.NoError(t, err)
	want := append([]string{"Write a short poem about the sea and the wind."}, shareGPTPassing...)
	assert.ElementsMatch(t, want, prompts(reqs))
	for i, r := range reqs {
		assert.Equal(t, 50, r.MaxTokens, "Requests()[%d].MaxTokens", i)
	}
}

func TestShareGPTOversampleAndSeed(t *testing.T) {
	tok := newFakeTok()
	d := ShareGPT{Path: shareGPTFixture}
	a, err := d.Requests(context.Background(), tok, 12, 5)
	require.NoError(t, err)
	require.Len(t, a, 12)
	assert.Subset(t, shareGPTPassing, prompts(a))
	assert.ElementsMatch(t, shareGPTPassing, prompts(a[:5]), "the first requests are each passing record once")

	b, err := d.Requests(context.Background(), tok, 12, 5)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same seed, different requests")
	orders := map[string]bool{}
	for seed := range uint64(8) {
		c, err := d.Requests(context.Background(), tok, 5, seed)
		require.NoError(t, err)
		orders[strings.Join(prompts(c), "|")] = true
	}
	assert.Greater(t, len(orders), 1, "8 seeds gave one order")
}

func TestShareGPTBadFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	tests := []struct {
		path string
		unit string
		pos  int
		want string
	}{
		{"testdata/datasets/missing.json", "", 0, "no such file"},
		{empty, "", 0, "file is empty"},
		{"testdata/datasets/sharegpt_empty_array.json", "", 0, "none of 0 records"},
		{"testdata/datasets/sharegpt_not_array.json", "", 0, "want a JSON array"},
		{"testdata/datasets/sharegpt_bad_record.json", "record", 3, "cannot unmarshal number"},
		{"testdata/datasets/sharegpt_truncated.json", "record", 3, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			_, err := ShareGPT{Path: tt.path}.Requests(context.Background(), newFakeTok(), 3, 1)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.path, fe.Path)
			assert.Equal(t, tt.unit, fe.Unit)
			assert.Equal(t, tt.pos, fe.Pos)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), tt.path)
		})
	}
	_, err := ShareGPT{Path: "testdata/datasets/missing.json"}.Requests(context.Background(), newFakeTok(), 1, 1)
	assert.True(t, errors.Is(err, fs.ErrNotExist), "missing file error %v does not wrap fs.ErrNotExist", err)
	_, err = ShareGPT{}.Requests(context.Background(), newFakeTok(), 1, 1)
	assert.ErrorContains(t, err, "ShareGPT.Path")
	_, err = ShareGPT{Path: shareGPTFixture, OutputLen: -1}.Requests(context.Background(), newFakeTok(), 1, 1)
	assert.ErrorContains(t, err, "ShareGPT.OutputLen")
}

func TestShareGPTNothingPasses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "short.json")
	require.NoError(t, os.WriteFile(path, []byte(`[{"conversations":[{"value":"Hi"},{"value":"Yo"}]}]`), 0o600))
	_, err := ShareGPT{Path: path}.Requests(context.Background(), newFakeTok(), 1, 1)
	require.ErrorIs(t, err, ErrEmpty)
	assert.ErrorContains(t, err, "length filters")
}

func TestReadShareGPTReaders(t *testing.T) {
	data, err := os.ReadFile(shareGPTFixture)
	require.NoError(t, err)
	want, err := readShareGPT(bytes.NewReader(data), "x")
	require.NoError(t, err)
	require.Len(t, want, 7)
	readers := map[string]func() io.Reader{
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"data err": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			got, err := readShareGPT(r(), "x")
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	t.Run("error mid-stream", func(t *testing.T) {
		r := iotest.TimeoutReader(iotest.HalfReader(bytes.NewReader(data)))
		_, err := readShareGPT(r, "x")
		require.ErrorIs(t, err, iotest.ErrTimeout)
	})
}

func TestValidSequence(t *testing.T) {
	tests := []struct {
		prompt, output int
		skip           bool
		want           bool
	}{
		{4, 4, false, true},
		{3, 100, false, false},
		{100, 3, false, false},
		{100, 3, true, true},
		{1024, 1024, false, true},
		{1025, 4, false, false},
		{1024, 1025, false, false},
		{1000, 1049, true, false},
	}
	for _, tt := range tests {
		got := validSequence(tt.prompt, tt.output, tt.skip)
		assert.Equal(t, tt.want, got, "validSequence(%d, %d, %v) = %v, want %v", tt.prompt, tt.output, tt.skip, got, tt.want)
	}
}

func FuzzReadShareGPT(f *testing.F) {
	data, err := os.ReadFile(shareGPTFixture)
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte(`[{"conversations":[{"value":"a"},{"value":"b"}]}]`))
	f.Add([]byte(`[1, 2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		exs, err := readShareGPT(bytes.NewReader(data), "f")
		if err != nil {
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			return
		}
		require.NotEmpty(t, exs)
	})
}
