package benchtest

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/servingbench/servingbench/servingbench"
)

// EnvShard runs one shard of every benchmark's schedule: "K/N" (0-based,
// servingbench.ParseShard), as the CLI's --shard. Every run of a
// benchmark then sends the requests i of its seeded schedule with i mod
// N == K (servingbench.Config.Shard), records the shard in its report's
// Metadata["shard"] and reports the shard's own metrics: one process's
// share, which benchfmt lines of the N processes do not add up to the
// whole's percentiles (servingbench merge of their result files does).
// There is no common start time: each run starts when its benchmark
// iteration does. A run of conversations cannot be sharded yet and fails
// with Run's error.
const EnvShard = "SERVINGBENCH_SHARD"

// ShardFromEnv returns the shard SERVINGBENCH_SHARD sets, the zero Shard
// (the whole schedule) when it is unset or empty; a bad value is an error
// naming the variable and the value. getenv nil means os.Getenv.
func ShardFromEnv(getenv func(string) string) (servingbench.Shard, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := strings.TrimSpace(getenv(EnvShard))
	if s == "" {
		return servingbench.Shard{}, nil
	}
	sh, err := servingbench.ParseShard(s)
	if err != nil {
		return servingbench.Shard{}, fmt.Errorf("benchtest: %s=%q: %w", EnvShard, s, err)
	}
	return sh, nil
}

// envShard is ShardFromEnv(os.Getenv), read once per process.
var envShard = sync.OnceValues(func() (servingbench.Shard, error) { return ShardFromEnv(nil) })

// shardConfig gives cfg the environment's shard and seed.
func shardConfig(cfg *servingbench.Config, seed uint64) error {
	sh, err := envShard()
	if err != nil || sh.Count <= 1 {
		return err
	}
	cfg.Shard, cfg.Seed = sh, int64(seed)
	cfg.Metadata["shard"] = sh.String()
	return nil
}
