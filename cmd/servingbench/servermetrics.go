package main

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/servingbench/servingbench/servingbench/servermetrics"
	"github.com/servingbench/servingbench/servingbench/target"
)

// serverMetricsFlags are the flags of the server's Prometheus page,
// scraped by default before, during and after every run (AIPerf's
// --server-metrics and --no-server-metrics, in vllm bench serve's
// spelling).
type serverMetricsFlags struct {
	url      string
	off      bool
	interval float64
}

func (f *serverMetricsFlags) add(a *argSet) {
	a.str(&f.url, "server-metrics-url", "the server's Prometheus page, scraped before, during and after the run with the requests' headers and TLS (default: --base-url's /metrics)")
	a.boolean(&f.off, "no-server-metrics", "do not scrape the server's Prometheus page")
	a.float(&f.interval, "server-metrics-interval", "seconds between two scrapes of the server's page during the run (default 1)")
}

// check checks the flags: an absolute http(s) URL, a positive interval,
// and neither with --no-server-metrics.
func (f *serverMetricsFlags) check(a *argSet) error {
	switch {
	case f.off && a.given("server-metrics-url"):
		return errors.New("flags --no-server-metrics and --server-metrics-url: one turns off the scrapes the other points; give one of them")
	case f.off && a.given("server-metrics-interval"):
		return errors.New("flags --no-server-metrics and --server-metrics-interval: there is nothing to scrape at that interval; give one of them")
	case a.given("server-metrics-interval") && !(f.interval > 0 && f.interval <= 3600):
		return fmt.Errorf("flag --server-metrics-interval must be > 0 and <= 3600 seconds, got %v", f.interval)
	}
	if f.url != "" {
		u, err := url.Parse(f.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("flag --server-metrics-url must be an absolute http or https URL such as http://127.0.0.1:8000/metrics, got %q", target.RedactURL(f.url))
		}
	}
	return nil
}

// scraper is the run's Scraper of tg's page, nil with --no-server-metrics.
func (f *serverMetricsFlags) scraper(tg *target.Target) *servermetrics.Scraper {
	if f.off {
		return nil
	}
	return tg.ServerMetrics(f.url, time.Duration(math.Round(f.interval*float64(time.Second))))
}
