package htmlreport

import (
	"strconv"

	"github.com/servingbench/servingbench/servingbench"
)

// perTurnRow is one row of the per-turn table: a statistic of one turn
// number, a value a file ("" for a file without that turn).
type perTurnRow struct {
	Turn, Metric, Unit string
	Values             []string
}

// perTurnRows is the per-turn table of the files that ran conversations
// (the result file's per_turn, servingbench.ConversationReport.PerTurn):
// for each turn number up to the last any file has, its mean input tokens
// and the mean and P99 of TTFT, TPOT, ITL and E2EL in milliseconds, files
// side by side as in the summary table. Nil when no file has per-turn
// data; a P99 the file does not hold is "".
func perTurnRows(runs []*Run) []perTurnRow {
	last := 0
	for _, r := range runs {
		if c := r.Report.Conversations; c != nil && len(c.PerTurn) > 0 {
			last = max(last, c.PerTurn[len(c.PerTurn)-1].Turn)
		}
	}
	var rows []perTurnRow
	for k := 1; k <= last; k++ {
		add := func(metric, unit string, f func(t *servingbench.TurnSummary) string) {
			row := perTurnRow{Turn: strconv.Itoa(k), Metric: metric, Unit: unit}
			for _, r := range runs {
				v := ""
				if t := turnOf(r.Report, k); t != nil {
					v = f(t)
				}
				row.Values = append(row.Values, v)
			}
			rows = append(rows, row)
		}
		add("mean input tokens", "", func(t *servingbench.TurnSummary) string { return fmtFloat(t.MeanInputTokens()) })
		for _, m := range []struct {
			name string
			of   func(*servingbench.TurnSummary) servingbench.Summary
		}{
			{"TTFT", func(t *servingbench.TurnSummary) servingbench.Summary { return t.TTFT }},
			{"TPOT", func(t *servingbench.TurnSummary) servingbench.Summary { return t.TPOT }},
			{"ITL", func(t *servingbench.TurnSummary) servingbench.Summary { return t.ITL }},
			{"E2EL", func(t *servingbench.TurnSummary) servingbench.Summary { return t.E2EL }},
		} {
			add("mean "+m.name, "ms", func(t *servingbench.TurnSummary) string { return fmtFloat(millis(m.of(t).Mean)) })
			add("P99 "+m.name, "ms", func(t *servingbench.TurnSummary) string {
				if p, ok := m.of(t).Percentile(99); ok {
					return fmtFloat(millis(p))
				}
				return ""
			})
		}
	}
	return rows
}

// turnOf is turn k's summary in rep, nil when rep has none.
func turnOf(rep *servingbench.Report, k int) *servingbench.TurnSummary {
	if rep.Conversations == nil {
		return nil
	}
	for i := range rep.Conversations.PerTurn {
		if rep.Conversations.PerTurn[i].Turn == k {
			return &rep.Conversations.PerTurn[i]
		}
	}
	return nil
}
