package servingbench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// Timeouts of the fault matrix: short, so that stalls cost little, and far
// apart, so that the reason tells which one fired.
const (
	matrixRequests    = 24
	matrixEvery       = 4
	matrixMaxTokens   = 12
	matrixAfter       = 2 // token chunks before a mid-stream fault acts
	matrixIdle        = 300 * time.Millisecond
	matrixTimeout     = 5 * time.Second
	matrixReturnSlack = 2 * time.Second
	// matrixStallTimeout is the request timeout of the stall case without
	// an idle timeout.
	matrixStallTimeout = 600 * time.Millisecond
)

// matrixModel is a model with short step times: a request of
// matrixMaxTokens takes 26 ms on the bubble's clock.
func matrixModel() servingtest.Model {
	return servingtest.Model{Name: "sim-matrix", DecodeBase: 2 * time.Millisecond}
}

// uniqueRequests returns n requests whose prompts tell them apart, so that a
// result can be matched with the server's record by prompt.
func uniqueRequests(n, maxTokens int) []servingbench.Request {
	reqs := make([]servingbench.Request, n)
	for i := range reqs {
		reqs[i] = servingbench.Request{Prompt: fmt.Sprintf("request %d of the fault matrix", i), MaxTokens: maxTokens}
	}
	return reqs
}

// faultCase is one row of the matrix.
type faultCase struct {
	name  string
	fault servingtest.Fault
	// model adjusts the simulated model (nil: matrixModel as is).
	model func(*servingtest.Model)
	// maxConcurrency is the Run's bound (0: none).
	maxConcurrency int
	// client adjusts the client configuration.
	client func(*servingbench.OpenAIConfig)
	// succeed: the faulted requests are valid and must succeed.
	succeed bool
	// reasons are the grouped reasons a faulted request may fail with;
	// detail matches its Error text.
	reasons []string
	detail  *regexp.Regexp
	// cascade: requests the fault did not select may fail too (the server
	// went away), with one of reasons.
	cascade bool
	// noDone: the faulted requests succeed with Result.NoDone, counted in
	// Report.NoDone.
	noDone bool
}

