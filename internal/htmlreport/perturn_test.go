package htmlreport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// conversationRun is fixtureRun's requests as conversations of turns
// turns (request i is turn i%turns+1, with 32 input tokens a turn of
// history), its per-turn summaries the runner's (servingbench.PerTurn).
func conversationRun(n, turns int, label string) *servingbench.Report {
	rep := fixtureRun(n, label, "m")
	rep.TotalInputTokens = 0
	for i, r := range rep.Results {
		r.Conversation, r.Turn = i/turns, i%turns+1
		r.InputTokens = 32 * r.Turn
		if r.OK() {
			rep.TotalInputTokens += r.InputTokens
		}
	}
	rep.Conversations = &servingbench.ConversationReport{Conversations: n / turns, Started: n / turns, Turns: n,
		PerTurn: servingbench.PerTurn(rep.Results)}
	return rep
}

// The per-turn table: a row a turn and statistic, the files side by side
// as in the summary table, "" for a file without the turn or without
// conversations; the fixture's every successful request has TTFT 50 ms,
// TPOT (130-50)/9 ms, ITL 20 ms and E2EL 130 ms. A label is text in it.
// Files without conversations give no table.
func TestPerTurnTable(t *testing.T) {
	evil := `<b>three</b>`
	a := load(t, "a.json", fileOf(t, conversationRun(12, 3, evil), true))
	b := load(t, "b.json", fileOf(t, conversationRun(6, 2, "two"), false))
	plain := load(t, "plain.json", fileOf(t, fixtureRun(5, "plain", "m"), true))
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, []*Run{a, b, plain}))
	page := buf.String()
	contains(t, page, `<table id="per-turn">`+"\n"+`<tr><th>turn</th><th>metric</th><th>unit</th><th>&lt;b&gt;three&lt;/b&gt;</th><th>two</th><th>plain</th></tr>`)
	notContains(t, page, "<b>three</b>", "a label is text")
	cell := func(vs ...string) string {
		s := ""
		for _, v := range vs {
			s += `<td class="num">` + v + `</td>`
		}
		return s + "</tr>"
	}
	for _, row := range []string{
		`<tr><td>1</td><td>mean input tokens</td><td></td>` + cell("32.00", "32.00", ""),
		`<tr><td>2</td><td>mean input tokens</td><td></td>` + cell("64.00", "64.00", ""),
		`<tr><td>3</td><td>mean input tokens</td><td></td>` + cell("96.00", "", ""),
		`<tr><td>1</td><td>mean TTFT</td><td>ms</td>` + cell("50.00", "50.00", ""),
		`<tr><td>2</td><td>P99 TTFT</td><td>ms</td>` + cell("50.00", "50.00", ""),
		`<tr><td>3</td><td>mean TPOT</td><td>ms</td>` + cell("8.89", "", ""),
		`<tr><td>1</td><td>P99 ITL</td><td>ms</td>` + cell("20.00", "20.00", ""),
		`<tr><td>3</td><td>P99 E2EL</td><td>ms</td>` + cell("130.00", "", ""),
	} {
		contains(t, page, row)
	}
	table := page[strings.Index(page, `<table id="per-turn">`):]
	table = table[:strings.Index(table, "</table>")]
	assert.Equal(t, 1+3*9, strings.Count(table, "<tr>"), "the header, then 9 rows for each of 3 turns")

	buf.Reset()
	require.NoError(t, WriteHTML(&buf, []*Run{plain}))
	notContains(t, buf.String(), `id="per-turn"`, "no file ran conversations")
}
