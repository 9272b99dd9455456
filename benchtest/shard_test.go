package benchtest_test

import (
	"testing"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/servingbench"
)

func TestShardFromEnv(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == benchtest.EnvShard {
				return v
			}
			return ""
		}
	}
	if sh, err := benchtest.ShardFromEnv(env(" 1/3 ")); err != nil || sh != (servingbench.Shard{Index: 1, Count: 3}) {
		t.Fatalf("1/3: %v, %v", sh, err)
	}
	if sh, err := benchtest.ShardFromEnv(env("")); err != nil || sh != (servingbench.Shard{}) {
		t.Fatalf("unset: %v, %v", sh, err)
	}
	want := `benchtest: SERVINGBENCH_SHARD="3/3": shard index must be in [0, count) and count >= 1, got index 3 of count 3`
	if _, err := benchtest.ShardFromEnv(env("3/3")); err == nil || err.Error() != want {
		t.Fatalf("3/3: error %v, want %s", err, want)
	}
}
