package scenarios

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCatalog(t *testing.T) {
	tok := newFakeTok()
	names := map[string]bool{}
	for _, s := range Catalog() {
		t.Run(s.Name, func(t *testing.T) {
			require.NoError(t, s.Validate())
			assert.False(t, names[s.Name], "duplicate name %q", s.Name)
			names[s.Name] = true
			got, ok := Lookup(s.Name)
			require.True(t, ok, "Lookup(%q) not found", s.Name)
			assert.Equal(t, s.String(), got.String())
			// Prepare a small copy: the catalog's sizes are for servers.
			small := s
			small.NumPrompts = 10
			reqs, arr, err := small.Prepare(context.Background(), tok)
			require.NoError(t, err)
			assert.Len(t, reqs, 10)
			assert.Len(t, arr.Offsets(10), 10)
		})
	}
	_, ok := Lookup("nope")
	assert.False(t, ok, "Lookup(nope) found")
}

func TestSeedRandom256(t *testing.T) {
	s := SeedRandom256()
	assert.Equal(t, "scenario=seed-random256/dataset=random/in=256/out=128/n=640/rate=inf/warmup=true", s.String())
	reqs, arr, err := s.Prepare(context.Background(), newFakeTok())
	require.NoError(t, err)
	require.Len(t, reqs, 640)
	for i, r := range reqs {
		require.Equal(t, 128, r.MaxTokens, "Requests()[%d].MaxTokens", i)
	}
	for i, off := range arr.Offsets(640) {
		require.Zero(t, off, "Offsets()[%d] at rate inf", i)
	}
}

func TestShareGPTChat(t *testing.T) {
	s := ShareGPTChat(shareGPTFixture)
	s.NumPrompts = 3
	reqs, _, err := s.Prepare(context.Background(), newFakeTok())
	require.NoError(t, err)
	assert.Len(t, reqs, 3)
	assert.Equal(t, "scenario=sharegpt/dataset=sharegpt/file=sharegpt.json/n=3/rate=inf", s.String())
}

func TestSweeps(t *testing.T) {
	base := Chat()
	rs := RateSweep(base, 1, 8, 32.5)
	require.Len(t, rs, 3)
	for i, want := range []string{"rate=1", "rate=8", "rate=32.5"} {
		assert.True(t, strings.HasSuffix(rs[i].String(), "/"+want), "RateSweep[%d].String() = %s, want suffix /%s", i, rs[i].String(), want)
		assert.Equal(t, base.Dataset, rs[i].Dataset)
	}
	assert.Equal(t, float64(8), base.RequestRate, "RateSweep changed base")

	cs := ConcurrencySweep(SeedRandom256(), 16, 64)
	require.Len(t, cs, 2)
	assert.Contains(t, cs[0].String(), "/concurrency=16/")
	assert.Contains(t, cs[1].String(), "/concurrency=64/")
	assert.Empty(t, RateSweep(base))
}
