package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

func TestRenderProgress(t *testing.T) {
	running := progressState{done: 450, total: 1000, failed: 3, started: true, elapsed: 12 * time.Second}
	tests := []struct {
		name  string
		width int
		s     progressState
		want  string
	}{
		// 450 in 12 s: 37.5 req/s, so the other 550 take 14.67 s.
		{"wide", 120, running, " 45%|██████████████████                      | 450/1000 [00:12<00:14, 37.50 req/s, 3 failed]"},
		{"80 columns", 80, running, " 45%|████████████▏              | 450/1000 [00:12<00:14, 37.50 req/s, 3 failed]"},
		// 40 columns: no room for a bar of 10 cells, which goes; then the
		// stats drop from the right until the line fits in 39.
		{"40 columns", 40, running, " 45% 450/1000 [00:12<00:14, 3 failed]"},
		{"30 columns", 30, running, " 45% 450/1000 [3 failed]"},
		{"20 columns", 20, running, " 45% 450/1000"},
		{"10 columns", 10, running, " 45% 450/"},
		{"before dispatch", 60, progressState{total: 1000}, "  0%|                         | 0/1000 [starting, 0 failed]"},
		{"no result yet", 80, progressState{total: 10, started: true, elapsed: 1500 * time.Millisecond},
			"  0%|                                    | 0/10 [00:01<?, 0.00 req/s, 0 failed]"},
		{"done", 80, progressState{done: 10, total: 10, started: true, elapsed: 2 * time.Hour},
			"100%|█████████████████████████████| 10/10 [2:00:00<00:00, 0.00 req/s, 0 failed]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderProgress(tt.width, tt.s)
			assert.Equal(t, tt.want, got)
			assert.Less(t, utf8.RuneCountInString(got), tt.width, "columns: the line must not reach the last one, where it would wrap")
		})
	}
}

// TestProgressClock: the bar's clock starts when Run starts dispatching
// (Config.OnStart), not when the bar was started: here a warm-up of 1 s
// (a request of 10 steps of 100ms) comes first, so a bar counting it would
// show 2 s and half the rate.
func TestProgressClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		p := newProgress(&buf, 1, true)
		require.False(t, p.enabled, "no bar when the output is not a terminal")
		p.enabled, p.width = true, func() int { return 80 } // draw as on a terminal
		srv := servingtest.NewUnstartedServer(servingtest.FixedService(1, 100*time.Millisecond))
		srv.Listener = servingtest.NewListener()
		srv.Start()
		defer srv.Close()
		client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: srv.Model().Name,
			HTTPClient: srv.Client(), IgnoreEOS: true})
		require.NoError(t, err)
		defer client.Close()
		var started []time.Time
		p.start()
		rep, err := servingbench.Run(t.Context(), servingbench.Config{Client: client, Warmups: 1, NoPrewarm: true,
			Requests: []servingbench.Request{{Prompt: "a b c", MaxTokens: 10}},
			OnResult: p.add, OnStart: func(at time.Time) { started = append(started, at); p.started(at) }})
		require.NoError(t, err)
		p.stop()
		assert.Equal(t, []time.Time{rep.Date}, started, "OnStart: once, at the report's Date")
		assert.Equal(t, time.Second, rep.Duration)
		lines := strings.Split(buf.String(), "\r")
		last := strings.TrimSuffix(lines[len(lines)-1], "\x1b[K\n")
		assert.Equal(t, "100%|█████████████████████████████████| 1/1 [00:01<00:00, 1.00 req/s, 0 failed]", last)
		assert.Contains(t, buf.String(), "\r  0%|                                        | 0/1 [starting, 0 failed]\x1b[K",
			"during the warm-up")
	})
	p := newProgress(&bytes.Buffer{}, 2, true)
	p.add(&servingbench.Result{Err: errors.New("boom")})
	assert.EqualValues(t, 1, p.failed.Load())
}