func faultCases() []faultCase {
	httpCase := func(kind servingtest.FaultKind, code int, detail string) faultCase {
		return faultCase{
			name:    kind.String(),
			fault:   servingtest.Fault{Kind: kind, Every: matrixEvery, RetryAfter: 2 * time.Second},
			reasons: []string{fmt.Sprintf("HTTP %d", code)},
			detail:  regexp.MustCompile(`^` + detail + `: \{"error": ?[\{"].*simulated fault`),
		}
	}
	return []faultCase{
		httpCase(servingtest.FaultBadRequest, 400, `HTTP 400`),
		httpCase(servingtest.FaultRateLimit, 429, `HTTP 429 \(Retry-After 2\)`),
		httpCase(servingtest.FaultInternal, 500, `HTTP 500`),
		httpCase(servingtest.FaultUnavailable, 503, `HTTP 503`),
		{
			name:    "reset",
			fault:   servingtest.Fault{Kind: servingtest.FaultReset, Every: matrixEvery, After: matrixAfter},
			reasons: []string{"connection reset"},
			detail:  regexp.MustCompile(fmt.Sprintf(`^connection reset after %d tokens: `, matrixAfter)),
		},
		{
			name:    "malformed-json",
			fault:   servingtest.Fault{Kind: servingtest.FaultMalformedJSON, Every: matrixEvery, After: matrixAfter},
			reasons: []string{"malformed JSON"},
			detail:  regexp.MustCompile(`^malformed JSON at byte [1-9][0-9]*: `),
		},
		{
			name:    "stall",
			fault:   servingtest.Fault{Kind: servingtest.FaultStall, Every: matrixEvery, After: matrixAfter},
			reasons: []string{"stream idle timeout"},
			detail:  regexp.MustCompile(fmt.Sprintf(`^no data for %v after %d tokens$`, matrixIdle, matrixAfter)),
		},
		{
			// Without an idle timeout, the request timeout ends a stall.
			name:    "stall-no-idle-timeout",
			fault:   servingtest.Fault{Kind: servingtest.FaultStall, Every: matrixEvery, After: matrixAfter},
			client:  func(c *servingbench.OpenAIConfig) { c.StreamIdleTimeout, c.RequestTimeout = 0, matrixStallTimeout },
			reasons: []string{"request timeout"},
			detail:  regexp.MustCompile(fmt.Sprintf(`^timeout after %v \(%d tokens received\)$`, matrixStallTimeout, matrixAfter)),
		},
		{
			// Complete but for [DONE]: a success, as vLLM's client counts it.
			name:    "no-done",
			fault:   servingtest.Fault{Kind: servingtest.FaultNoDone, Every: matrixEvery},
			succeed: true,
			noDone:  true,
		},
		{
			name:    "no-done-required",
			fault:   servingtest.Fault{Kind: servingtest.FaultNoDone, Every: matrixEvery},
			client:  func(c *servingbench.OpenAIConfig) { c.RequireDone = true },
			reasons: []string{"no [DONE]"},
			detail: regexp.MustCompile(fmt.Sprintf(`^stream ended without \[DONE\] after %d tokens \(finish_reason or usage seen; RequireDone is set\)$`,
				matrixMaxTokens)),
		},
		{
			name:    "truncate",
			fault:   servingtest.Fault{Kind: servingtest.FaultTruncate, Every: matrixEvery, After: matrixAfter},
			reasons: []string{"no finish_reason"},
			detail:  regexp.MustCompile(fmt.Sprintf(`^stream ended after %d tokens without finish_reason$`, matrixAfter)),
		},
		{
			// Each protocol's mid-stream error event.
			name:    "error-event",
			fault:   servingtest.Fault{Kind: servingtest.FaultErrorEvent, Every: matrixEvery, After: matrixAfter},
			reasons: []string{"server error event"},
			detail:  regexp.MustCompile(fmt.Sprintf(`^server error event after %d tokens: .*simulated fault error-event`, matrixAfter)),
		},
		{
			name:    "huge-line",
			fault:   servingtest.Fault{Kind: servingtest.FaultHugeLine, Every: matrixEvery, After: matrixAfter},
			succeed: true,
		},
		{
			name:    "huge-line-over-limit",
			fault:   servingtest.Fault{Kind: servingtest.FaultHugeLine, Every: matrixEvery, After: matrixAfter},
			client:  func(c *servingbench.OpenAIConfig) { c.MaxLineBytes = 1 << 20 },
			reasons: []string{"line too long"},
			detail:  regexp.MustCompile(fmt.Sprintf(`^line too long after %d tokens: `, matrixAfter)),
		},
		{
			name:    "invalid-utf8",
			fault:   servingtest.Fault{Kind: servingtest.FaultInvalidUTF8, Every: matrixEvery, After: matrixAfter},
			succeed: true,
		},
		{
			name:    "pings",
			fault:   servingtest.Fault{Kind: servingtest.FaultPings, Every: matrixEvery},
			succeed: true,
		},
		{
			name:    "trickle",
			fault:   servingtest.Fault{Kind: servingtest.FaultTrickle, Every: matrixEvery},
			succeed: true,
		},
		{
			name:    "wrong-content-type",
			fault:   servingtest.Fault{Kind: servingtest.FaultWrongContentType, Every: matrixEvery},
			reasons: []string{"wrong content type application/json"},
			detail:  regexp.MustCompile(`^wrong content type "application/json(; charset=utf-8)?", want text/event-stream: \{"error"`),
		},
		{
			// The 12th request shuts the server down while others wait in
			// its queue (MaxRunning 2, 8 in flight, so several wait even when
			// the scheduler is slow to send them): they and every later
			// request fail.
			name:           "go-away",
			fault:          servingtest.Fault{Kind: servingtest.FaultGoAway, Every: matrixRequests / 2},
			model:          func(m *servingtest.Model) { m.MaxRunning = 2 },
			maxConcurrency: 8,
			reasons:        []string{"connection reset", "connection refused", "HTTP 503", "transport error"},
			detail:         regexp.MustCompile(`^(connection reset after \d+ tokens?|request failed|HTTP 503)`),
			cascade:        true,
		},
	}
}

// matrixRow is one line of the summary table.
type matrixRow struct {
	kind, client      string
	ok, failed, fault int
	reasons, example  string
	took, worst       time.Duration // worst: largest |TTFT or E2EL - server's| of a success
}

