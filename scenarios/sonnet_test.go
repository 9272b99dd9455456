package scenarios

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sonnetFixture = "testdata/datasets/sonnet.txt"

func TestSonnetRequests(t *testing.T) {
	tok := newFakeTok()
	data, err := os.ReadFile(sonnetFixture)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	lines = lines[:len(lines)-1] // the file ends with a newline
	total := 0
	for _, l := range lines {
		total += len(tok.Encode(l))
	}
	avg := float64(total) / float64(len(lines))
	b := float64(len(tok.Encode(SonnetInstruction)))
	wantLines := int(math.RoundToEven((550 - b) / avg))
	wantPrefix := int(math.RoundToEven((200 - b) / avg))
	require.Greater(t, wantPrefix, 2, "fixture too small for the test")
	shared := SonnetInstruction + strings.Join(lines[:wantPrefix], "")

	reqs, err := Sonnet{Path: sonnetFixture}.Requests(context.Background(), tok, 20, 1)
	require.NoError(t, err)
	require.Len(t, reqs, 20)
	distinct := map[string]bool{}
	for i, r := range reqs {
		assert.True(t, strings.HasPrefix(r.Prompt, shared), "Requests()[%d].Prompt does not start with the instruction and %d shared lines", i, wantPrefix)
		assert.Equal(t, 1+wantLines, strings.Count(r.Prompt, "\n"), "Requests()[%d] line count", i)
		assert.Equal(t, 150, r.MaxTokens, "Requests()[%d].MaxTokens", i)
		assert.Equal(t, len(tok.Encode(r.Prompt)), r.PromptTokens, "Requests()[%d].PromptTokens", i)
		assert.InDelta(t, 550, r.PromptTokens, 2*avg, "Requests()[%d].PromptTokens", i)
		distinct[r.Prompt] = true
	}
	assert.Greater(t, len(distinct), 15, "distinct prompts among 20")
	assert.Equal(t, "dataset=sonnet/file=sonnet.txt/in=550/out=150/prefix=200", Sonnet{Path: sonnetFixture}.String())
}

func TestSonnetSeed(t *testing.T) {
	tok := newFakeTok()
	d := Sonnet{Path: sonnetFixture, InputLen: 300, OutputLen: 20, PrefixLen: 100}
	a, err := d.Requests(context.Background(), tok, 10, 9)
	require.NoError(t, err)
	b, err := d.Requests(context.Background(), tok, 10, 9)
	require.NoError(t, err)
	c, err := d.Requests(context.Background(), tok, 10, 10)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same seed, different requests")
	assert.NotEqual(t, a, c, "different seeds, same requests")
}

func TestSonnetErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.txt")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	tests := []struct {
		name string
		d    Sonnet
		want string
	}{
		{"missing file", Sonnet{Path: "testdata/datasets/missing.txt"}, "missing.txt: open"},
		{"empty file", Sonnet{Path: empty}, "file is empty"},
		{"no path", Sonnet{}, "Sonnet.Path"},
		{"input below instruction", Sonnet{Path: sonnetFixture, InputLen: 5, PrefixLen: 1}, "Sonnet.InputLen (5) must be greater"},
		{"prefix above input", Sonnet{Path: sonnetFixture, InputLen: 100}, "Sonnet.PrefixLen (200)"},
		{"negative output", Sonnet{Path: sonnetFixture, OutputLen: -1}, "Sonnet.OutputLen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.d.Requests(context.Background(), newFakeTok(), 2, 1)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestReadLines(t *testing.T) {
	const text = "one\ntwo\r\n\nthree"
	want := []string{"one\n", "two\r\n", "\n", "three"}
	for name, r := range map[string]io.Reader{
		"plain":    strings.NewReader(text),
		"one byte": iotest.OneByteReader(strings.NewReader(text)),
		"half":     iotest.HalfReader(strings.NewReader(text)),
	} {
		got, err := readLines(r, "x")
		require.NoError(t, err, name)
		assert.Equal(t, want, got, "readLines(%s)", name)
	}
	_, err := readLines(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader([]byte(text)))), "x.txt")
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "line", fe.Unit)
	assert.Equal(t, 1, fe.Pos)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}
