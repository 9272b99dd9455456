package servingbench

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGapPercentiles: the ITL percentiles Summarize selects from the
// Results' events are exactly numpy's over the sorted gaps
// (durationPercentile), for gaps that are all equal, one gap, duplicates,
// negative gaps of a Result made by hand, gaps over the whole int64 range
// and many random ones; failed and nil Results are left out.
func TestGapPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 4))
	res := func(gaps ...time.Duration) *Result {
		r := &Result{Sent: summarizeT0, Events: []time.Duration{time.Millisecond}}
		for _, g := range gaps {
			r.Events = append(r.Events, r.Events[len(r.Events)-1]+g)
		}
		return r
	}
	random := func(n int, f func() time.Duration) []*Result {
		var out []*Result
		for range n {
			gaps := make([]time.Duration, rng.IntN(40))
			for i := range gaps {
				gaps[i] = f()
			}
			out = append(out, res(gaps...))
		}
		return out
	}
	failed := res(time.Hour, time.Hour)
	failed.Err = errors.New("cut")
	tests := []struct {
		name    string
		results []*Result
	}{
		{"one gap", []*Result{res(7)}},
		{"all equal", []*Result{res(5, 5, 5), res(5)}},
		{"duplicates", []*Result{res(3, 1, 3, 3, 2), res(1, 1, 9, 3)}},
		{"negative", []*Result{res(-4, 10, -4, 0, 2), res(-1<<40, 3)}},
		{"int64 range", []*Result{res(-1<<62, 1<<62, 1<<62-1, -1<<62+1, 0)}},
		{"failed and nil left out", []*Result{res(2, 4), failed, nil, res(8)}},
		{"random microseconds", random(300, func() time.Duration { return time.Duration(rng.IntN(20_000)) * time.Microsecond })},
		{"random nanoseconds", random(300, func() time.Duration { return time.Duration(rng.Int64N(1 << 35)) })},
		{"few values", random(200, func() time.Duration { return time.Duration(rng.IntN(3)) })},
	}
	ps := []float64{-1, 0, 0.1, 1, 10, 25, 33.3, 50, 75, 90, 95, 99, 99.9, 99.99, 100, 101}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []time.Duration
			for _, r := range tt.results {
				if r != nil && r.OK() {
					want = r.AppendITL(want)
				}
			}
			slices.Sort(want)
			rep := Summarize(summarizeT0, summarizeT0.Add(time.Second), tt.results, SLO{})
			require.Equal(t, len(want), rep.ITL.Count, "Count")
			assert.Nil(t, rep.ITL.Samples, "Samples: left in the events")
			assert.Equal(t, want, rep.ITL.SortedSamples(), "SortedSamples")
			exact := summarize(slices.Clone(want))
			assert.Equal(t, []time.Duration{exact.Mean, exact.Median, exact.Std},
				[]time.Duration{rep.ITL.Mean, rep.ITL.Median, rep.ITL.Std}, "mean, median, std")
			for range 2 { // the second time from what was remembered
				for _, p := range ps {
					got, ok := rep.ITL.Percentile(p)
					require.True(t, ok, "p%v known", p)
					assert.Equal(t, durationPercentile(want, p), got, "p%v", p)
				}
			}
			// Every rank, through kth, against the sorted gaps.
			for k, w := range want {
				assert.Equal(t, w, rep.ITL.gaps.kth(k), "kth(%d)", k)
			}
		})
	}
	t.Run("no gaps", func(t *testing.T) {
		rep := Summarize(summarizeT0, summarizeT0.Add(time.Second), []*Result{res(), failed}, SLO{})
		assert.Equal(t, Summary{}, rep.ITL)
		got, ok := rep.ITL.Percentile(99)
		assert.True(t, ok)
		assert.Zero(t, got)
	})
}

// BenchmarkGapPercentile: one ITL P99, selected from 10,000 Results of 128
// token events with gaps of up to 20 ms, asked for the first time.
func BenchmarkGapPercentile(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	results := make([]*Result, 10_000)
	for i := range results {
		ev := make([]time.Duration, 128)
		for j := 1; j < len(ev); j++ {
			ev[j] = ev[j-1] + time.Duration(rng.Int64N(int64(20*time.Millisecond)))
		}
		results[i] = &Result{Events: ev}
	}
	s := summarizeGaps(results)
	b.ResetTimer()
	for b.Loop() {
		clear(s.gaps.cache)
		s.Percentile(99)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.Count), "ns/gap")
}
