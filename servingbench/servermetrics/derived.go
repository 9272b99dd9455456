package servermetrics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The figures a Summary derives from its server's known names (Server);
// each reports false when the page lacks the series.

// PromptTokens is the prompt tokens the server counted over the run, and
// the counters summed ("llamacpp:prompt_tokens_total +
// llamacpp:prompt_tokens_cached_total").
func (s *Summary) PromptTokens() (float64, string, bool) {
	v, ok := s.counters(s.Server.PromptTokens)
	return v, strings.Join(s.Server.PromptTokens, " + "), ok
}

// GenerationTokens is the tokens the server generated over the run, and
// the counter read.
func (s *Summary) GenerationTokens() (float64, string, bool) {
	if s.Server.GenerationTokens == "" {
		return 0, "", false
	}
	v, ok := s.Counter(s.Server.GenerationTokens)
	return v, s.Server.GenerationTokens, ok
}

// Running is the gauge of requests the server was processing.
func (s *Summary) Running() (GaugeStat, bool) { return s.Gauge(s.Server.Running) }

// Waiting is the gauge of requests queued in the server.
func (s *Summary) Waiting() (GaugeStat, bool) { return s.Gauge(s.Server.Waiting) }

// KVCacheUsage is the KV cache's used fraction (1 is full), from the
// first of Server.KVCacheUsage the scrapes have.
func (s *Summary) KVCacheUsage() (GaugeStat, bool) {
	for _, n := range s.Server.KVCacheUsage {
		if g, ok := s.Gauge(n); ok {
			return g, true
		}
	}
	return GaugeStat{}, false
}

// Preemptions is the requests the server preempted over the run.
func (s *Summary) Preemptions() (float64, bool) {
	if s.Server.Preemptions == "" {
		return 0, false
	}
	return s.Counter(s.Server.Preemptions)
}

// PrefixCache is the prompt tokens looked up in the prefix cache over the
// run and those found, from the first of Server.PrefixCache the page has.
func (s *Summary) PrefixCache() (queries, hits float64, ok bool) {
	for _, p := range s.Server.PrefixCache {
		q, okQ := s.counters(p.Queries)
		h, okH := s.Counter(p.Hits)
		if okQ && okH {
			return q, h, true
		}
	}
	return 0, 0, false
}

// PrefixCacheHitRate is hits / queries of PrefixCache; false as well
// when nothing was looked up.
func (s *Summary) PrefixCacheHitRate() (float64, bool) {
	q, h, ok := s.PrefixCache()
	if !ok || q <= 0 {
		return 0, false
	}
	return h / q, true
}

// SpecDecode is speculative decoding over a run, as vLLM's benchmark
// (vllm/benchmarks/serve.py, the deltas of fetch_spec_decode_metrics
// before and after the run) computes it from the counters.
type SpecDecode struct {
	// Drafts, DraftTokens and AcceptedTokens are the counters' deltas.
	Drafts, DraftTokens, AcceptedTokens int64
	// AcceptanceRate is AcceptedTokens / DraftTokens in percent.
	AcceptanceRate float64
	// AcceptanceLength is 1 + AcceptedTokens / Drafts ("conventionally
	// including the bonus token"), 0 without drafts.
	AcceptanceLength float64
	// PerPosition is each draft position's accepted tokens / Drafts, by
	// position; nil without drafts or per-position counters.
	PerPosition []float64
}

// SpecDecode reports speculative decoding as vLLM's benchmark does: only
// when the server has the counters and drafted tokens during the run.
func (s *Summary) SpecDecode() (SpecDecode, bool) {
	n := s.Server
	if n.SpecDraftTokens == "" {
		return SpecDecode{}, false
	}
	drafts, okD := s.Counter(n.SpecDrafts)
	draftTokens, okT := s.Counter(n.SpecDraftTokens)
	accepted, okA := s.Counter(n.SpecAccepted)
	if !okD || !okT || !okA || draftTokens <= 0 {
		return SpecDecode{}, false
	}
	sd := SpecDecode{
		Drafts: int64(drafts), DraftTokens: int64(draftTokens), AcceptedTokens: int64(accepted),
		AcceptanceRate: accepted / draftTokens * 100,
	}
	if drafts > 0 {
		sd.AcceptanceLength = 1 + accepted/drafts
		sd.PerPosition = s.perPosition(n.SpecAcceptedPerPos, drafts)
	}
	return sd, true
}

// perPosition is the accepted tokens of each position="i" series of name
// (summed over its other labels) over drafts, in position order.
func (s *Summary) perPosition(name string, drafts float64) []float64 {
	if name == "" {
		return nil
	}
	byPos := map[int]float64{}
	for k, v := range s.Counters {
		if !strings.HasPrefix(k, name+"{") {
			continue
		}
		_, rest, ok := strings.Cut(k, `position="`)
		if !ok {
			continue
		}
		digits, _, _ := strings.Cut(rest, `"`)
		pos, err := strconv.Atoi(digits)
		if err != nil || pos < 0 {
			continue
		}
		byPos[pos] += v
	}
	if len(byPos) == 0 {
		return nil
	}
	positions := make([]int, 0, len(byPos))
	for p := range byPos {
		positions = append(positions, p)
	}
	slices.Sort(positions)
	rates := make([]float64, len(positions))
	for i, p := range positions {
		rates[i] = byPos[p] / drafts
	}
	return rates
}

// tokenTolerance is how far apart, as a fraction, the server's token
// counts and the client's may be before CheckTokens warns.
const tokenTolerance = 0.01

// CheckTokens compares the server's prompt and generation token counts
// over the run with the client's totals (input and output tokens of the
// successful requests) and returns a warning for each that is more than
// 1% apart, naming both numbers and what usually causes it; failed is
// the client's count of failed requests, whose tokens only the server
// counts.
func (s *Summary) CheckTokens(input, output, failed int) []error {
	if !s.Scraped() {
		return nil
	}
	var warns []error
	check := func(what string, server float64, counters string, ours int, ourWhat string) {
		if !apart(server, float64(ours)) {
			return
		}
		cause := "a tokenizer mismatch (pass --tokenizer with the served model's), usage not reported (counts from the tokenizer or from token events), or another client's traffic on the server during the run"
		if failed > 0 {
			cause += fmt.Sprintf(", or the %d failed requests, which the server may have counted", failed)
		}
		warns = append(warns, fmt.Errorf("server metrics: the server counted %s %s tokens (the delta of %s), the client %d %s tokens: more than 1%% apart; usually %s",
			formatValue(server), what, counters, ours, ourWhat, cause))
	}
	if v, names, ok := s.PromptTokens(); ok {
		check("prompt", v, names, input, "input")
	}
	if v, name, ok := s.GenerationTokens(); ok {
		check("generation", v, name, output, "output")
	}
	return warns
}

// apart reports whether a and b differ by more than tokenTolerance of b.
func apart(a, b float64) bool {
	return math.Abs(a-b) > tokenTolerance*math.Abs(b)
}
