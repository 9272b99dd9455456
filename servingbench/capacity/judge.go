package capacity

import (
	"math"
	"strconv"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// Measurement is the value a report has for one limit of an SLA.
type Measurement struct {
	Limit servingbench.Limit
	// Value is in the limit's unit: nanoseconds for a latency metric (a
	// time.Duration as float64), else the unit of Limit.Value.
	Value float64
	// Unknown, when not empty, says why the value could not be measured
	// (servingbench.Violation.Unknown); an unknown value violates.
	Unknown string
}

// bound is the limit's bound in the Measurement's unit.
func (m Measurement) bound() float64 {
	if m.Limit.Metric.IsLatency() {
		return float64(m.Limit.Duration)
	}
	return m.Limit.Value
}

// Holds reports whether the limit holds for the measured value.
func (m Measurement) Holds() bool {
	if m.Unknown != "" {
		return false
	}
	if m.Limit.Op == servingbench.AtLeast {
		return m.Value >= m.bound()
	}
	return m.Value <= m.bound()
}

// Excess is how far the value lies beyond the limit, in its unit:
// value - bound for <=, bound - value for >=; negative when the limit
// holds with room, NaN when the value is unknown.
func (m Measurement) Excess() float64 {
	if m.Unknown != "" {
		return math.NaN()
	}
	if m.Limit.Op == servingbench.AtLeast {
		return m.bound() - m.Value
	}
	return m.Value - m.bound()
}

// Ratio is Excess as a fraction of the bound (0.25: 25% beyond it); NaN
// when the value is unknown or the bound is 0.
func (m Measurement) Ratio() float64 {
	if b := m.bound(); b != 0 {
		return m.Excess() / b
	}
	return math.NaN()
}

// Marginal reports whether the value lies within noise of the limit,
// |value - bound| <= noise * bound: the run-to-run noise could turn its
// verdict. A bound of 0 (failed<=0) and an unknown value are never
// marginal.
func (m Measurement) Marginal(noise float64) bool {
	b := m.bound()
	return m.Unknown == "" && b > 0 && math.Abs(m.Value-b) <= noise*b
}

// String describes the measurement as servingbench.Violation does, with
// the excess when the limit does not hold: "ttft.p99 = 612.3ms, want <=
// 500ms (+22.5%)".
func (m Measurement) String() string {
	s := m.violation().String()
	if m.Holds() || m.Unknown != "" {
		return s
	}
	if r := m.Ratio(); !math.IsNaN(r) {
		return s + " (+" + strconv.FormatFloat(100*r, 'f', 1, 64) + "%)"
	}
	return s + " (+" + strconv.FormatFloat(m.Excess(), 'g', 4, 64) + ")"
}

func (m Measurement) violation() servingbench.Violation {
	v := servingbench.Violation{Limit: m.Limit, Unknown: m.Unknown}
	if m.Limit.Metric.IsLatency() {
		v.Duration = time.Duration(m.Value)
	} else {
		v.Value = m.Value
	}
	return v
}

// measure returns the value r has for each limit of sla. It asks
// servingbench's own SLA code, so the values are those its Violations
// report: a limit "metric <= 0" on the same statistic is violated exactly
// when the value is above 0, with the value in the violation, and every
// metric an SLA bounds is >= 0, so a limit that holds means 0.
func measure(sla servingbench.SLA, r *servingbench.Report) []Measurement {
	out := make([]Measurement, len(sla.Limits))
	for i, l := range sla.Limits {
		probe := servingbench.Limit{Metric: l.Metric, Stat: l.Stat, Op: servingbench.AtMost}
		m := Measurement{Limit: l}
		if vs := (servingbench.SLA{Limits: []servingbench.Limit{probe}}).Violations(r); len(vs) == 1 {
			m.Unknown = vs[0].Unknown
			if l.Metric.IsLatency() {
				m.Value = float64(vs[0].Duration)
			} else {
				m.Value = vs[0].Value
			}
		}
		out[i] = m
	}
	return out
}
