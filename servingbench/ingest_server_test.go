package servingbench_test

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// TestIngestHelperServer is not a test: BenchmarkStreamIngest runs it in a
// child process (so the benchmark's getrusage counts the client only). It
// serves a zero-cost simulated server until its standard input closes.
func TestIngestHelperServer(t *testing.T) {
	if os.Getenv("SERVINGBENCH_INGEST_HELPER") != "1" {
		t.Skip("helper process for BenchmarkStreamIngest")
	}
	m := servingtest.ZeroCost()
	m.Name = "m"
	srv := servingtest.NewServer(m)
	fmt.Printf("ADDR %s\n", srv.URL[len("http://"):])
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
}
