package scenarios

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios/tokenizer"
)

var qwen3Tok struct {
	once sync.Once
	tok  *tokenizer.Tokenizer
	err  error
}

// qwen3 is the real Qwen3 tokenizer of tokenizer/testdata, loaded once.
func qwen3(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	q := &qwen3Tok
	q.once.Do(func() { q.tok, q.err = tokenizer.Load("tokenizer/testdata/qwen3") })
	require.NoError(t, q.err)
	return q.tok
}

func TestSyntheticFixed(t *testing.T) {
	tok := qwen3(t)
	d := Synthetic{
		Turns:     Uniform(2, 4),
		SystemLen: Constant(40),
		PrefixLen: Uniform(10, 20),
		UserLen:   Uniform(20, 30),
		OutputLen: Uniform(5, 9),
		Think:     Uniform(500, 1500),
	}
	assert.Equal(t, "dataset=synthetic/turns=uniform-2-4/system=constant-40/prefix=uniform-10-20/user=uniform-20-30/out=uniform-5-9/think=uniform-500-1500", d.String())
	convs, err := d.Conversations(context.Background(), tok, 3, 1)
	require.NoError(t, err)
	require.Len(t, convs, 3)

	type turn struct {
		user, out int
		think     time.Duration
	}
	got := make([][]turn, len(convs))
	for i, c := range convs {
		assert.Equal(t, convs[0].System, c.System, "the system prompt is shared")
		for k, tr := range c.Turns {
			assert.Equal(t, len(tok.Encode(tr.User)), tr.UserTokens, "conversation %d turn %d: UserTokens is the tokenizer's count", i, k)
			assert.Empty(t, tr.Reply)
			got[i] = append(got[i], turn{tr.UserTokens, tr.MaxTokens, tr.Think})
		}
	}
	assert.Len(t, tok.Encode(convs[0].System), 40, "system prompt tokens")
	// Seed 1's draws: the first turn is prefix + user tokens; think
	// times after the first turn only.
	ms := time.Millisecond
	assert.Equal(t, [][]turn{
		{{33, 7, 0}, {30, 6, 797 * ms}, {27, 6, 902 * ms}, {22, 6, 1375 * ms}},
		{{47, 7, 0}, {26, 8, 845 * ms}},
		{{31, 5, 0}, {23, 9, 887 * ms}, {23, 8, 1118 * ms}},
	}, got)
	assert.Equal(t, []string{"synthetic-0", "synthetic-1", "synthetic-2"}, []string{convs[0].ID, convs[1].ID, convs[2].ID})

	again, err := d.Conversations(context.Background(), tok, 3, 1)
	require.NoError(t, err)
	assert.Equal(t, convs, again, "same seed, same conversations")
	other, err := d.Conversations(context.Background(), tok, 3, 2)
	require.NoError(t, err)
	assert.NotEqual(t, convs[0].Turns[0].User, other[0].Turns[0].User, "another seed, other texts")
}

// TestSyntheticExactLengths: with constant lengths every message encodes
// to exactly its length with the real Qwen3 tokenizer, the first one to
// prefix + first-message tokens.
func TestSyntheticExactLengths(t *testing.T) {
	tok := qwen3(t)
	d := Synthetic{
		Turns:        Constant(5),
		SystemLen:    Constant(300),
		PrefixLen:    Constant(13),
		FirstUserLen: Constant(5),
		UserLen:      Constant(37),
		OutputLen:    Constant(11),
	}
	convs, err := d.Conversations(context.Background(), tok, 20, 9)
	require.NoError(t, err)
	require.Len(t, convs, 20)
	firsts := map[string]bool{}
	for i, c := range convs {
		require.Len(t, c.Turns, 5)
		require.Len(t, tok.Encode(c.System), 300)
		for k, tr := range c.Turns {
			want := 37
			if k == 0 {
				want = 13 + 5
			}
			assert.Len(t, tok.Encode(tr.User), want, "conversation %d turn %d", i, k)
			assert.Equal(t, want, tr.UserTokens, "conversation %d turn %d UserTokens", i, k)
			assert.Equal(t, 11, tr.MaxTokens)
			assert.Zero(t, tr.Think, "no Think distribution")
		}
		first := tok.Decode(tok.Encode(c.Turns[0].User)[:4])
		assert.False(t, firsts[first], "conversation %d starts as another does: %q", i, first)
		firsts[first] = true
	}
}

func TestSyntheticErrors(t *testing.T) {
	tok := newFakeTok()
	ok := Synthetic{Turns: Constant(2), UserLen: Constant(8), OutputLen: Constant(4)}
	tests := []struct {
		name string
		d    Synthetic
		want string
	}{
		{"no-turns", Synthetic{UserLen: Constant(8), OutputLen: Constant(4)}, "scenarios: Synthetic.Turns is unset"},
		{"no-user", Synthetic{Turns: Constant(2), OutputLen: Constant(4)}, "scenarios: Synthetic.UserLen is unset"},
		{"no-output", Synthetic{Turns: Constant(2), UserLen: Constant(4)}, "scenarios: Synthetic.OutputLen is unset"},
		{"bad-think", func() Synthetic { d := ok; d.Think = Uniform(3, 1); return d }(), "scenarios: Synthetic.Think: uniform: want 0 <= Min <= Max, got Min 3, Max 1"},
		{"bad-system", func() Synthetic { d := ok; d.SystemLen = Zipf(0.5, 0); return d }(), "scenarios: Synthetic.SystemLen: zipf: Alpha must be > 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.d.Conversations(context.Background(), tok, 2, 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := ok.Conversations(context.Background(), tok, -1, 0)
	assert.ErrorContains(t, err, "scenarios: Synthetic: n must be >= 0, got -1")
	convs, err := ok.Conversations(context.Background(), tok, 0, 0)
	require.NoError(t, err)
	assert.Empty(t, convs)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ok.Conversations(ctx, tok, 10, 0)
	assert.ErrorIs(t, err, context.Canceled)
}
