package benchtest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/servingbench/servingbench/servingbench"
)

// maxReasons is how many groups of failures a message lists, as the text
// report's block does; the rest are summed on one line.
const maxReasons = 10

// slaJudgesFailures reports whether sla bounds failures (a failed or
// failed_rate limit): it then decides whether a run's failed requests
// fail the benchmark, in its mode.
func slaJudgesFailures(sla servingbench.SLA) bool {
	for _, l := range sla.Limits {
		if l.Metric == servingbench.MetricFailed || l.Metric == servingbench.MetricFailedRate {
			return true
		}
	}
	return false
}

// failureCheck says how Run treats a run's failed requests: at most
// budget pass (0 by default); with judgedBySLA and no explicit budget,
// the SLA decides and there is no budget.
type failureCheck struct {
	budget      int
	explicit    bool // WithFailureBudget
	judgedBySLA bool // WithSLA with a failed or failed_rate limit
}

func (s settings) failureCheck() failureCheck {
	return failureCheck{budget: s.failureBudget, explicit: s.hasBudget, judgedBySLA: s.hasSLA && slaJudgesFailures(s.sla)}
}

// byBudget reports whether the budget decides (else the SLA does).
func (c failureCheck) byBudget() bool { return c.explicit || !c.judgedBySLA }

// check returns an error listing r's failures grouped by reason when they
// exceed the budget, nil otherwise or when the SLA decides. seed names the
// run.
func (c failureCheck) check(r *servingbench.Report, seed uint64) error {
	if r.Failed == 0 || !c.byBudget() || r.Failed <= c.budget {
		return nil
	}
	var s strings.Builder
	fmt.Fprintf(&s, "benchtest: %d of %d requests failed", r.Failed, r.Completed+r.Failed)
	if c.explicit {
		fmt.Fprintf(&s, ", more than the failure budget of %d (WithFailureBudget)", c.budget)
	}
	fmt.Fprintf(&s, " in the run with seed %d:%s", seed, failureReasons(r))
	if !c.explicit {
		s.WriteString("\n\ta run with failed requests fails the benchmark; accept some with benchtest.WithFailureBudget(n) or an SLA limit failed<=N or failed_rate<=F (WithSLA)")
	}
	return errors.New(s.String())
}

// failureReasons lists r's groups of failures, one a line: "\n\tN x
// REASON", followed by the first request's whole message when it says
// more (the server's words: "(first: HTTP 400: {...exceeds the available
// context size...})"), at most maxReasons lines.
func failureReasons(r *servingbench.Report) string {
	var s strings.Builder
	for i, e := range r.Errors {
		if i == maxReasons-1 && len(r.Errors) > maxReasons {
			rest := 0
			for _, e := range r.Errors[i:] {
				rest += e.Count
			}
			fmt.Fprintf(&s, "\n\t%d x (%d other reasons)", rest, len(r.Errors)-i)
			break
		}
		fmt.Fprintf(&s, "\n\t%d x %s", e.Count, e.Reason)
		if e.Example != "" && e.Example != e.Reason {
			fmt.Fprintf(&s, " (first: %s)", oneLine(e.Example, maxExampleRunes))
		}
	}
	return s.String()
}

// maxExampleRunes bounds the example message of a group of failures.
const maxExampleRunes = 300

// oneLine makes s one line of single spaces, at most n runes ("..." ends a
// cut one).
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-3]) + "..."
	}
	return s
}

// noSuccess returns an error when no request of r succeeded: none was
// sent, or all failed, listed as failureReasons lists them.
func noSuccess(r *servingbench.Report, seed uint64) error {
	err := r.NoSuccess()
	if err == nil || r.Failed == 0 {
		return err
	}
	return fmt.Errorf("benchtest: all %d requests failed in the run with seed %d:%s", r.Failed, seed, failureReasons(r))
}

// unjudgedFailures describes the failures of a run that neither the budget
// nor the SLA judged (an earlier run of a b.Loop the SLA does not see),
// "" when it had none.
func unjudgedFailures(r *servingbench.Report, seed uint64) string {
	if r.Failed == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %d of %d requests failed in the run with seed %d, a run before the one reported (the SLA judges only that one):%s",
		r.Failed, r.Completed+r.Failed, seed, failureReasons(r))
}
