package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// The sharding flags: --shard K/N runs shard K (0-based) of N of the
// schedule every shard computes alike from the same flags and --seed
// (servingbench.Shard: request i when i mod N == K); --start-at TIME
// (RFC 3339) makes every shard start its schedule at that wall-clock time,
// after its warm-ups. --max-concurrency is per shard.
type shardOptions struct {
	shardFlag, startAtFlag string
	shard                  servingbench.Shard
	startAt                time.Time
}

func (o *options) addShardFlags(a *argSet) {
	a.str(&o.shardFlag, "shard", "K/N: run shard K (0-based, 0..N-1) of N processes sharing one schedule, request i when i mod N == K; merge their --save-detailed files with servingbench merge (--max-concurrency is per shard)")
	a.str(&o.startAtFlag, "start-at", "RFC 3339 time (2026-12-02T07:00:00Z): wait until then to start the schedule, after the warm-ups, so that shards start together; a shard ready late counts from it anyway and warns")
}

// validateShard parses --shard and --start-at; both are for the benchmark
// command over requests.
func (o *options) validateShard() error {
	if o.shardFlag != "" {
		sh, err := servingbench.ParseShard(o.shardFlag)
		if err != nil {
			return fmt.Errorf("flag --shard: %w", err)
		}
		o.shard = sh
	}
	if o.startAtFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, o.startAtFlag)
		if err != nil {
			return fmt.Errorf("flag --start-at must be an RFC 3339 time such as 2026-12-02T07:00:00Z, got %q", o.startAtFlag)
		}
		o.startAt = t
	}
	for _, name := range []string{"shard", "start-at"} {
		switch {
		case !o.args.given(name):
		case o.cmd != "":
			return fmt.Errorf("flag --%s is for the benchmark command, not servingbench %s", name, o.cmd)
		case o.conversations():
			return fmt.Errorf("flag --%s applies to runs of requests; conversations cannot be sharded yet", name)
		}
	}
	return nil
}

// shardConfig adds the shard, the start time and the seed to cfg.
func (o *options) shardConfig(cfg *servingbench.Config) {
	cfg.Shard, cfg.StartAt, cfg.Seed = o.shard, o.startAt, int64(o.seed)
}

// runMerge is "servingbench merge [-o merged.json] SHARD.json...": it
// reads the --save-detailed result files of the shards of one run
// (--shard K/N), merges them (servingbench.Merge: as if one client had
// run them all), prints the result block and writes the merged result
// file, with its per-request arrays, to -o (default merged.json). Flags
// may come before or after the files. A file that cannot be read or
// merged fails the command naming it. args excludes "merge".
func runMerge(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "merged.json", "write the merged result file to `file`")
	files, help, err := parseFileArgs(fs, "usage: servingbench merge [-o merged.json] SHARD.json...\n\n"+
		"Merges the --save-detailed result files of the shards of one run (--shard K/N)\n"+
		"into the result one client would have had: percentiles over the pooled requests,\n"+
		"duration from the earliest start to the latest end, the server's metrics of one\n"+
		"shard (the widest window), never added up.\n\n", args, stderr)
	if help || err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{errors.New("merge: want the shards' result files (see servingbench merge -h)")}
	}
	reps := make([]*servingbench.Report, len(files))
	for i, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		reps[i], err = servingbench.ReadJSON(fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("merge: %s: %w", f, err)
		}
		if reps[i].Results == nil {
			return fmt.Errorf("merge: %s has no per-request arrays: it was not saved with --save-detailed", f)
		}
	}
	rep, err := servingbench.Merge(reps...)
	if err != nil {
		return fmt.Errorf("merge (files %v): %w", files, err)
	}
	if err := servingbench.WriteText(stdout, rep, servingbench.TextOptions{}); err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err := servingbench.WriteJSONFile(*out, rep, servingbench.JSONOptions{Detailed: true}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Merged result saved to", *out)
	return nil
}
