package benchtest_test

import (
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// TestRunWithServer: Run, too, measures a caller's server on an
// in-memory listener, on the bubble's clock: one request at a time, each
// exactly S.
func TestRunWithServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := knownServer(t)
		sc := knownScenario()
		sc.NumPrompts, sc.MaxConcurrency = 10, 1
		var rep *servingbench.Report
		r := benchmark(t, "1x", func(b *testing.B) { rep = benchtest.Run(b, sc, benchtest.WithServer(srv)) })
		require.Equal(t, 1, r.N)
		assert.Equal(t, 10*knownS, rep.Duration)
		assert.Equal(t, float64(knownS), r.Extra["e2el-mean-ns"])
		assert.Equal(t, float64(knownD), r.Extra["ttft-p99-ns"], "an idle engine answers in one step")
		assert.Equal(t, "sim-fixed-service", rep.Model)
		assert.Equal(t, "servingtest.WordTokenizer", rep.TokenizerID, "the server's tokenizer")
		assert.Len(t, srv.Truth(), 10)
	})
}

func TestWithServerFails(t *testing.T) {
	unstarted := servingtest.NewUnstartedServer(servingtest.ZeroCost())
	defer unstarted.Close()
	started := servingtest.NewServer(servingtest.ZeroCost())
	defer started.Close()
	tests := []struct {
		name string
		opts []benchtest.Option
		pass bool
	}{
		{"nil server", []benchtest.Option{benchtest.WithServer(nil)}, false},
		{"server not started", []benchtest.Option{benchtest.WithServer(unstarted)}, false},
		{"WithTarget replaces WithServer", []benchtest.Option{benchtest.WithServer(nil), zero}, true},
		{"WithServer replaces WithTarget", []benchtest.Option{benchtest.WithTarget(benchtest.Target{Backend: "tgi"}), benchtest.WithServer(started)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := benchmark(t, "1x", func(b *testing.B) { benchtest.Run(b, tiny(), tt.opts...) })
			assert.Equal(t, tt.pass, res.N == 1, "benchmark passed")
		})
	}
}
