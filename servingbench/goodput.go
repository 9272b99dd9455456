package servingbench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// sloKeys are the objective names of vLLM's --goodput flag, in print order.
var sloKeys = [...]string{"ttft", "tpot", "e2el"}

// SLOError reports a bad token in a goodput specification.
type SLOError struct {
	// Token is the offending KEY:VALUE pair as given.
	Token string
	// Problem says what is wrong with it.
	Problem string
}

func (e *SLOError) Error() string {
	return fmt.Sprintf("servingbench: goodput objective %q: %s (want KEY:VALUE, KEY one of ttft, tpot, e2el, VALUE in milliseconds)",
		e.Token, e.Problem)
}

// ParseSLO parses vLLM's --goodput syntax: KEY:VALUE pairs separated by
// spaces or commas, such as "ttft:100 tpot:50 e2el:3000". Keys are ttft,
// tpot and e2el; values are milliseconds, finite and > 0 (a zero SLO field
// means "not checked", so an objective of 0 cannot be expressed). A key may
// appear once. The empty string gives the zero SLO.
func ParseSLO(s string) (SLO, error) {
	return ParseSLOArgs(strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	}))
}

// ParseSLOArgs parses KEY:VALUE pairs given one a string, as vLLM's
// argparse hands them over (--goodput ttft:100 tpot:50). See ParseSLO.
func ParseSLOArgs(args []string) (SLO, error) {
	var slo SLO
	seen := map[string]bool{}
	for _, tok := range args {
		key, val, ok := strings.Cut(strings.TrimSpace(tok), ":")
		if !ok {
			return SLO{}, &SLOError{Token: tok, Problem: "missing ':'"}
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var field *time.Duration
		switch key {
		case "ttft":
			field = &slo.TTFT
		case "tpot":
			field = &slo.TPOT
		case "e2el":
			field = &slo.E2EL
		default:
			return SLO{}, &SLOError{Token: tok, Problem: fmt.Sprintf("unknown key %q", key)}
		}
		if seen[key] {
			return SLO{}, &SLOError{Token: tok, Problem: fmt.Sprintf("key %q given twice", key)}
		}
		seen[key] = true
		ms, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return SLO{}, &SLOError{Token: tok, Problem: fmt.Sprintf("value %q is not a number", val)}
		}
		d := time.Duration(math.Round(ms * float64(time.Millisecond)))
		if math.IsNaN(ms) || math.IsInf(ms, 0) || ms <= 0 || d <= 0 || ms > float64(math.MaxInt64/int64(time.Millisecond)) {
			return SLO{}, &SLOError{Token: tok, Problem: fmt.Sprintf("value %q must be a finite number of milliseconds > 0", val)}
		}
		*field = d
	}
	return slo, nil
}

// String returns the objectives in ParseSLO's syntax, for example
// "ttft:100 tpot:50 e2el:3000"; "" for the zero SLO.
func (s SLO) String() string {
	var parts []string
	for i, d := range [...]time.Duration{s.TTFT, s.TPOT, s.E2EL} {
		if d != 0 {
			ms := float64(d) / float64(time.Millisecond)
			parts = append(parts, sloKeys[i]+":"+strconv.FormatFloat(ms, 'f', -1, 64))
		}
	}
	return strings.Join(parts, " ")
}

// Good reports whether r is a successful request that meets every set
// objective, with vLLM's rule: a metric meets its objective when it is <=
// the objective, and a request with at most one output token has TPOT 0.
func (s SLO) Good(r *Result) bool {
	if r == nil || !r.OK() {
		return false
	}
	if s.TTFT != 0 && r.TTFT() > s.TTFT {
		return false
	}
	if s.TPOT != 0 && r.TPOT() > s.TPOT {
		return false
	}
	if s.E2EL != 0 && r.E2EL() > s.E2EL {
		return false
	}
	return true
}
