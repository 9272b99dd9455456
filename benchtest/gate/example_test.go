package gate_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/servingbench/servingbench/benchtest/gate"
)

// Two go test -bench outputs of the same scenario against an FP16 and a
// W8A8 build (synthetic numbers): TTFT p99 rose by about 20%, request
// throughput did not change significantly.
const (
	fp16 = `goos: linux
goarch: amd64
pkg: example.com/serving
BenchmarkServing/rate=8-4  1  501000000 ttft-p99-ns  8.01 req/s
BenchmarkServing/rate=8-4  1  498000000 ttft-p99-ns  7.98 req/s
BenchmarkServing/rate=8-4  1  505000000 ttft-p99-ns  8.03 req/s
BenchmarkServing/rate=8-4  1  499000000 ttft-p99-ns  8.00 req/s
BenchmarkServing/rate=8-4  1  503000000 ttft-p99-ns  7.97 req/s
BenchmarkServing/rate=8-4  1  500000000 ttft-p99-ns  8.02 req/s
`
	w8a8 = `goos: linux
goarch: amd64
pkg: example.com/serving
BenchmarkServing/rate=8-4  1  601000000 ttft-p99-ns  8.02 req/s
BenchmarkServing/rate=8-4  1  597000000 ttft-p99-ns  7.99 req/s
BenchmarkServing/rate=8-4  1  606000000 ttft-p99-ns  8.01 req/s
BenchmarkServing/rate=8-4  1  598000000 ttft-p99-ns  7.98 req/s
BenchmarkServing/rate=8-4  1  603000000 ttft-p99-ns  8.03 req/s
BenchmarkServing/rate=8-4  1  600000000 ttft-p99-ns  8.00 req/s
`
)

func ExampleCompareBaseline() {
	c, err := gate.CompareBaseline(strings.NewReader(fp16), strings.NewReader(w8a8),
		gate.CompareOptions{OldLabel: "fp16.txt", NewLabel: "w8a8.txt"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteTable(os.Stdout)
	fmt.Println(c.Err())
	// Output:
	// goos: linux
	// goarch: amd64
	// pkg: example.com/serving
	//                   fp16.txt      w8a8.txt
	//                   ttft-p99-sec  ttft-p99-sec  vs base                lower is better
	// Serving/rate=8-4  500.5m ± 1%   600.5m ± 1%   +19.98% (p=0.002 n=6)  REGRESSION
	//
	//                   fp16.txt    w8a8.txt
	//                   req/s       req/s       vs base          higher is better
	// Serving/rate=8-4  8.005 ± 0%  8.005 ± 0%  ~ (p=0.870 n=6)
	//
	// 1 REGRESSION(S): significant (p < 0.05) and worse by more than 5%
	// gate: 1 regression (p < 0.05, change > 5%):
	// 	Serving/rate=8-4 ttft-p99-ns: +19.98% (500.5ms -> 600.5ms, lower is better, p=0.002 n=6)
}

// A file holding two labelled builds' results of one benchmark, as
// "cat q8.txt f16.txt" makes it: the gate refuses to pool them.
func ExamplePooledError() {
	const both = `label: q8_0
# server-id: 3fa9c2e1b7d0 llama.cpp b11669-Debian (model_ftype=Q8_0) at http://127.0.0.1:18081
BenchmarkSeed-2  1  20100000 tpot-mean-ns
BenchmarkSeed-2  1  19900000 tpot-mean-ns
label: f16
# server-id: 5d2e8a0c4b11 llama.cpp b11669-Debian (model_ftype=F16) at http://127.0.0.1:18080
BenchmarkSeed-2  1  40100000 tpot-mean-ns
BenchmarkSeed-2  1  39900000 tpot-mean-ns
`
	_, err := gate.CompareBaseline(strings.NewReader(both), strings.NewReader(both),
		gate.CompareOptions{OldLabel: "both.txt", NewLabel: "both.txt"})
	var pe *gate.PooledError
	if errors.As(err, &pe) {
		fmt.Println(pe.Message(func(key string) string { return "-match " + key }))
	}
	// Output:
	// both.txt: Seed-2 has results from 2 builds or servers under otherwise identical configuration; the gate does not pool them into one sample:
	// 	label q8_0, server-id 3fa9c2e1b7d0 (llama.cpp b11669-Debian (model_ftype=Q8_0) at http://127.0.0.1:18081), from line 3
	// 	label f16, server-id 5d2e8a0c4b11 (llama.cpp b11669-Debian (model_ftype=F16) at http://127.0.0.1:18080), from line 7
	// keep one build per file (a go test run each, compared as OLD and NEW), or compare the builds label by label (-match label)
}