// TestFaultMatrix runs every fault against every backend's client and
// every stream layout of its protocol (streamClients). A fault that does
// not apply to a protocol (servingtest's FaultKind.AppliesTo: FaultNoDone
// to the native protocols, whose last event is their only completion
// marker) is skipped with the reason.
func TestFaultMatrix(t *testing.T) {
	var rows []matrixRow
	for _, fc := range faultCases() {
		for _, sc := range streamClients() {
			t.Run(fc.name+"/"+sc.name, func(t *testing.T) {
				if !fc.fault.Kind.AppliesTo(sc.proto) {
					t.Skipf("%v does not apply to %v: its streams have no completion marker apart from the last event, which carries the finish reason and the counts", fc.fault.Kind, sc.proto)
				}
				if fc.fault.Kind == servingtest.FaultTruncate && sc.proto == servingtest.ProtocolTensorRTLLM {
					t.Skip("Triton's generate_stream has no end marker: a body cut cleanly at an event boundary is a complete stream to any client (TestTensorRTLLMTruncateUndetectable shows it)")
				}
				defer checkNoLeaks(t)()
				synctest.Test(t, func(t *testing.T) {
					rows = append(rows, runFaultCase(t, fc, sc.layout, sc.name, sc.new))
				})
			})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-21s %-21s %3s %6s %6s %7s %7s  %s\n", "fault", "client/layout", "ok", "failed", "faulty", "took", "Δtruth", "reasons (first error)")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-21s %-21s %3d %6d %6d %7v %7v  %s", r.kind, r.client, r.ok, r.failed, r.fault,
			r.took.Round(time.Millisecond), r.worst.Round(100*time.Microsecond), r.reasons)
		if r.example != "" {
			fmt.Fprintf(&b, " (%.70q)", r.example)
		}
		b.WriteByte('\n')
	}
	t.Logf("fault matrix, %d runs of %d requests:%s", len(rows), matrixRequests, b.String())
}

