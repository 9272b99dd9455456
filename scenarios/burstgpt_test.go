package scenarios

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

const burstFixture = "testdata/datasets/burstgpt.csv"

func TestBurstGPT(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		d        BurstGPT
		n        int
		wantOut  []int
		wantIn   []int
		wantTime servingbench.Trace
	}{
		{"GPT-4 rows", BurstGPT{Path: burstFixture}, 6,
			[]int{40, 110, 7, 25, 200, 45}, []int{120, 250, 18, 400, 75, 90},
			servingbench.Trace{0, 5 * s, 5 * s, 12 * s, 20 * s, 34 * s}},
		{"first rows only", BurstGPT{Path: burstFixture}, 2,
			[]int{40, 110}, []int{120, 250}, servingbench.Trace{0, 5 * s}},
		{"conversation log", BurstGPT{Path: burstFixture, LogType: "Conversation log"}, 4,
			[]int{40, 7, 25, 45}, []int{120, 18, 400, 90}, servingbench.Trace{0, 5 * s, 12 * s, 34 * s}},
		{"any model", BurstGPT{Path: burstFixture, Model: "*"}, 3,
			[]int{40, 90, 110}, []int{120, 300, 250}, servingbench.Trace{0, 1 * s, 5 * s}},
		{"ChatGPT from its first row", BurstGPT{Path: burstFixture, Model: "ChatGPT"}, 3,
			[]int{90, 12, 60}, []int{300, 33, 510}, servingbench.Trace{0, 8 * s, 20 * s}},
	}
	tok := newFakeTok()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, err := tt.d.Requests(context.Background(), tok, tt.n, 1)
			require.NoError(t, err)
			require.Len(t, reqs, tt.n)
			for i, r := range reqs {
				assert.Equal(t, tt.wantOut[i], r.MaxTokens, "Requests()[%d].MaxTokens", i)
				assert.Equal(t, len(tok.Encode(r.Prompt)), r.PromptTokens, "Requests()[%d].PromptTokens", i)
				ids := make([]int, tt.wantIn[i])
				for j := range ids {
					ids[j] = (i + j) % tok.VocabSize()
				}
				assert.Equal(t, tok.Decode(ids), r.Prompt, "Requests()[%d].Prompt", i)
			}
			arr, err := tt.d.Arrival(tt.n, 1)
			require.NoError(t, err)
			assert.Equal(t, tt.wantTime, arr)
		})
	}
	assert.Equal(t, "dataset=burstgpt/file=burstgpt.csv/model=GPT-4/log=Conversation log", BurstGPT{Path: burstFixture, LogType: "Conversation log"}.String())
}

func TestBurstGPTBadFiles(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.csv")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	tests := []struct {
		d    BurstGPT
		n    int
		pos  int
		want string
	}{
		{BurstGPT{Path: "testdata/datasets/missing.csv"}, 1, 0, "no such file"},
		{BurstGPT{Path: empty}, 1, 0, "file is empty"},
		{BurstGPT{Path: burstFixture}, 7, 0, "6 rows match"},
		{BurstGPT{Path: "testdata/datasets/burstgpt_missing_column.csv"}, 1, 1, `missing column "Response tokens"`},
		{BurstGPT{Path: "testdata/datasets/burstgpt_bad_timestamp.csv"}, 2, 3, `bad Timestamp "soon"`},
		{BurstGPT{Path: "testdata/datasets/burstgpt_short_row.csv"}, 2, 3, "wrong number of fields"},
		{BurstGPT{Path: "testdata/datasets/burstgpt_decreasing.csv"}, 2, 3, "before the previous row"},
		{BurstGPT{Path: "testdata/datasets/burstgpt_bad_count.csv"}, 1, 2, "bad token count"},
		{BurstGPT{Path: "testdata/datasets/burstgpt_huge_timestamp.csv"}, 2, 3, "after the first row"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.d.Path), func(t *testing.T) {
			_, err := tt.d.Requests(context.Background(), newFakeTok(), tt.n, 1)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.d.Path, fe.Path)
			assert.Equal(t, tt.pos, fe.Pos, "error %v", err)
			assert.ErrorContains(t, err, tt.want)
			_, err = tt.d.Arrival(tt.n, 1)
			assert.ErrorContains(t, err, tt.want, "Arrival")
		})
	}
	_, err := BurstGPT{}.Requests(context.Background(), newFakeTok(), 1, 1)
	assert.ErrorContains(t, err, "BurstGPT.Path")
}

func TestReadBurstGPTReaders(t *testing.T) {
	data, err := os.ReadFile(burstFixture)
	require.NoError(t, err)
	want, err := readBurstGPT(bytes.NewReader(data), "x", "GPT-4", "", 100)
	require.NoError(t, err)
	require.Len(t, want, 6)
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(data)),
		"half":     iotest.HalfReader(bytes.NewReader(data)),
		"data err": iotest.DataErrReader(bytes.NewReader(data)),
	} {
		got, err := readBurstGPT(r, "x", "GPT-4", "", 100)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, "readBurstGPT(%s)", name)
	}
	_, err = readBurstGPT(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(data))), "x", "GPT-4", "", 100)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}

func FuzzReadBurstGPT(f *testing.F) {
	data, err := os.ReadFile(burstFixture)
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte("Timestamp,Model,Request tokens,Response tokens\n1e3,GPT-4,1,1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := readBurstGPT(bytes.NewReader(data), "f", "*", "", 50)
		if err != nil {
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			return
		}
		for i, r := range rows {
			require.Positive(t, r.input, "row %d input", i)
			require.Positive(t, r.output, "row %d output", i)
			if i > 0 {
				require.GreaterOrEqual(t, r.at, rows[i-1].at, "row %d offset", i)
			}
		}
	})
}
