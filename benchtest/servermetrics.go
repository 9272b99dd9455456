package benchtest

import (
	"context"
	"net/http"
	"testing"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servermetrics"
)

// serverMetrics is the Scraper of e's /metrics, every second: through
// the simulated server's own client for a servingtest server (which may
// listen in memory, in a synctest bubble), else the target's, with its
// headers and TLS.
func (e *endpoint) serverMetrics() *servermetrics.Scraper {
	if e.sim == nil {
		if e.tg == nil {
			return nil
		}
		return e.tg.ServerMetrics("", 0)
	}
	url, client := e.sim.URL+"/metrics", e.sim.Client()
	return &servermetrics.Scraper{URL: url, Get: func(ctx context.Context) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		return client.Do(req)
	}}
}

// The units of the server's figures ReportMetrics reports, from the
// server's /metrics over the run (servingbench.Report.ServerMetrics;
// each only when the server exposes it, see servermetrics.Names).
const (
	// UnitServerRunningPeak is the most requests the server was
	// processing at a scrape during the run.
	UnitServerRunningPeak = "server-running-peak"
	// UnitServerWaitingPeak is the most requests queued in the server at
	// a scrape during the run.
	UnitServerWaitingPeak = "server-waiting-peak"
	// UnitServerKVCachePeak is the highest KV-cache usage, in percent, at
	// a scrape during the run.
	UnitServerKVCachePeak = "server-kv-cache-peak-%"
	// UnitServerPrefixHit is the prefix cache's hit rate over the run, in
	// percent of the prompt tokens looked up.
	UnitServerPrefixHit = "server-prefix-hit-%"
	// UnitServerPreemptions counts the requests the server preempted.
	UnitServerPreemptions = "server-preemptions"
)

// reportServerMetrics reports the server's figures of r on b, the few
// that say why a run was slow: running and waiting peaks, the KV-cache
// peak, the prefix cache's hit rate and preemptions.
func reportServerMetrics(b *testing.B, r *servingbench.Report) {
	s := r.ServerMetrics
	if !s.Scraped() {
		return
	}
	if g, ok := s.Running(); ok {
		b.ReportMetric(g.Max, UnitServerRunningPeak)
	}
	if g, ok := s.Waiting(); ok {
		b.ReportMetric(g.Max, UnitServerWaitingPeak)
	}
	if g, ok := s.KVCacheUsage(); ok {
		b.ReportMetric(g.Max*100, UnitServerKVCachePeak)
	}
	if v, ok := s.PrefixCacheHitRate(); ok {
		b.ReportMetric(v*100, UnitServerPrefixHit)
	}
	if v, ok := s.Preemptions(); ok {
		b.ReportMetric(v, UnitServerPreemptions)
	}
}
