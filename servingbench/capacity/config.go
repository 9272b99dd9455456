package capacity

import (
	"errors"
	"fmt"
	"math"

	"github.com/servingbench/servingbench/servingbench"
)

// resolve validates cfg and fills in its defaults.
func (cfg SearchConfig) resolve() (SearchConfig, error) {
	c := cfg
	switch {
	case c.Run == nil:
		return c, errors.New("capacity: SearchConfig.Run is nil")
	case !c.Dimension.valid():
		return c, fmt.Errorf("capacity: SearchConfig.Dimension must be RequestRate or MaxConcurrency, got %v", c.Dimension)
	case len(c.SLA.Limits) == 0:
		return c, errNoLimits
	}
	// ParseSLA of the text form rejects every invalid limit, with the
	// reason; String and ParseSLA round-trip a valid SLA.
	if _, err := servingbench.ParseSLA(c.SLA.String()); err != nil {
		return c, fmt.Errorf("capacity: SearchConfig.SLA: %w", err)
	}
	if err := c.Base.Validate(); err != nil {
		return c, fmt.Errorf("capacity: SearchConfig.Base: %w", err)
	}
	switch {
	case c.Base.Requests != 0:
		return c, fmt.Errorf("capacity: SearchConfig.Base.Requests must be 0 (SearchConfig.Requests sets the requests of every point), got %d", c.Base.Requests)
	case c.Dimension == RequestRate && c.Base.Rate != 0:
		return c, fmt.Errorf("capacity: SearchConfig.Base.Rate must be 0 in a request-rate search, which sets it, got %v", c.Base.Rate)
	case c.Dimension == MaxConcurrency && c.Base.Concurrency != 0:
		return c, fmt.Errorf("capacity: SearchConfig.Base.Concurrency must be 0 in a max-concurrency search, which sets it, got %d", c.Base.Concurrency)
	}
	if err := c.resolveRequests(); err != nil {
		return c, err
	}
	if err := c.resolveLoads(); err != nil {
		return c, err
	}
	switch {
	case math.IsNaN(c.Resolution) || c.Resolution < 0 || c.Resolution >= 1:
		return c, fmt.Errorf("capacity: SearchConfig.Resolution must be in [0, 1), got %v", c.Resolution)
	case c.MaxPoints < 0:
		return c, fmt.Errorf("capacity: SearchConfig.MaxPoints must be >= 0, got %d", c.MaxPoints)
	case c.Budget < 0:
		return c, fmt.Errorf("capacity: SearchConfig.Budget must be >= 0, got %v", c.Budget)
	case math.IsNaN(c.Noise) || c.Noise < 0 || c.Noise >= 1:
		return c, fmt.Errorf("capacity: SearchConfig.Noise must be in [0, 1), got %v", c.Noise)
	case c.Repeats < 0 || (c.Repeats > 0 && c.Repeats%2 == 0):
		return c, fmt.Errorf("capacity: SearchConfig.Repeats must be odd (or 0 for %d), got %d", DefaultRepeats, c.Repeats)
	}
	if c.Resolution == 0 && c.Dimension == RequestRate {
		c.Resolution = DefaultRateResolution
	}
	if c.MaxPoints == 0 {
		c.MaxPoints = DefaultMaxPoints
	}
	if c.Noise == 0 {
		c.Noise = DefaultNoise
	}
	if c.Repeats == 0 {
		c.Repeats = DefaultRepeats
	}
	return c, nil
}

// resolveRequests sizes the points from the SLA (see MinRequests).
func (c *SearchConfig) resolveRequests() error {
	switch {
	case c.TailRequests < 0:
		return fmt.Errorf("capacity: SearchConfig.TailRequests must be >= 0, got %d", c.TailRequests)
	case c.Requests < 0:
		return fmt.Errorf("capacity: SearchConfig.Requests must be >= 0, got %d", c.Requests)
	}
	need, by := minRequests(c.SLA, c.TailRequests)
	switch {
	case c.Requests == 0:
		c.Requests = max(DefaultRequests, need)
	case c.Requests < need:
		return fmt.Errorf("capacity: SearchConfig.Requests must be >= %d for %s (%d request(s) expected beyond the percentile, see MinRequests), got %d",
			need, by.Name(), max(c.TailRequests, 1), c.Requests)
	}
	return nil
}

// resolveLoads checks Start, Min and Max and fills in their defaults.
func (c *SearchConfig) resolveLoads() error {
	whole := c.Dimension == MaxConcurrency
	for _, f := range []struct {
		name string
		v    float64
	}{{"Start", c.Start}, {"Min", c.Min}, {"Max", c.Max}} {
		switch {
		case math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0:
			return fmt.Errorf("capacity: SearchConfig.%s must be a finite load >= 0 (0: the default), got %v", f.name, f.v)
		case whole && f.v != math.Trunc(f.v):
			return fmt.Errorf("capacity: SearchConfig.%s must be a whole concurrency, got %v", f.name, f.v)
		}
	}
	if c.Start == 0 {
		c.Start = 1
	}
	if whole && c.Start > float64(c.Requests) {
		return fmt.Errorf("capacity: SearchConfig.Start (%v) must be <= the %d requests of a point: a run of n requests never has more than n in flight",
			c.Start, c.Requests)
	}
	if c.Min == 0 {
		c.Min = 1
		if !whole {
			c.Min = c.Start / 8
		}
	}
	if c.Max == 0 {
		c.Max = math.Inf(1)
		if whole {
			c.Max = float64(c.Requests)
		}
	}
	switch {
	case c.Min > c.Start:
		return fmt.Errorf("capacity: SearchConfig.Min (%v) must be <= SearchConfig.Start (%v)", c.Min, c.Start)
	case c.Max < c.Start:
		return fmt.Errorf("capacity: SearchConfig.Max (%v) must be >= SearchConfig.Start (%v)", c.Max, c.Start)
	case whole && c.Max > float64(c.Requests):
		return fmt.Errorf("capacity: SearchConfig.Max (%v) must be <= the %d requests of a point: a run of n requests never has more than n in flight",
			c.Max, c.Requests)
	}
	return nil
}
