package benchtest

import (
	"errors"
	"fmt"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// checkFileLimit raises the open-file limit to the hard one and checks the
// run's peak requests in flight against it before anything is sent, as the
// CLI does: every request in flight holds a connection, two descriptors
// when the simulated server runs in this process. When every request
// arrives at once the peak is certain and a run that cannot fit is an
// error; otherwise it depends on the server's speed and is a note.
func checkFileLimit(e *endpoint, reqs []servingbench.Request, arrival servingbench.Arrival, maxConcurrency int) (note string, err error) {
	l, err := servingbench.RaiseFileLimit()
	if err != nil {
		return "warning: " + err.Error(), nil
	}
	b := servingbench.FileBudget{InFlight: servingbench.PeakInFlight(len(reqs), maxConcurrency), PerRequest: e.tg.FilesPerRequest()}
	var fe *servingbench.FileLimitError
	if !errors.As(b.Check(l), &fe) {
		return "", nil
	}
	msg := fmt.Sprintf("%v: raise ulimit -n or set Scenario.MaxConcurrency to %d or less", fe, fe.Fit)
	if arrival == nil || allAtOnce(arrival.Offsets(len(reqs))) {
		return "", errors.New("benchtest: " + msg)
	}
	return "warning: if the server falls behind, " + msg, nil
}

func allAtOnce(offsets []time.Duration) bool {
	for _, o := range offsets {
		if o != 0 {
			return false
		}
	}
	return true
}
