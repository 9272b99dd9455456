package benchtest_test

import (
	"os"
	"testing"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// BenchmarkChatAssistantSimulated runs scenarios.ChatAssistant at 8
// conversations on the simulated fp16 model (at its real speed) with and
// without a prefix cache: the README's per-turn table. It runs only with
// SERVINGBENCH_EXAMPLES=1 (some 30 s a sub-benchmark, most of it the
// users' think time):
//
//	SERVINGBENCH_EXAMPLES=1 go test ./benchtest -run '^$' -bench ChatAssistantSimulated -benchtime=1x -count 1 | tee chat.txt
//	benchstat -col /cache -row /turn -filter '.unit:(ttft-mean-ns OR in-tok/req)' chat.txt
func BenchmarkChatAssistantSimulated(b *testing.B) {
	if os.Getenv("SERVINGBENCH_EXAMPLES") == "" {
		b.Skip("the README's example: set SERVINGBENCH_EXAMPLES=1")
	}
	for _, c := range []struct {
		name  string
		cache int
	}{{"cache=off", 0}, {"cache=on", 1 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			m, _ := servingtest.Profile("fp16")
			m.PrefixCacheTokens = c.cache
			srv := servingtest.NewServer(m)
			defer srv.Close()
			benchtest.Run(b, scenarios.ChatAssistant(scenarios.WithNumPrompts(8)), benchtest.WithServer(srv))
		})
	}
}
