// Command servingbench benchmarks an OpenAI-compatible LLM server the way
// vLLM's benchmarks/benchmark_serving.py (v0.9.1) does, with the same flags,
// the same metric definitions and the same printed block.
//
//	servingbench --backend vllm --model qwen2.5 --dataset-name random \
//	    --tokenizer /data/models/llm/qwen/Qwen2.5-32B-Instruct \
//	    --random-input-len 256 --num-prompts 640 --base-url http://127.0.0.1:1025
//
// Without --base-url or --host it starts the built-in simulated server on
// 127.0.0.1 and benchmarks that. An https:// server is verified with
// --ca-cert (or not, --insecure) and given --client-cert and --client-key
// when it requires a client certificate; --header and --extra-body add to
// every request; proxies come from HTTP_PROXY, HTTPS_PROXY and NO_PROXY
// (conn.go). --ready-check-timeout-sec waits for a server that is
// starting and --num-warmups sends untimed requests before the run, as
// vllm bench serve does. Before the run it prints who the server
// says it is, when it says (a "Server:" line, target.Identify), and saves
// it in the result file as server and server_id. Subcommands:
//
//	servingbench sweep [flags]                           the benchmark at a list of loads, one table
//	servingbench capacity --sla SLA [flags]              the largest load that meets an SLA
//	servingbench tokenize --tokenizer PATH [--decode]   ids for JSON strings on stdin
//	servingbench compare [flags] OLD.txt NEW.txt        regression gate over benchfmt files
//	servingbench report [-o FILE] RESULT.json...        HTML (or --format png) report of result files
//	servingbench merge [-o FILE] SHARD.json...          one result of the shards of a run (--shard K/N)
//
// The flags of every subcommand are parsed here: bench's in options.go and
// args.go (argparse-style), sweep's and capacity's in sweep.go and
// capacity.go on top of bench's (over servingbench/capacity; prepare.go
// holds the set-up the three share), compare's in compare.go (over
// benchtest/gate), tokenize's in tokenize.go (over internal/tokenizecmd).
// The binary links neither testing nor testify (TestNoTestingDeps).
//
// The first Ctrl-C stops dispatching, cancels the requests in flight and
// still prints (and saves) the report of what was measured, marked partial;
// a sweep or a search keeps the points finished, prints and saves them,
// and exits with status 130. A second Ctrl-C exits at once.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nservingbench: interrupted: stopping (Ctrl-C again to exit at once)")
		cancel(errors.New("interrupted"))
		<-sigs
		os.Exit(130)
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, errInterrupted) {
		os.Exit(130) // said already
	}
	if err != nil {
		// Library errors carry their package's prefix already.
		fmt.Fprintln(os.Stderr, "servingbench:", strings.TrimPrefix(err.Error(), "servingbench: "))
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errInterrupted is run's error when an interrupt came before the benchmark
// started; the message is printed already (exit status 130, as for a
// process ended by SIGINT).
var errInterrupted = errors.New("interrupted before the benchmark started")

// usageError marks a bad command line (exit status 2, like argparse).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// run is the whole program, minus signals and exit codes.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "tokenize":
			return runTokenize(ctx, args[1:], stdin, stdout, stderr)
		case "compare":
			return runCompare(args[1:], stdout, stderr)
		case "sweep":
			return runSweep(ctx, args[1:], stdout, stderr)
		case "capacity":
			return runCapacity(ctx, args[1:], stdout, stderr)
		case "report":
			return runReport(args[1:], stdout, stderr)
		case "merge":
			return runMerge(args[1:], stdout, stderr)
		}
	}
	return runBench(ctx, args, stdout, stderr)
}
