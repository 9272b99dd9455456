package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/servingbench/servingbench/servingbench"
)

// progress is a tqdm-style bar on a terminal; elsewhere (files, pipes, CI
// logs, --disable-tqdm) it prints nothing. Its clock starts when Run
// starts dispatching (Config.OnStart), so that the prewarm and the
// warm-up count neither in its elapsed time nor in its rate, and its rate
// is the block's: completed and failed requests over the time since the
// first dispatch. It is redrawn ten times a second, fitted to the
// terminal's width at each draw (see renderProgress).
type progress struct {
	w       io.Writer
	fd      int
	total   int
	enabled bool
	done    atomic.Int64
	failed  atomic.Int64
	begin   atomic.Int64 // Unix nanoseconds of the first dispatch; 0 before
	quit    chan struct{}
	wg      sync.WaitGroup
	// width returns the terminal's width in columns; nil is fd's.
	width func() int
}

func newProgress(w io.Writer, total int, want bool) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok && want && term.IsTerminal(int(f.Fd())) {
		p.enabled, p.fd = true, int(f.Fd())
	}
	return p
}

// add is the Run's OnResult callback: safe for concurrent use.
func (p *progress) add(r *servingbench.Result) {
	p.done.Add(1)
	if !r.OK() {
		p.failed.Add(1)
	}
}

// started is the Run's OnStart callback: the bar's clock starts.
func (p *progress) started(t time.Time) { p.begin.Store(t.UnixNano()) }

func (p *progress) start() {
	if !p.enabled {
		return
	}
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

// defaultWidth is the width when the terminal does not say.
const defaultWidth = 80

func (p *progress) termWidth() int {
	if p.width != nil {
		return p.width()
	}
	if w, _, err := term.GetSize(p.fd); err == nil && w > 0 {
		return w
	}
	return defaultWidth
}

func (p *progress) draw() {
	s := progressState{done: int(p.done.Load()), total: p.total, failed: int(p.failed.Load())}
	if b := p.begin.Load(); b != 0 {
		s.started, s.elapsed = true, time.Since(time.Unix(0, b))
	}
	// \r, the line, then erase to its end: a shorter line leaves no
	// characters of a longer one behind.
	fmt.Fprintf(p.w, "\r%s\x1b[K", renderProgress(p.termWidth(), s))
}

// progressState is what one draw shows.
type progressState struct {
	done, total, failed int
	started             bool          // dispatch has started
	elapsed             time.Duration // since the first dispatch
}

// renderProgress is the bar's line for a terminal of width columns, in
// tqdm's layout:
//
//	 45%|█████████▉            | 450/1000 [00:12<00:14, 37.50 req/s, 3 failed]
//	100%|██████████████████████| 1000/1000 [00:26<00:00, 37.50 req/s, 3 failed]
//
// elapsed<ETA (the ETA at the rate so far, "?" before the first result),
// the rate, and failures so far. The line never reaches the last column,
// so it cannot wrap: the bar shrinks to fit, then goes (below 10 cells),
// then the parts are dropped from the right (ETA, rate, failures) until
// what is left fits, cut at width-1 at worst. Before dispatch starts
// (the prewarm, a warm-up) it shows "starting" in place of the times.
func renderProgress(width int, s progressState) string {
	total := max(s.total, 1)
	frac := min(float64(s.done)/float64(total), 1)
	pct := fmt.Sprintf("%3d%%", int(100*frac))
	count := fmt.Sprintf("%d/%d", s.done, s.total)
	failed := fmt.Sprintf("%d failed", s.failed)
	var times, rate string
	if !s.started {
		times, rate = "starting", ""
	} else {
		eta := "?"
		r := float64(s.done) / max(s.elapsed.Seconds(), 1e-9)
		if s.done > 0 {
			eta = clock(time.Duration(float64(s.total-s.done) / r * float64(time.Second)))
		}
		times = clock(s.elapsed) + "<" + eta
		rate = fmt.Sprintf("%.2f req/s", r)
	}
	// The stats in brackets, longest first; each shorter form drops one
	// more part from the right.
	forms := [][]string{{times, rate, failed}, {times, failed}, {clock(s.elapsed), failed}, {failed}, nil}
	if !s.started {
		forms = [][]string{{times, failed}, {failed}, nil}
	}
	limit := max(width-1, 1)
	for _, parts := range forms {
		stats := " " + count
		if parts = nonEmpty(parts); len(parts) > 0 {
			stats += " [" + strings.Join(parts, ", ") + "]"
		}
		// With a bar: pct + "|" + bar + "|" + stats.
		if cells := limit - len(pct) - 2 - len(stats); cells >= minBarCells {
			return pct + "|" + bar(cells, frac) + "|" + stats
		}
		if line := pct + stats; len(line) <= limit {
			return line
		}
	}
	return (pct + " " + count)[:min(limit, len(pct)+1+len(count))]
}

// minBarCells is the narrowest bar drawn.
const minBarCells = 10

// barWidth caps the bar: tqdm's fills the line; a very wide bar says no
// more than a 40-cell one.
const barWidth = 40

// bar is cells cells (at most barWidth) filled to frac, in eighths of a
// cell as tqdm draws them.
func bar(cells int, frac float64) string {
	cells = min(cells, barWidth)
	eighths := int(math.Floor(frac * float64(cells*8)))
	full, part := eighths/8, eighths%8
	var b strings.Builder
	b.WriteString(strings.Repeat("█", full))
	n := full
	if part > 0 && n < cells {
		b.WriteString(string([]rune(" ▏▎▍▌▋▊▉")[part]))
		n++
	}
	b.WriteString(strings.Repeat(" ", cells-n))
	return b.String()
}

// clock renders d as tqdm does: MM:SS, or H:MM:SS from an hour.
func clock(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func nonEmpty(parts []string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
