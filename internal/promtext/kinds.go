package promtext

import "io"

// Kind is what a series counts, as its family's # TYPE line says.
type Kind uint8

// The kinds of series. A histogram's _bucket, _sum and _count series and
// a summary's _sum and _count only grow, so they are Counters; a
// summary's quantiles go up and down, so they are Gauges. A family
// without a # TYPE line (or "# TYPE x untyped") is Untyped: the page
// does not say.
const (
	Untyped Kind = iota
	Counter
	Gauge
)

func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	}
	return "untyped"
}

// Kinds holds the Kind of each series of a scrape, keyed as Samples.
type Kinds map[string]Kind

// ParseKinds is Parse, and the Kind of every series it returns.
func ParseKinds(r io.Reader) (Samples, Kinds, error) {
	return parse(r, true)
}
