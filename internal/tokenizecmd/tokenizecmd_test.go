package tokenizecmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios/tokenizer"
)

const qwen3Dir = "../../scenarios/tokenizer/testdata/qwen3"

var loadQwen3 = sync.OnceValues(func() (*tokenizer.Tokenizer, error) {
	return tokenizer.Load(qwen3Dir)
})

// TestRun: Run encodes, or decodes with decode set.
func TestRun(t *testing.T) {
	tok, err := loadQwen3()
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, Run(context.Background(), tok, false, strings.NewReader("\"Hello, world!\"\n"), &out))
	assert.Equal(t, "[9707,11,1879,0]\n", out.String(), "Run(encode) output")
	out.Reset()
	require.NoError(t, Run(context.Background(), tok, true, strings.NewReader("[9707,11,1879,0]\n"), &out))
	assert.Equal(t, "\"Hello, world!\"\n", out.String(), "Run(decode) output")
}

// TestProcess covers the line protocol with one loaded tokenizer.
func TestProcess(t *testing.T) {
	tok, err := loadQwen3()
	require.NoError(t, err)
	tests := []struct {
		name    string
		decode  bool
		in      string
		want    string
		wantErr string
	}{
		{
			name:   "decode, CRLF and no final newline",
			decode: true,
			in:     "[9707,11,1879,0]\r\n[151644,872,198,6023,151645]\r\n[]",
			want:   "\"Hello, world!\"\n\"<|im_start|>user\\nhi<|im_end|>\"\n\"\"\n",
		},
		{
			name:    "bad line named",
			in:      "\"ok\"\nnot json\n\"never read\"\n",
			want:    "[562]\n",
			wantErr: "line 2: want a JSON string",
		},
		{
			name:    "decode wants integers",
			decode:  true,
			in:      "[1]\n[1.5]\n",
			want:    "\"\\\"\"\n",
			wantErr: "line 2: want a JSON array of integer ids",
		},
		{
			name:    "empty line",
			in:      "\"a\"\n\n",
			want:    "[64]\n",
			wantErr: "line 2: empty line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			convert := encodeLine
			if tt.decode {
				convert = decodeLine
			}
			var out bytes.Buffer
			err := process(context.Background(), tok, convert, strings.NewReader(tt.in), &out)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, out.String(), "process(%q) output", tt.in)
		})
	}
}

// TestProcessReaders feeds the input through iotest readers.
func TestProcessReaders(t *testing.T) {
	tok, err := loadQwen3()
	require.NoError(t, err)
	in := "\"Hello, world!\"\n\"\\u00e9t\\u00e9 \\ud83d\\ude00\"\n"
	want := "[9707,11,1879,0]\n[38783,90316]\n"
	readers := map[string]func(io.Reader) io.Reader{
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
		"plain":   func(r io.Reader) io.Reader { return r },
	}
	for name, wrap := range readers {
		t.Run("reader="+name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, process(context.Background(), tok, encodeLine, wrap(strings.NewReader(in)), &out))
			assert.Equal(t, want, out.String())
		})
	}
	t.Run("reader=error-midstream", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(strings.NewReader("\"a\"\n\"b"), iotest.ErrReader(boom))
		var out bytes.Buffer
		err := process(context.Background(), tok, encodeLine, r, &out)
		require.ErrorIs(t, err, boom)
		assert.Contains(t, err.Error(), "line 2")
		assert.Equal(t, "[64]\n", out.String())
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := process(ctx, tok, encodeLine, strings.NewReader(in), io.Discard)
		require.ErrorIs(t, err, context.Canceled)
	})
}
