package capacity_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got), "%s (go test -update rewrites it)", path)
}

func TestSearchOutput(t *testing.T) {
	ttfts := map[int][]time.Duration{
		1: {20 * time.Millisecond},
		2: {40 * time.Millisecond},
		4: {98 * time.Millisecond, 130 * time.Millisecond, 99 * time.Millisecond},
		8: {250 * time.Millisecond},
		6: {180 * time.Millisecond},
		5: {140 * time.Millisecond},
	}
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{report: func(l capacity.Load, trial int) *servingbench.Report {
			rep := ttftReport(ttfts[l.Concurrency][trial])
			rep.MaxConcurrency, rep.NumPrompts = l.Concurrency, l.Requests
			if l.Concurrency == 8 {
				rep.Failed = 2
			}
			return rep
		}}
		res, err := capacity.Search(t.Context(), capacity.SearchConfig{
			Dimension: capacity.MaxConcurrency,
			SLA:       servingbench.MustParseSLA("ttft.p99<=100ms failed<=0"),
			Run:       f.run,
		})
		require.NoError(t, err)
		require.Equal(t, 4.0, res.Capacity)

		var text bytes.Buffer
		require.NoError(t, res.WriteText(&text))
		golden(t, "search.txt", text.Bytes())

		var js bytes.Buffer
		require.NoError(t, res.WriteJSON(&js, servingbench.JSONOptions{}))
		golden(t, "search.json", js.Bytes())

		// The keys the capacity command's --save-result promises.
		var doc struct {
			Capacity float64 `json:"capacity"`
			Search   string  `json:"search"`
			AtLeast  bool    `json:"at_least"`
			SLA      string  `json:"sla"`
			Points   []struct {
				Load       float64          `json:"load"`
				Verdict    string           `json:"verdict"`
				Flipped    bool             `json:"flipped"`
				Violations []map[string]any `json:"violations"`
				Metrics    map[string]any   `json:"metrics"`
				Trials     []map[string]any `json:"trials"`
			} `json:"points"`
		}
		require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
		assert.Equal(t, 4.0, doc.Capacity)
		assert.Equal(t, "max-concurrency", doc.Search)
		assert.False(t, doc.AtLeast)
		assert.Equal(t, "ttft.p99<=100ms failed<=0", doc.SLA)
		require.Len(t, doc.Points, 6)
		p4 := doc.Points[2]
		assert.Equal(t, 4.0, p4.Load)
		assert.Equal(t, "pass", p4.Verdict)
		assert.True(t, p4.Flipped)
		assert.Len(t, p4.Trials, 3, "a repeated point lists its runs")
		assert.Equal(t, 98.0, p4.Metrics["p99_ttft_ms"], "the judged run's vLLM metrics")
		p8 := doc.Points[3]
		assert.Equal(t, "fail", p8.Verdict)
		assert.Nil(t, p8.Trials)
		require.Len(t, p8.Violations, 2)
		assert.Equal(t, map[string]any{"limit": "ttft.p99<=100ms", "value": 250.0, "unit": "ms", "excess": 150.0, "excess_ratio": 1.5}, p8.Violations[0])
		assert.Equal(t, map[string]any{"limit": "failed<=0", "value": 2.0, "unit": "requests", "excess": 2.0, "excess_ratio": nil}, p8.Violations[1])
		assert.Equal(t, 8.0, p8.Metrics["max_concurrency"])
	})
}

func TestSweepOutput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		cfg := knownConfig(t, srv, 20)
		cfg.Goodput = servingbench.SLO{TTFT: 15 * time.Millisecond}
		res, err := capacity.Sweep(t.Context(), []capacity.Load{{Concurrency: 1, Requests: 20}, {Rate: 2, Requests: 20}},
			capacity.ConfigRunner(cfg, evenly), capacity.SweepOptions{})
		require.NoError(t, err)

		var table bytes.Buffer
		require.NoError(t, res.WriteTable(&table, capacity.TableOptions{}))
		golden(t, "sweep.txt", table.Bytes())

		var js bytes.Buffer
		require.NoError(t, res.WriteJSON(&js, servingbench.JSONOptions{}))
		var doc struct {
			Points []struct {
				RequestRate    any            `json:"request_rate"`
				MaxConcurrency any            `json:"max_concurrency"`
				NumPrompts     int            `json:"num_prompts"`
				Duration       float64        `json:"duration"`
				Metrics        map[string]any `json:"metrics"`
			} `json:"points"`
			Interrupted any `json:"interrupted"`
		}
		require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
		require.Len(t, doc.Points, 2)
		assert.Equal(t, "inf", doc.Points[0].RequestRate)
		assert.Equal(t, 1.0, doc.Points[0].MaxConcurrency)
		assert.Equal(t, 2.0, doc.Points[1].RequestRate)
		assert.Nil(t, doc.Points[1].MaxConcurrency)
		assert.Equal(t, 20, doc.Points[1].NumPrompts)
		assert.Equal(t, (20 * knownS).Seconds(), doc.Points[0].Duration)
		assert.Equal(t, 20.0, doc.Points[0].Metrics["completed"])
		assert.Nil(t, doc.Interrupted)

		var out bytes.Buffer
		require.NoError(t, res.WriteCSV(&out, servingbench.JSONOptions{}))
		rows, err := csv.NewReader(&out).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 3, "a header and a row per point")
		col := map[string]int{}
		for i, k := range rows[0] {
			col[k] = i
		}
		for _, k := range []string{"date", "request_rate", "max_concurrency", "completed", "request_throughput", "p99_ttft_ms", "mean_e2el_ms", "error_counts"} {
			assert.Contains(t, col, k)
		}
		assert.Equal(t, "inf", rows[1][col["request_rate"]])
		assert.Equal(t, "1", rows[1][col["max_concurrency"]])
		assert.Equal(t, "", rows[2][col["max_concurrency"]], "null is an empty cell")
		assert.Equal(t, "{}", rows[1][col["error_counts"]])
		assert.Equal(t, "20", rows[2][col["completed"]])
	})
}
