package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/servingbench/servingbench/servingbench"
)

// Dataset makes the requests of a benchmark. Requests returns n requests;
// each has Prompt, PromptTokens (tok's count of Prompt exactly as it will be
// sent) and MaxTokens set. The same seed gives the same requests.
// String names the dataset and its parameters as slash-separated key=value
// pairs, usable in a sub-benchmark name.
//
// Requests honours ctx: when it is done, Requests stops within a few
// hundred prompts and returns an error wrapping ctx.Err().
type Dataset interface {
	Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error)
	String() string
}

// Scheduled is a Dataset that carries its own arrival times (BurstGPT's
// timestamps). Arrival returns the schedule of the n requests Requests
// returns for the same n and seed. A Scenario whose RequestRate is 0 uses it
// in place of a Gamma process.
type Scheduled interface {
	Dataset
	Arrival(n int, seed uint64) (servingbench.Arrival, error)
}

// FileError reports a bad dataset file: the file, where in it (Unit is
// "line" or "record"; Pos counts from 1, 0 means the file as a whole)
// and what is wrong.
type FileError struct {
	Path string
	Unit string
	Pos  int
	Err  error
}

func (e *FileError) Error() string {
	if e.Pos == 0 {
		return fmt.Sprintf("scenarios: %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("scenarios: %s: %s %d: %v", e.Path, e.Unit, e.Pos, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// ErrEmpty is wrapped by the FileError of a file that holds no usable entry.
var ErrEmpty = errors.New("no usable entries")

// checkArgs validates what every Dataset.Requests receives.
func checkArgs(name string, tok servingbench.Tokenizer, n int) error {
	if tok == nil {
		return fmt.Errorf("scenarios: %s: tokenizer is nil", name)
	}
	if v := tok.VocabSize(); v <= 0 {
		return fmt.Errorf("scenarios: %s: tokenizer VocabSize must be > 0, got %d", name, v)
	}
	if n < 0 {
		return fmt.Errorf("scenarios: %s: n must be >= 0, got %d", name, n)
	}
	return nil
}

// readDataset checks what Requests received and the dataset's fields, then
// opens the dataset's file and reads it with read. Errors opening the file
// name it.
func readDataset[T any](ctx context.Context, name string, d interface{ Validate() error }, path string,
	tok servingbench.Tokenizer, n int, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	if err := checkArgs(name, tok, n); err != nil {
		return zero, err
	}
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("scenarios: preparing the requests: %w", context.Cause(ctx))
	}
	if err := d.Validate(); err != nil {
		return zero, err
	}
	f, err := os.Open(path)
	if err != nil {
		return zero, &FileError{Path: path, Err: err}
	}
	defer f.Close()
	return read(f)
}

// Random streams: each use of the seed draws from its own PCG stream so
// that adding a draw in one place does not shift the others.
const (
	streamLengths uint64 = iota + 1
	streamShuffle
	streamOversample
	streamPick
	streamPerRequest = 1 << 32 // + request index
)

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// checkEvery is how many calls of fn a worker of parallel makes between
// looks at its context.
const checkEvery = 64

// parallel calls fn(i) for every i in [0, n) on up to GOMAXPROCS
// goroutines and returns when all calls have returned. When ctx is done it
// stops early (each worker looks every checkEvery calls, and before its
// first) and returns an error wrapping ctx.Err(); not every i was then
// called. A ctx done by the time the calls end is an error too.
func parallel(ctx context.Context, n int, fn func(i int)) error {
	workers := max(min(runtime.GOMAXPROCS(0), n), 1)
	var next atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := 0; ; k++ {
				if k%checkEvery == 0 && ctx.Err() != nil {
					stopped.Store(true)
					return
				}
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
	// A ctx done during the calls fails the preparation even when every
	// worker had finished before its next look (a dataset of fewer rows
	// than checkEvery per worker).
	if stopped.Load() || ctx.Err() != nil {
		return fmt.Errorf("scenarios: preparing the requests: %w", context.Cause(ctx))
	}
	return nil
}

// oversample appends, with replacement, seeded picks from reqs until it
// holds n requests, as vLLM's maybe_oversample_requests does.
func oversample(reqs []servingbench.Request, n int, seed uint64) []servingbench.Request {
	if len(reqs) == 0 || len(reqs) >= n {
		return reqs
	}
	rng := newRand(seed, streamOversample)
	have := len(reqs)
	for len(reqs) < n {
		reqs = append(reqs, reqs[rng.IntN(have)])
	}
	return reqs
}

// shuffle permutes s with the seed's shuffle stream.
func shuffle[T any](s []T, seed uint64) {
	rng := newRand(seed, streamShuffle)
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// base is the file name used in String: short and free of separators.
func base(path string) string {
	if path == "" {
		return "none"
	}
	return filepath.Base(path)
}
