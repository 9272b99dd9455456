package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/servingbench/servingbench/servingbench"
)

// raiseFileLimit raises the soft open-file limit to the hard one at start
// (SGLang's bench_serving does); a failure is only a warning, since the
// pre-flight check then sees the lower limit.
func raiseFileLimit(stderr io.Writer) {
	if _, err := servingbench.RaiseFileLimit(); err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
}

// fileLoad is what the open-file check needs of the runs' load.
type fileLoad struct {
	// concurrency is the largest --max-concurrency of the runs; 0 when
	// one has none.
	concurrency int
	// atOnce is set when a run sends every request at once (--request-rate
	// inf): the peak in flight is then certain, and a run that cannot fit
	// is refused.
	atOnce bool
	// rate says what sets a finite rate, for the warning:
	// "--request-rate 8", "--ramp-up-end-rps 64".
	rate string
}

// benchLoad is the benchmark's load.
func (o *options) benchLoad() fileLoad {
	l := fileLoad{concurrency: o.maxConcurrency}
	switch {
	case o.ramp != nil:
		l.rate = "--ramp-up-end-rps " + strconv.FormatFloat(o.ramp.End, 'f', -1, 64)
	case math.IsInf(o.requestRate, 1):
		l.atOnce = true
	default:
		l.rate = "--request-rate " + strconv.FormatFloat(o.requestRate, 'f', -1, 64)
	}
	return l
}

// checkFileLimit is the pre-flight check of the open-file limit against
// the runs' peak requests in flight, each holding a connection (and, with
// the embedded server, the server's end of it too). When every request is
// sent at once the peak is certain and a run that cannot fit is refused
// before anything is sent; at a finite rate the peak depends on the
// server's speed and it is a warning.
func (o *options) checkFileLimit(stderr io.Writer, n, perRequest int, load fileLoad) error {
	l, err := servingbench.CurrentFileLimit()
	if err != nil {
		fmt.Fprintln(stderr, "warning:", err)
		return nil
	}
	b := servingbench.FileBudget{InFlight: servingbench.PeakInFlight(n, load.concurrency), PerRequest: perRequest}
	per := ""
	if o.sim != nil {
		per = fmt.Sprintf(", %d descriptors each with the embedded server,", perRequest)
	}
	var fe *servingbench.FileLimitError
	if !errors.As(b.Check(l), &fe) {
		return nil
	}
	conc := "no --max-concurrency"
	if load.concurrency > 0 {
		conc = "--max-concurrency " + strconv.Itoa(load.concurrency)
	}
	fix := fmt.Sprintf("raise it (ulimit -n %d", fe.Need)
	if l.Hard < fe.Need {
		fix += fmt.Sprintf("; the hard limit is %d, so as root or in /etc/security/limits.conf", l.Hard)
	}
	fix += ")"
	if fe.Fit > 0 {
		fix += fmt.Sprintf(" or pass --max-concurrency %d or less", fe.Fit)
	}
	if load.atOnce {
		return fmt.Errorf("open-file limit too low: %d requests in flight at once (--num-prompts %d at --request-rate inf, %s)%s need about %d open files, but `ulimit -n` is %d: %s",
			b.InFlight, n, conc, per, fe.Need, l.Soft, fix)
	}
	fmt.Fprintf(stderr, "warning: up to %d requests may be in flight at once (--num-prompts %d, %s)%s needing about %d open files, but `ulimit -n` is %d: if the server falls behind %s, requests fail with %q; %s\n",
		b.InFlight, n, conc, per, fe.Need, l.Soft, load.rate, "client: too many open files", fix)
	return nil
}

// reportAcceptErrors says, after the run, when the embedded server could
// not accept connections: the process ran out of descriptors, a limit of
// this machine rather than a failure of the server.
func (o *options) reportAcceptErrors(stderr io.Writer) {
	if o.sim == nil {
		return
	}
	n := o.sim.AcceptErrors()
	if n == 0 {
		return
	}
	l, _ := servingbench.CurrentFileLimit()
	fmt.Fprintf(stderr, "warning: the embedded server failed %d times to accept a connection: this process ran out of file descriptors (`ulimit -n` is %d), a limit of this machine, not of the server; raise ulimit -n or lower --max-concurrency\n",
		n, l.Soft)
}
