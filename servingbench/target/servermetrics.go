package target

import (
	"context"
	"net/http"
	"time"

	"github.com/servingbench/servingbench/servingbench/servermetrics"
)

// ServerMetrics returns the Scraper of the target's Prometheus page:
// GET url, or URL/metrics when url is "", with the API key, headers, TLS
// configuration and proxy of the benchmark's requests (the probe client
// of the identity requests, Spec.HTTPClient when set), asking for the
// text format (version 0.0.4, whatever Spec.Header says: it is the
// format read), every interval during a run (0: the Scraper's default).
func (t *Target) ServerMetrics(url string, interval time.Duration) *servermetrics.Scraper {
	if url == "" {
		url = t.URL + "/metrics"
	}
	return &servermetrics.Scraper{
		URL:      RedactURL(url),
		Interval: interval,
		Get: func(ctx context.Context) (*http.Response, error) {
			req, client, err := t.getURL(ctx, url)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Accept", "text/plain;version=0.0.4")
			return client.Do(req)
		},
	}
}
