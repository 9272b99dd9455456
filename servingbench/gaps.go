package servingbench

import (
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/servingbench/servingbench/internal/stats"
)

// gapSamples are the samples of a Report's ITL as Summarize makes it: the
// gaps between consecutive token events of its successful Results, in
// their Events. A sorted copy of them would take 8 bytes a gap, 1 KB a
// request of 128 tokens, as much as the events themselves; instead a
// percentile is selected from the Events when it is asked for (an exact
// radix selection, a few passes over the events, remembered for the next
// time it is asked).
type gapSamples struct {
	results  []*Result
	n        int
	min, max time.Duration

	mu    sync.Mutex
	cache map[float64]time.Duration
}

// summarizeGaps is summarize over the gaps between consecutive token
// events of the successful results (Result.AppendITL), with the same Count,
// Mean, Median and Std, and the gaps left in the results' Events: Samples
// is nil, SortedSamples copies them, Percentile selects from them.
func summarizeGaps(results []*Result) Summary {
	n := 0
	for _, r := range results {
		if r != nil && r.OK() {
			n += len(r.Events) - 1
		}
	}
	if n == 0 {
		return Summary{}
	}
	sorted := make([]time.Duration, 0, n) // for the mean, the median and the standard deviation only
	for _, r := range results {
		if r != nil && r.OK() {
			sorted = r.AppendITL(sorted)
		}
	}
	s := summarize(sorted)
	s.Samples = nil
	s.gaps = &gapSamples{results: results, n: n, min: sorted[0], max: sorted[n-1], cache: map[float64]time.Duration{}}
	return s
}

// events returns the Events of the i-th result when it is successful, nil
// otherwise: the gaps are between consecutive events of the successful
// results.
func (g *gapSamples) events(i int) []time.Duration {
	if r := g.results[i]; r != nil && r.OK() {
		return r.Events
	}
	return nil
}

// sorted returns the gaps sorted ascending, in a new slice.
func (g *gapSamples) sorted() []time.Duration {
	out := make([]time.Duration, 0, g.n)
	for _, r := range g.results {
		if r != nil && r.OK() {
			out = r.AppendITL(out)
		}
	}
	slices.Sort(out)
	return out
}

// percentile is durationPercentile over the sorted gaps.
func (g *gapSamples) percentile(p float64) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if v, ok := g.cache[p]; ok {
		return v
	}
	prevK, prevV := -1, time.Duration(0)
	at := func(k int) float64 { // stats.PercentileAt asks for k, then maybe k+1
		var v time.Duration
		switch {
		case k == 0:
			v = g.min
		case k == g.n-1:
			v = g.max
		case prevK >= 0 && k == prevK+1:
			v = g.after(prevK, prevV)
		default:
			v = g.kth(k)
		}
		prevK, prevV = k, v
		return float64(v)
	}
	v := time.Duration(math.Round(stats.PercentileAt(g.n, p, at)))
	if !math.IsNaN(p) {
		g.cache[p] = v
	}
	return v
}

// selectBits is the width of the digit each pass of kth selects.
const selectBits = 16

// gapKey maps a gap to a uint64 in the same order (the sign bit flipped:
// a gap of a Result made by hand may be negative).
func gapKey(d time.Duration) uint64 { return uint64(d) ^ 1<<63 }

// kth returns the k-th smallest gap (0-based): the digits of its key are
// selected from the top, selectBits a pass over the gaps, each pass
// counting, among the gaps whose key starts with the digits selected so
// far, how many have each next digit. The bits that the smallest and the
// largest gap share are known without a pass.
func (g *gapSamples) kth(k int) time.Duration {
	lo, hi := gapKey(g.min), gapKey(g.max)
	pos := 64 - bits.LeadingZeros64(lo^hi) // the bits from pos up are lo's
	prefix := lo >> pos                    // 0 when pos is 64
	counts := make([]int, 1<<selectBits)
	for pos > 0 {
		w := min(selectBits, pos)
		shift := pos - w
		mask := uint64(1)<<w - 1
		clear(counts)
		for i := range g.results {
			ev := g.events(i)
			for j := 1; j < len(ev); j++ {
				if u := gapKey(ev[j] - ev[j-1]); u>>pos == prefix {
					counts[(u>>shift)&mask]++
				}
			}
		}
		digit := 0
		for ; digit < 1<<w-1 && k >= counts[digit]; digit++ {
			k -= counts[digit]
		}
		prefix = prefix<<w | uint64(digit)
		pos = shift
	}
	return time.Duration(prefix ^ 1<<63)
}

// after returns the (k+1)-th smallest gap given v, the k-th: v again when
// more than k+1 gaps are at most v, else the smallest gap above v.
func (g *gapSamples) after(k int, v time.Duration) time.Duration {
	atMost, next := 0, g.max
	for i := range g.results {
		ev := g.events(i)
		for j := 1; j < len(ev); j++ {
			if d := ev[j] - ev[j-1]; d <= v {
				atMost++
			} else if d < next {
				next = d
			}
		}
	}
	if atMost > k+1 {
		return v
	}
	return next
}
