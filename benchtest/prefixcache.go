package benchtest

import (
	"context"
	"fmt"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/target"
)

// maxPrefixHitRate is the share of a run's prompt tokens a server may
// serve from its prefix cache, for a dataset whose prompts share no
// prefix, before Run warns: a few tokens a prompt (a BOS token, a chat
// template's first tokens) are no sign of cached prompts.
const maxPrefixHitRate = 0.10

// sharesNoPrefix reports whether the prompts of d share no prefix, so
// that hits in a server's prefix cache during a run mean prompts it had
// seen before (an earlier run's, the same seed again): the random dataset
// without a PrefixLen (each prompt a window of consecutive token ids at its
// own random offset) and BurstGPT's synthetic prompts (windows at offsets
// 0, 1, 2, ...; the same in every run, whatever the seed). Sonnet and
// PrefixRepetition share prefixes by design; ShareGPT and Custom prompts
// are the user's text, which may share a system prompt or template, so
// they are not checked either.
func sharesNoPrefix(d scenarios.Dataset) bool {
	switch d := d.(type) {
	case scenarios.Random:
		return d.PrefixLen == 0
	case *scenarios.Random:
		return d != nil && d.PrefixLen == 0
	case scenarios.BurstGPT, *scenarios.BurstGPT:
		return true
	}
	return false
}

// prefixWatch reads a real server's prefix-cache counters around one run,
// when its dataset shares no prefix.
type prefixWatch struct {
	e      *endpoint
	active bool
	before target.PrefixCacheCounters
	ok     bool
}

// watchPrefixCache starts watching e's prefix cache for a run of sc, or
// returns an inactive watch for the simulated server (which has none) and
// for datasets that share prefixes. The note, once per endpoint, says
// that the server exposes no counters and nothing is checked.
func watchPrefixCache(ctx context.Context, e *endpoint, sc scenarios.Scenario) (w prefixWatch, note string) {
	if e.sim != nil || !sharesNoPrefix(sc.Dataset) {
		return prefixWatch{}, ""
	}
	w = prefixWatch{e: e, active: true}
	w.before, w.ok = e.tg.PrefixCache(ctx)
	if !w.ok && e.prefixNoted.CompareAndSwap(false, true) {
		note = "Prefix cache: the server's GET /metrics shows no prefix-cache counters (llama-server shows them with --metrics, vLLM always), so Run cannot check that the server did not answer these prompts from a cache"
	}
	return w, note
}

// warning scrapes the counters again after the run and returns a warning
// when the server served more than maxPrefixHitRate of the run's prompt
// tokens from its prefix cache, nil otherwise. warmup is the prompt of
// the warm-up request, sent twice (untimed, then as the run's first
// request): its tokens are taken out of both counts.
func (w prefixWatch) warning(ctx context.Context, sc scenarios.Scenario, seed uint64, warmup *servingbench.Request) error {
	if !w.active || !w.ok {
		return nil
	}
	after, ok := w.e.tg.PrefixCache(ctx)
	if !ok {
		return nil
	}
	d := after.Sub(w.before)
	if warmup != nil {
		n := int64(warmup.PromptTokens)
		d.Queries, d.Hits = max(0, d.Queries-n), max(0, d.Hits-n)
	}
	if d.Queries == 0 || d.HitRate() <= maxPrefixHitRate {
		return nil
	}
	return fmt.Errorf("benchtest: the server served %d of %d prompt tokens (%.0f%%) from its prefix cache, by %s, in the run with seed %d, though the prompts of %s share no prefix: it had seen them before (in an earlier run with the same seed: another benchmark of this scenario in the process, one WithPinnedSeed, another client), so TTFT measured its cache; draw fresh prompts (the default), restart the server, or turn its prefix cache off (vllm serve --no-enable-prefix-caching; llama-server --cache-ram 0 and \"cache_prompt\": false through WithClientConfig's ExtraBody)",
		d.Hits, d.Queries, 100*d.HitRate(), d.Source, seed, sc.Dataset)
}