// runFaultCase runs one row inside a synctest bubble, against a server on
// an in-memory listener: the timeouts fire at their times on the bubble's
// clock, which stands still while the client or the server works (a 2 MiB
// line under the race detector on a busy machine included), so no timeout
// fires because the machine is slow.
func runFaultCase(t *testing.T, fc faultCase, layout func(*servingtest.Model), clientName string,
	newClient func(servingbench.OpenAIConfig) (*servingbench.StreamClient, error)) matrixRow {
	m := matrixModel()
	layout(&m)
	if fc.model != nil {
		fc.model(&m)
	}
	m.Faults = []servingtest.Fault{fc.fault}
	srv := newBubbleServer(t, m)
	defer srv.Close()

	cfg := bubbleConfig(srv)
	cfg.IgnoreEOS, cfg.KeepText = true, true
	cfg.RequestTimeout, cfg.StreamIdleTimeout = matrixTimeout, matrixIdle
	if fc.client != nil {
		fc.client(&cfg)
	}
	client, err := newClient(cfg)
	require.NoError(t, err)
	defer client.Close()

	reqs := uniqueRequests(matrixRequests, matrixMaxTokens)
	start := time.Now()
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client: client, Requests: reqs, MaxConcurrency: fc.maxConcurrency, Model: m.Name,
	})
	took := time.Since(start)
	require.NoError(t, err)
	// Every connection Run used has ended or is idle in the pool.
	client.Close()
	checkNoClientGoroutines(t)
	assert.Less(t, took, cfg.RequestTimeout+matrixReturnSlack, "Run returned after %v, want within RequestTimeout %v + %v", took, cfg.RequestTimeout, matrixReturnSlack)

	// Every request is accounted for, exactly once.
	require.Len(t, rep.Results, matrixRequests, "len(Report.Results)")
	assert.Equal(t, matrixRequests, rep.Completed+rep.Failed, "Completed %d + Failed %d, want %d", rep.Completed, rep.Failed, matrixRequests)
	seen := make([]bool, matrixRequests)
	for _, r := range rep.Results {
		require.NotNil(t, r)
		require.False(t, seen[r.Index], "request %d reported twice", r.Index)
		seen[r.Index] = true
	}
	assert.False(t, rep.Partial, "Report.Partial")

	truth := recordsByPrompt(srv.Truth())
	row := matrixRow{kind: fc.name, client: clientName, ok: rep.Completed, failed: rep.Failed, took: took}
	reasons := map[string]int{}
	for _, r := range rep.Results {
		prompt := reqs[r.Index].Prompt
		rec, received := truth[prompt]
		faulted := received && rec.Fault == fc.fault.Kind
		if faulted {
			row.fault++
		}
		if !r.OK() {
			reasons[servingbench.ErrorReason(r.Err)]++
			if row.example == "" && r.Err != nil {
				row.example = r.Err.Error()
			}
		}
		switch {
		case faulted && fc.succeed, !faulted && r.OK():
			if assert.True(t, r.OK(), "request %d (%s): Err = %v, want success", r.Index, rec.Fault, r.Err) {
				row.worst = max(row.worst, checkExact(t, r, rec))
			}
		case !faulted && !fc.cascade:
			t.Errorf("request %d (no fault, received %v): Err = %v, want success", r.Index, received, r.Err)
		default:
			if !assert.Error(t, r.Err, "request %d (%s): want a failure", r.Index, rec.Fault) {
				continue
			}
			assert.Contains(t, fc.reasons, servingbench.ErrorReason(r.Err), "request %d: ErrorReason(%v)", r.Index, r.Err)
			assert.Regexp(t, fc.detail, r.Err.Error(), "request %d: Err.Error()", r.Index)
			assert.False(t, r.Done.Before(r.Sent), "request %d: Done %v before Sent %v", r.Index, r.Done, r.Sent)
		}
	}
	if !fc.cascade {
		assert.Equal(t, matrixRequests/fc.fault.Every, row.fault, "requests the server faulted")
	} else {
		assert.Equal(t, 1, row.fault, "requests the server faulted")
	}
	noDone := 0
	for _, r := range rep.Results {
		if r.NoDone {
			noDone++
		}
	}
	if fc.noDone {
		assert.Equal(t, row.fault, noDone, "results with NoDone")
	} else {
		assert.Zero(t, noDone, "results with NoDone")
	}
	assert.Equal(t, noDone, rep.NoDone, "Report.NoDone")
	if !fc.cascade {
		// Every fault acts once the server has the request: none is a
		// connection the server closed before answering.
		assert.Zero(t, rep.Resent, "Report.Resent")
	}
	if fc.succeed {
		assert.Zero(t, rep.Failed, "Report.Failed")
	} else {
		assert.GreaterOrEqual(t, rep.Failed, row.fault, "Report.Failed")
	}
	row.reasons = checkReportedReasons(t, rep, reasons)
	if fc.fault.Kind == servingtest.FaultGoAway {
		// The server went away with requests waiting in its queue.
		queued := 0
		for _, rec := range srv.Truth() {
			if rec.Admitted.IsZero() && rec.Aborted == "server closed" {
				queued++
			}
		}
		assert.Positive(t, queued, "requests queued (never admitted) when the server closed")
	}
	if fc.fault.Kind == servingtest.FaultStall {
		// The client, not the server, ended the stalled streams.
		assert.Eventually(t, func() bool {
			for _, rec := range srv.Truth() {
				if rec.Fault == servingtest.FaultStall && rec.Aborted != "client gone" {
					return false
				}
			}
			return true
		}, 5*time.Second, 10*time.Millisecond, "stalled requests: server's Record.Aborted, want \"client gone\"")
	}
	return row
}

// recordsByPrompt indexes the server's records by prompt.
func recordsByPrompt(recs []servingtest.Record) map[string]servingtest.Record {
	m := make(map[string]servingtest.Record, len(recs))
	for _, r := range recs {
		m[r.Prompt] = r
	}
	return m
}

// checkExact compares a successful result with the server's record of
// the same request, for a test inside a synctest bubble: token counts, and
// token event times exactly (in the
// bubble, the client stamps a chunk at the instant the server flushed it).
// A trickled response is the exception: the server stamps the chunks of
// one write after its last byte, one byte at a time, while the client
// sees each chunk end as it comes, so its events are no later than the
// server's. It returns the largest difference of TTFT and E2EL.
func checkExact(t *testing.T, r *servingbench.Result, rec servingtest.Record) time.Duration {
	t.Helper()
	assert.Equal(t, rec.OutputTokens, r.OutputTokens, "request %d: OutputTokens", r.Index)
	assert.Equal(t, rec.PromptTokens, r.InputTokens, "request %d: InputTokens", r.Index)
	assert.Equal(t, wantOutputSource(rec.Protocol), r.OutputSource, "request %d: OutputSource", r.Index)
	if rec.Fault != servingtest.FaultTrickle {
		assert.Equal(t, rec.Chunks, eventTimes(r), "request %d: token events, want the server's flush times", r.Index)
	} else if assert.Len(t, r.Events, len(rec.Chunks), "request %d: token events vs chunks the server sent", r.Index) {
		for i, ev := range eventTimes(r) {
			assert.False(t, ev.After(rec.Chunks[i]), "request %d: event %d at %v, after the server's flush at %v", r.Index, i, ev, rec.Chunks[i])
		}
	}
	return max((r.TTFT() - rec.TTFT()).Abs(), (r.E2EL() - rec.E2EL()).Abs())
}

