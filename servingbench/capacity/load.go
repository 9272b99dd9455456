package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// Dimension is the part of a Load that a search varies.
type Dimension uint8

const (
	// RequestRate varies Load.Rate (vLLM's --request-rate). It is the zero
	// Dimension.
	RequestRate Dimension = iota
	// MaxConcurrency varies Load.Concurrency (vLLM's --max-concurrency).
	MaxConcurrency
)

// String returns the name the CLI's --search flag and the result file use:
// "request-rate" or "max-concurrency".
func (d Dimension) String() string {
	switch d {
	case RequestRate:
		return "request-rate"
	case MaxConcurrency:
		return "max-concurrency"
	}
	return fmt.Sprintf("Dimension(%d)", uint8(d))
}

// ParseDimension parses "request-rate" or "max-concurrency", and vLLM's
// spellings "request_rate" and "max_concurrency" (vllm bench sweep's
// --sla-variable and --workload-var).
func ParseDimension(s string) (Dimension, error) {
	switch s {
	case "request-rate", "request_rate":
		return RequestRate, nil
	case "max-concurrency", "max_concurrency":
		return MaxConcurrency, nil
	}
	return 0, fmt.Errorf("capacity: unknown search dimension %q, want request-rate or max-concurrency", s)
}

// Unit is the unit of the dimension's values: "req/s" or "concurrency"
// (benchtest reports a capacity as capacity-<Unit>).
func (d Dimension) Unit() string {
	if d == MaxConcurrency {
		return "concurrency"
	}
	return "req/s"
}

// Of returns l's value on the dimension: its Rate (+Inf for 0) or its
// Concurrency.
func (d Dimension) Of(l Load) float64 {
	if d == MaxConcurrency {
		return float64(l.Concurrency)
	}
	if l.Rate == 0 {
		return math.Inf(1)
	}
	return l.Rate
}

// With returns l with its value on the dimension set to v (rounded to a
// whole number for MaxConcurrency).
func (d Dimension) With(l Load, v float64) Load {
	if d == MaxConcurrency {
		l.Concurrency = int(math.Round(v))
	} else {
		l.Rate = v
	}
	return l
}

func (d Dimension) valid() bool { return d <= MaxConcurrency }

// Load is one load to run a scenario at.
type Load struct {
	// Rate is the request rate in requests per second; 0 or +Inf send
	// every request at once (vLLM's "inf").
	Rate float64
	// Concurrency bounds the requests in flight; 0 means no bound.
	Concurrency int
	// Requests is the number of requests to send; 0 leaves it to the
	// Runner. A Search sets it on every load it runs.
	Requests int
}

// Validate reports a bad field.
func (l Load) Validate() error {
	switch {
	case math.IsNaN(l.Rate) || l.Rate < 0:
		return fmt.Errorf("capacity: Load.Rate must be >= 0 or +Inf, got %v", l.Rate)
	case l.Concurrency < 0:
		return fmt.Errorf("capacity: Load.Concurrency must be >= 0, got %d", l.Concurrency)
	case l.Requests < 0:
		return fmt.Errorf("capacity: Load.Requests must be >= 0, got %d", l.Requests)
	}
	return nil
}

// RateIsInf reports whether l sends every request at once.
func (l Load) RateIsInf() bool { return l.Rate == 0 || math.IsInf(l.Rate, 1) }

// String describes l with the sub-benchmark naming convention:
// "rate=4,concurrency=16,requests=100"; the rate is "inf" when unbounded,
// and a zero Concurrency or Requests is left out.
func (l Load) String() string {
	parts := []string{"rate=" + formatRate(l.Rate)}
	if l.Concurrency > 0 {
		parts = append(parts, "concurrency="+strconv.Itoa(l.Concurrency))
	}
	if l.Requests > 0 {
		parts = append(parts, "requests="+strconv.Itoa(l.Requests))
	}
	return strings.Join(parts, ",")
}

// formatValue formats a value on the dimension d: a rate with up to 4
// significant digits ("inf" when unbounded), a concurrency as an integer.
func formatValue(d Dimension, v float64) string {
	if d == MaxConcurrency {
		return strconv.Itoa(int(v))
	}
	return formatRate(v)
}

func formatRate(v float64) string {
	if v == 0 || math.IsInf(v, 1) {
		return "inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Runner runs the scenario under test once at load and returns its report:
// typically servingbench.Run with Arrival at load.Rate, MaxConcurrency
// load.Concurrency and load.Requests requests (ConfigRunner builds one).
// It is called from one goroutine at a time. A Runner that returns a
// report for a ctx cancelled mid-run (as servingbench.Run does) may; the
// caller discards it as partial. An error ends the sweep or the search.
type Runner func(ctx context.Context, load Load) (*servingbench.Report, error)

// ConfigRunner returns a Runner that runs cfg at each load through
// servingbench.Run: MaxConcurrency is load.Concurrency, Arrival is
// arrival(load.Rate) (when arrival is nil, servingbench.Poisson(load.Rate,
// 0): every load's schedule from the same seed), and Requests are the
// first load.Requests of cfg.Requests (all of them when load.Requests is
// 0; an error when cfg has fewer). The other fields of cfg are used as
// they are; a Warmup request is sent before every run.
func ConfigRunner(cfg servingbench.Config, arrival func(rate float64) servingbench.Arrival) Runner {
	return func(ctx context.Context, load Load) (*servingbench.Report, error) {
		if err := load.Validate(); err != nil {
			return nil, err
		}
		c := cfg
		c.MaxConcurrency = load.Concurrency
		if arrival != nil {
			c.Arrival = arrival(load.Rate)
		} else {
			c.Arrival = servingbench.Poisson(load.Rate, 0)
		}
		if load.Requests > 0 {
			if load.Requests > len(cfg.Requests) {
				return nil, fmt.Errorf("capacity: load %v needs %d requests, the Config has %d", load, load.Requests, len(cfg.Requests))
			}
			c.Requests = cfg.Requests[:load.Requests]
		}
		return servingbench.Run(ctx, c)
	}
}

// errNilReport is returned when a Runner returns neither a report nor an
// error.
var errNilReport = errors.New("the Runner returned no report and no error")
