package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/servingbench/servingbench/servingbench"
)

// progress is a tqdm-style bar on a terminal; elsewhere (files, pipes, CI
// logs, --disable-tqdm) it prints nothing.
type progress struct {
	w       io.Writer
	total   int
	enabled bool
	done    atomic.Int64
	failed  atomic.Int64
	begin   time.Time
	quit    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(w io.Writer, total int, want bool) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, total: total, enabled: want && ok && term.IsTerminal(int(f.Fd()))}
}

// add is the Run's OnResult callback: safe for concurrent use.
func (p *progress) add(r *servingbench.Result) {
	p.done.Add(1)
	if !r.OK() {
		p.failed.Add(1)
	}
}

func (p *progress) start() {
	if !p.enabled {
		return
	}
	p.begin = time.Now()
	p.quit = make(chan struct{})
	p.wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.quit:
				p.draw()
				fmt.Fprintln(p.w)
				return
			}
		}
	})
}

func (p *progress) stop() {
	if !p.enabled {
		return
	}
	close(p.quit)
	p.wg.Wait()
}

func (p *progress) draw() {
	const width = 30
	done := int(p.done.Load())
	filled := width * done / max(p.total, 1)
	elapsed := time.Since(p.begin)
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r%3d%%|%s%s| %d/%d [%s, %.2f req/s, %d failed]",
		100*done/max(p.total, 1), strings.Repeat("█", filled), strings.Repeat(" ", width-filled),
		done, p.total, elapsed.Round(time.Second), rate, p.failed.Load())
}