// Tolerances for comparing a client's measurement with the server's truth
// over a real connection, outside a bubble. The client's times include the
// request's trip to the server and the chunk's trip back, and the server
// stamps a chunk after its flush returns, so with the race detector on a
// loaded 2-core machine either side may lag by scheduling delays: the
// bounds only catch gross errors (a token lost or counted twice, a stall's
// time billed to others).
const (
	truthEarly = 150 * time.Millisecond
	truthLate  = time.Second
)

// checkMeasured is checkExact for a server on a real connection: token
// counts exactly, TTFT and E2EL within [-truthEarly, late] of the
// server's. It returns the largest difference.
func checkMeasured(t *testing.T, r *servingbench.Result, rec servingtest.Record, late time.Duration) time.Duration {
	t.Helper()
	assert.Equal(t, rec.OutputTokens, r.OutputTokens, "request %d: OutputTokens", r.Index)
	assert.Equal(t, rec.PromptTokens, r.InputTokens, "request %d: InputTokens", r.Index)
	assert.Equal(t, wantOutputSource(rec.Protocol), r.OutputSource, "request %d: OutputSource", r.Index)
	assert.Len(t, r.Events, len(rec.Chunks), "request %d: token events vs chunks the server sent", r.Index)
	var worst time.Duration
	for _, m := range []struct {
		name          string
		client, truth time.Duration
	}{{"TTFT", r.TTFT(), rec.TTFT()}, {"E2EL", r.E2EL(), rec.E2EL()}} {
		assert.GreaterOrEqual(t, m.client, m.truth-truthEarly, "request %d: %s = %v, server's %v", r.Index, m.name, m.client, m.truth)
		assert.LessOrEqual(t, m.client, m.truth+late, "request %d: %s = %v, server's %v", r.Index, m.name, m.client, m.truth)
		worst = max(worst, (m.client - m.truth).Abs())
	}
	return worst
}

// checkReportedReasons checks that the report groups the failures by
// reason, in Report.Errors, the text report and the JSON result file, with
// the per-request detail in the JSON's "errors". It returns the groups as
// "reason=count" for the summary table.
func checkReportedReasons(t *testing.T, rep *servingbench.Report, want map[string]int) string {
	t.Helper()
	got := map[string]int{}
	for _, e := range rep.Errors {
		got[e.Reason] = e.Count
	}
	assert.Equal(t, want, got, "Report.Errors")

	var text bytes.Buffer
	require.NoError(t, servingbench.WriteText(&text, rep, servingbench.TextOptions{}))
	if rep.Failed > 0 {
		assert.Regexp(t, fmt.Sprintf(`(?m)^Failed requests:\s+%d *$`, rep.Failed), text.String())
	}
	for reason, n := range want {
		assert.Regexp(t, fmt.Sprintf(`(?m)^  %s:\s+%d *$`, regexp.QuoteMeta(reason), n), text.String(), "text report")
	}

	var js bytes.Buffer
	require.NoError(t, servingbench.WriteJSON(&js, rep, servingbench.JSONOptions{Detailed: true}))
	var file struct {
		Completed   int            `json:"completed"`
		Failed      int            `json:"failed"`
		ErrorCounts map[string]int `json:"error_counts"`
		Errors      []string       `json:"errors"`
		Partial     bool           `json:"partial"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &file), "WriteJSON output is not JSON")
	assert.Equal(t, rep.Failed, file.Failed, "JSON failed")
	assert.Equal(t, rep.Completed, file.Completed, "JSON completed")
	assert.Equal(t, want, orEmpty(file.ErrorCounts), "JSON error_counts")
	require.Len(t, file.Errors, len(rep.Results), "JSON errors")
	for i, r := range rep.Results {
		if r.OK() {
			assert.Empty(t, file.Errors[i], "JSON errors[%d] of a success", i)
		} else {
			assert.Equal(t, r.Err.Error(), file.Errors[i], "JSON errors[%d]", i)
		}
	}

	keys := slices.Sorted(maps.Keys(want))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, want[k])
	}
	return strings.Join(parts, ", ")
}

func orEmpty(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}
