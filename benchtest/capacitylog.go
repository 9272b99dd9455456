package benchtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/servingbench/servingbench/servingbench/capacity"
)

// capacityLog describes a search in a few lines for b.Log, which go test
// cuts after 10 lines of a benchmark's output: the capacity and the SLA
// judged, the first failing point with the limits it violated and by how
// much, the points tried in order with their verdicts, and the points
// whose runs disagreed:
//
//	capacity (request-rate): 152 req/s; SLA ttft.p99<=100ms failed<=0
//	first failing point: request-rate=156: ttft.p99 = 112.4ms, want <= 100ms (+12.4%)
//	points (400 requests each): 64 pass, 128 pass, 256 fail, 192 fail, 160 fail, 144 pass, 152 pass (3 runs), 156 fail; stopped: resolved after 31.2s
//	flipped: request-rate=152 passed 2 of 3 runs (a value within 5% of a limit), judged pass
//
// capacity.SearchResult.WriteText prints the whole table.
func capacityLog(r *capacity.SearchResult) []string {
	d := r.Dimension
	unit := ""
	if d == capacity.RequestRate {
		unit = " req/s"
	}
	head := fmt.Sprintf("capacity (%s): ", d)
	switch {
	case r.Best() == nil:
		head += "0: no load tried met the SLA"
	case r.AtLeast:
		head += "at least " + loadText(d, r.Capacity) + unit + ": no load above it failed"
	default:
		head += loadText(d, r.Capacity) + unit
	}
	lines := []string{head + "; SLA " + r.SLA.String()}
	if reason := r.Reason(); reason != "" {
		lines = append(lines, "first failing point: "+reason)
	}
	points := make([]string, len(r.Points))
	for i, p := range r.Points {
		points[i] = loadText(d, p.Value) + " " + verdict(p.Pass)
		if n := len(p.Trials); n > 1 {
			points[i] += " (" + strconv.Itoa(n) + " runs)"
		}
	}
	lines = append(lines, fmt.Sprintf("points (%d requests each): %s; stopped: %s after %v",
		r.Requests, strings.Join(points, ", "), r.Stop, r.Elapsed.Round(100*time.Millisecond)))
	for _, p := range r.Points {
		if !p.Flipped {
			continue
		}
		passes := 0
		for _, t := range p.Trials {
			if t.Pass {
				passes++
			}
		}
		lines = append(lines, fmt.Sprintf("flipped: %s=%s passed %d of %d runs (a value within %g%% of a limit), judged %s",
			d, loadText(d, p.Value), passes, len(p.Trials), 100*r.Noise, verdict(p.Pass)))
	}
	return lines
}

// loadText formats a load as the capacity package does: a rate with every
// digit it has, a concurrency as a whole number.
func loadText(d capacity.Dimension, v float64) string {
	if d == capacity.MaxConcurrency {
		return strconv.Itoa(int(v))
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func verdict(pass bool) string {
	if pass {
		return "pass"
	}
	return "fail"
}
