// Package servermetrics reads a server's Prometheus page (GET /metrics)
// around a benchmark run, for what the server says about it: a scrape
// right before the run's first request, one every Interval (1 s by
// default) during the run, counted from its start, and one after its
// last request.
//
// The page is parsed with the Prometheus project's own parser
// (internal/promtext over github.com/prometheus/common/expfmt). Each
// series is a counter or a gauge as its family's # TYPE line says
// (histograms' and summaries' _sum, _count and _bucket series are
// counters, summaries' quantiles gauges), else by its name (_total,
// _count, _sum and _bucket are counters). A Summary holds:
//
//   - each counter's delta over the run: the sum of its increases between
//     consecutive scrapes, a decrease (a counter reset: the server
//     restarted) counting from 0 and said in a warning;
//   - each gauge's mean and max over the scrapes during the run (after
//     its start and before its end; the scrapes before and after the run
//     are the server at rest);
//   - the figures of the known servers' names (Names: vLLM, SGLang,
//     llama.cpp, TGI, and servingtest, which speaks vLLM's): prompt and
//     generation tokens, running and waiting requests, KV-cache usage,
//     the prefix cache's hit rate, preemptions, and speculative decoding's
//     acceptance rate and length as vLLM's benchmark computes them.
//
// The counters are the whole server's: another client's requests during
// the run count too. A scrape that fails during or after the run is
// counted and said, never an error of the run; a failed scrape before the
// run (a server without the page answers 404) means nothing is scraped,
// which Summary.NotScraped says in one line.
//
// A Scraper is safe for concurrent use; a Watch is used by one goroutine
// (its own scrapes run on a goroutine it joins in End).
package servermetrics
