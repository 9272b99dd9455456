package servingbench_test

import (
	"errors"
	"fmt"

	"github.com/servingbench/servingbench/servingbench"
)

// A pre-flight check: 3000 requests at an infinite rate against a server in
// the same process (two descriptors a request) do not fit "ulimit -n
// 1024"; at most 490 in flight do, so a MaxConcurrency of 490 would.
func ExampleFileBudget_Check() {
	limit := servingbench.FileLimit{Soft: 1024, Hard: 1024, Open: 12} // in a program: servingbench.RaiseFileLimit()
	budget := servingbench.FileBudget{InFlight: servingbench.PeakInFlight(3000, 0), PerRequest: 2}
	var fe *servingbench.FileLimitError
	if errors.As(budget.Check(limit), &fe) {
		fmt.Println("need", fe.Need, "descriptors; at most", fe.Fit, "requests in flight fit")
	}
	budget.InFlight = servingbench.PeakInFlight(3000, fe.Fit)
	fmt.Println("with MaxConcurrency", fe.Fit, "the check passes:", budget.Check(limit) == nil)
	// Output:
	// need 6044 descriptors; at most 490 requests in flight fit
	// with MaxConcurrency 490 the check passes: true
}
