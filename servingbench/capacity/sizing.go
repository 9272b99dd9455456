package capacity

import (
	"math"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// DefaultRequests is the fewest requests a search point runs when
// SearchConfig.Requests is 0, whatever its SLA.
const DefaultRequests = 100

// MinRequests returns the requests a run needs before its SLA can be
// judged on the statistics it bounds, with tail requests expected beyond
// each percentile (0 means 1): for a limit on a percentile pNN with
// NN < 100, ceil(tail * 100 / (100 - NN)): 100 for a p99, 1,000 for a
// p99.9, 10 for a p90 (tail 1). A sample of fewer than 100/(100-NN)
// requests is not expected to hold a single request from the tail the
// percentile bounds, so its pNN interpolates between values that all lie
// below the true percentile, and it reads too low. Other limits (mean,
// median, std, p100, throughputs, failures) add no requirement and
// MinRequests returns 1 for them. The count is in requests: ITL pools
// several gaps a request, so its sample is at least as large.
func MinRequests(sla servingbench.SLA, tail int) int {
	n, _ := minRequests(sla, tail)
	return n
}

// minRequests is MinRequests and the limit that needs the most (nil when
// none needs more than 1).
func minRequests(sla servingbench.SLA, tail int) (int, *servingbench.Limit) {
	if tail <= 0 {
		tail = 1
	}
	n, by := 1, (*servingbench.Limit)(nil)
	for i, l := range sla.Limits {
		p, ok := percentileOf(l)
		if !ok || p >= 100 {
			continue
		}
		// Round the quotient to 9 digits first: 100/(100-99.9) is
		// 1000.0000000000568 in floating point.
		x := float64(tail) * 100 / (100 - p)
		need := int(math.Ceil(math.Round(x*1e9) / 1e9))
		if need > n {
			n, by = need, &sla.Limits[i]
		}
	}
	return n, by
}

// percentileOf returns NN for a latency limit on pNN.
func percentileOf(l servingbench.Limit) (float64, bool) {
	if !l.Metric.IsLatency() {
		return 0, false
	}
	rest, ok := strings.CutPrefix(l.Stat, "p")
	if !ok {
		return 0, false
	}
	p, err := strconv.ParseFloat(rest, 64)
	return p, err == nil
}
