package servingbench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// conversations prints what a run of conversations adds, after the
// reasoning section: a "Conversations" section (the conversations, how
// many completed every turn, the active bound, whether the dataset's
// replies were replayed, the turns not sent by reason, the conversation
// duration's mean, median and P99 in seconds, the server's prefix-cache
// hit rate), then a "Per Turn" table of the successful and failed turns
// and the mean input and output tokens of each turn number, and one table
// a latency (TTFT, TPOT, ITL, E2EL) of its mean, median and P99 in
// milliseconds by turn number. Nothing for a run of requests.
func conversations(b *strings.Builder, r *Report) {
	c := r.Conversations
	if c == nil {
		return
	}
	b.WriteString(centre("Conversations", '-') + "\n")
	intLine(b, "Conversations:", c.Conversations)
	intLine(b, "Completed conversations:", c.Completed)
	if c.MaxActive > 0 {
		intLine(b, "Max active conversations:", c.MaxActive)
	}
	if c.ReplayReplies {
		valueLine(b, "History replies:", "dataset's")
	}
	for _, e := range c.NotSent {
		intLine(b, "Turns not sent ("+shortReason(e.Reason)+"):", e.Count)
	}
	if c.Duration.Count > 0 {
		floatLine(b, "Mean conversation duration (s):", c.Duration.Mean.Seconds())
		floatLine(b, "Median conversation duration (s):", c.Duration.Median.Seconds())
		p99, _ := c.Duration.Percentile(99)
		floatLine(b, "P99 conversation duration (s):", p99.Seconds())
	}
	if p := c.PrefixCache; p != nil {
		floatLine(b, "Prefix cache hit rate (%):", 100*p.HitRate())
		intLine(b, "Prefix cache hit tokens:", int(p.Hits))
		intLine(b, "Prefix cache queried tokens:", int(p.Queries))
	}
	if len(c.PerTurn) == 0 {
		return
	}
	b.WriteString(centre("Per Turn", '-') + "\n")
	row(b, "Turn", "OK", "Failed", "Mean in", "Mean out")
	for _, t := range c.PerTurn {
		row(b, strconv.Itoa(t.Turn), strconv.Itoa(t.Completed), strconv.Itoa(t.Failed),
			pyFixed2(t.MeanInputTokens()), pyFixed2(t.MeanOutputTokens()))
	}
	for _, m := range turnMetrics {
		b.WriteString(centre("Per-turn "+m.name+" (ms)", '-') + "\n")
		row(b, "Turn", "Mean", "Median", "P99", "")
		for _, t := range c.PerTurn {
			s := m.of(&t)
			p99, _ := s.Percentile(99)
			row(b, strconv.Itoa(t.Turn), ms2(s.Mean), ms2(s.Median), ms2(p99), "")
		}
	}
}

// turnMetrics are the latencies ConversationReport summarises by turn.
var turnMetrics = []struct {
	name, key string
	of        func(*TurnSummary) Summary
}{
	{"TTFT", "ttft", func(t *TurnSummary) Summary { return t.TTFT }},
	{"TPOT", "tpot", func(t *TurnSummary) Summary { return t.TPOT }},
	{"ITL", "itl", func(t *TurnSummary) Summary { return t.ITL }},
	{"E2EL", "e2el", func(t *TurnSummary) Summary { return t.E2EL }},
}

func ms2(d time.Duration) string { return pyFixed2(durationMS(d)) }

// row prints a table row in the block's 50 columns: the first cell
// left-justified in 6, the others right-justified in 11 each.
func row(b *strings.Builder, first string, cells ...string) {
	line := fmt.Sprintf("%-6s", first)
	for _, c := range cells {
		line += fmt.Sprintf("%11s", c)
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
}
