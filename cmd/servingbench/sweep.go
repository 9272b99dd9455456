package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

// sweepOptions are servingbench sweep's own flags: --request-rate and
// --max-concurrency take lists, one of which is swept, or
// --workload-points picks the loads as vllm bench sweep serve_workload
// does.
type sweepOptions struct {
	rates         []float64 // --request-rate, +Inf for inf
	concurrencies []int     // --max-concurrency
	points        int       // --workload-points (vLLM's --workload-iters)
	workloadVar   string    // --workload-var
	workload      bool      // --workload-points given
	dim           capacity.Dimension
}

func (o *options) addSweepFlags(a *argSet) {
	s := &o.sweep
	a.add("request-rate", argList, "requests per second, or inf: a list to sweep (1,2,4,8 or 1 2 4 8), or one value for every point (default inf)", func(v string) error {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			r, err := parseRate(f)
			if err != nil {
				return err
			}
			s.rates = append(s.rates, r)
			o.requestRate = r
		}
		return nil
	})
	a.add("max-concurrency", argList, "maximum requests in flight: a list to sweep (1,4,16,64 or 1 4 16 64), or one value for every point (default: no limit)", func(v string) error {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			n, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("invalid int value %q", f)
			}
			s.concurrencies = append(s.concurrencies, n)
			o.maxConcurrency = n
		}
		return nil
	})
	a.integer(&s.points, "workload-points", "sweep N loads, vllm bench sweep serve_workload's: the serial point (concurrency 1), the batch point (every request at once) and N-2 evenly spaced between the loads they carried (N >= 2)")
	a.integer(&s.points, "workload-iters", "vllm bench sweep's name for --workload-points")
	a.str(&s.workloadVar, "workload-var", "with --workload-points: the load varied, request-rate (the default) or max-concurrency (vLLM's request_rate and max_concurrency too)")
}

// parseRate reads a request rate: inf or a number > 0.
func parseRate(v string) (float64, error) {
	if strings.EqualFold(v, "inf") {
		return math.Inf(1), nil
	}
	r, err := parseFloat(v)
	if err != nil {
		return 0, err
	}
	if !(r > 0) {
		return 0, fmt.Errorf("want a rate > 0 or inf, got %s", v)
	}
	return r, nil
}

// validateSweep checks the sweep's own flags: exactly one way to pick the
// loads, no load listed twice.
func (o *options) validateSweep() error {
	s := &o.sweep
	s.workload = o.args.given("workload-points") || o.args.given("workload-iters")
	rateList, concList := len(s.rates) > 1, len(s.concurrencies) > 1
	switch {
	case rateList && concList:
		return fmt.Errorf("flags --request-rate %s and --max-concurrency %s are both lists: a sweep varies one of them (the other, one value, holds at every point)",
			rateListText(s.rates), intListText(s.concurrencies))
	case s.workload && rateList:
		return fmt.Errorf("flag --workload-points picks the loads itself: drop the list --request-rate %s", rateListText(s.rates))
	case s.workload && concList:
		return fmt.Errorf("flag --workload-points picks the loads itself: drop the list --max-concurrency %s", intListText(s.concurrencies))
	case !s.workload && !rateList && !concList:
		return errors.New("sweep: give --request-rate or --max-concurrency a list of loads (e.g. --max-concurrency 1,4,16,64), or --workload-points N")
	case !s.workload && o.args.given("workload-var"):
		return fmt.Errorf("flag --workload-var %s needs --workload-points N", s.workloadVar)
	}
	for i, c := range s.concurrencies {
		if c < 1 && (concList || c < 0) {
			return fmt.Errorf("flag --max-concurrency must be >= 1 in a list, got %d", c)
		}
		if slices.Contains(s.concurrencies[:i], c) {
			return fmt.Errorf("flag --max-concurrency %s lists %d twice", intListText(s.concurrencies), c)
		}
	}
	for i, r := range s.rates {
		if slices.Contains(s.rates[:i], r) {
			return fmt.Errorf("flag --request-rate %s lists %s twice", rateListText(s.rates), rateText(r))
		}
	}
	switch {
	case rateList:
		s.dim = capacity.RequestRate
	case concList:
		s.dim = capacity.MaxConcurrency
	default:
		if s.points < 2 {
			return fmt.Errorf("flag --workload-points must be >= 2 (the serial and the batch point), got %d", s.points)
		}
		if s.workloadVar != "" {
			d, err := capacity.ParseDimension(s.workloadVar)
			if err != nil {
				return fmt.Errorf("flag --workload-var: unknown load %q (want request-rate or max-concurrency)", s.workloadVar)
			}
			s.dim = d
		}
		if flag := s.dim.String(); o.args.given(flag) {
			return fmt.Errorf("flag --%s: --workload-points varies the %s itself; remove --%s", flag, strings.ReplaceAll(flag, "-", " "), flag)
		}
	}
	return nil
}

func rateText(r float64) string {
	if math.IsInf(r, 1) || r == 0 {
		return "inf"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func rateListText(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = rateText(r)
	}
	return strings.Join(parts, ",")
}

func intListText(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// loadText is a load as the flags that run it: "--request-rate 4
// --max-concurrency 16".
func loadText(l capacity.Load) string {
	s := "--request-rate " + rateText(l.Rate)
	if l.Concurrency > 0 {
		s += " --max-concurrency " + strconv.Itoa(l.Concurrency)
	}
	return s
}

// sweepLoads are the loads of a list sweep, in the order given.
func (o *options) sweepLoads() []capacity.Load {
	var loads []capacity.Load
	if o.sweep.dim == capacity.RequestRate {
		for _, r := range o.sweep.rates {
			loads = append(loads, capacity.Load{Rate: r, Concurrency: o.maxConcurrency})
		}
		return loads
	}
	for _, c := range o.sweep.concurrencies {
		loads = append(loads, capacity.Load{Rate: o.requestRate, Concurrency: c})
	}
	return loads
}

// sweepSetup is the sweep's load on the server, at its heaviest point.
func (o *options) sweepSetup() setup {
	su := setup{next: "the sweep"}
	if o.sweep.workload {
		// The batch point has every request in flight.
		su.load = fileLoad{concurrency: o.numPrompts, atOnce: true}
		su.pool = o.numPrompts
		return su
	}
	for _, l := range o.sweepLoads() {
		if l.Concurrency == 0 {
			su.load.concurrency, su.pool = 0, 0
			break
		}
		su.load.concurrency = max(su.load.concurrency, l.Concurrency)
		su.pool = su.load.concurrency
	}
	top := 0.0
	for _, l := range o.sweepLoads() {
		if l.RateIsInf() {
			su.load.atOnce = true
		} else {
			top = max(top, l.Rate)
		}
	}
	su.load.rate = "--request-rate " + rateText(top)
	return su
}

func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseCommand("sweep", args)
	if err != nil {
		return err
	}
	if o.help {
		fmt.Fprintf(stdout, "usage: servingbench sweep [flags]\n\n"+
			"Runs the benchmark at several loads, one after the other: a list given to\n"+
			"--request-rate or --max-concurrency, or --workload-points N loads picked as\n"+
			"vllm bench sweep serve_workload picks them. Prints a line per point on stderr\n"+
			"and one table on stdout; --save-result writes each point's result file (named\n"+
			"by vLLM's rule) and a summary JSON and CSV into --result-dir (--result-filename\n"+
			"names the summary). Ctrl-C keeps the points finished: printed, saved, exit 130.\n\n"+
			"flags (the benchmark's, spelled as vLLM's):\n%s", o.args.usage())
		return nil
	}
	c, err := o.check()
	if err != nil {
		return err
	}
	p, err := o.open(ctx, c, o.sweepSetup(), stdout, stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	sw := &sweeper{o: o, p: p, c: c, stdout: stdout, stderr: stderr, begin: time.Now()}
	return sw.run(ctx)
}

// sweeper runs a sweep and reports it.
type sweeper struct {
	o              *options
	p              *prepared
	c              *checked
	stdout, stderr io.Writer
	begin          time.Time
	total          string               // "4", or "at most 10" for a workload sweep
	base           capacity.Load        // a workload sweep's
	serial         *servingbench.Report // a workload sweep's serial point
	saved          []string
	saveErr        error
}

func (sw *sweeper) run(ctx context.Context) error {
	o := sw.o
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	opts := capacity.SweepOptions{
		OnStart: func(i int, l capacity.Load) {
			fmt.Fprintf(sw.stderr, "sweep: point %d/%s: %s (%d requests)\n", i+1, sw.total, loadText(l), len(sw.p.reqs))
		},
		OnPoint: func(i int, pt capacity.SweepPoint) {
			if err := sw.point(i, pt); err != nil {
				sw.saveErr = err
				cancel(err)
			}
		},
	}
	run := sw.p.runner(sw.stderr)
	var res *capacity.SweepResult
	var err error
	if o.sweep.workload {
		sw.total = "at most " + strconv.Itoa(o.sweep.points)
		fmt.Fprintf(sw.stdout, "Sweep: %d loads of --%s (vllm bench sweep serve_workload), %d requests a point\n", o.sweep.points, o.sweep.dim, len(sw.p.reqs))
		base := capacity.Load{Requests: len(sw.p.reqs)}
		if o.sweep.dim == capacity.RequestRate {
			base.Concurrency = o.maxConcurrency
		} else {
			base.Rate = o.requestRate
		}
		sw.base = base
		res, err = capacity.SweepWorkload(ctx, o.sweep.dim, base, o.sweep.points, run, opts)
	} else {
		loads := o.sweepLoads()
		for i := range loads {
			loads[i].Requests = len(sw.p.reqs)
		}
		sw.total = strconv.Itoa(len(loads))
		fmt.Fprintf(sw.stdout, "Sweep: %d loads, %s, %d requests a point\n", len(loads), sw.planText(), len(sw.p.reqs))
		res, err = capacity.Sweep(ctx, loads, run, opts)
	}
	sw.p.Close()
	if res == nil { // a bad load: the flags were checked, so no user error
		return err
	}
	return sw.finish(ctx, res, err)
}

// planText says what a list sweep varies and what holds.
func (sw *sweeper) planText() string {
	o := sw.o
	if o.sweep.dim == capacity.RequestRate {
		conc := "no --max-concurrency"
		if o.maxConcurrency > 0 {
			conc = "--max-concurrency " + strconv.Itoa(o.maxConcurrency)
		}
		return "--request-rate " + rateListText(o.sweep.rates) + " at " + conc
	}
	return "--max-concurrency " + intListText(o.sweep.concurrencies) + " at --request-rate " + rateText(o.requestRate)
}

// point reports a finished point on stderr and saves its result file.
func (sw *sweeper) point(i int, pt capacity.SweepPoint) error {
	rep := pt.Report
	fmt.Fprintf(sw.stderr, "sweep: point %d/%s done in %.2fs: %.2f req/s, %.2f output tok/s, %d of %d failed\n",
		i+1, sw.total, pt.Elapsed.Seconds(), rep.RequestThroughput, rep.OutputThroughput, rep.Failed, rep.Completed+rep.Failed)
	for _, w := range rep.Warnings {
		fmt.Fprintf(sw.stderr, "warning: point %d (%s): %v\n", i+1, loadText(pt.Load), w)
	}
	if sw.o.sweep.workload {
		sw.workloadLine(i, pt)
	}
	if !sw.o.saveResult {
		return nil
	}
	path := filepath.Join(sw.o.resultDir, servingbench.ResultFilename(rep))
	if slices.Contains(sw.saved, path) {
		// Two points of one load in one second: keep both.
		path = strings.TrimSuffix(path, ".json") + "-point" + strconv.Itoa(i+1) + ".json"
	}
	err := servingbench.WriteJSONFile(path, rep, servingbench.JSONOptions{Percentiles: sw.c.textOpts.Percentiles, Detailed: sw.o.saveDetailed})
	if err != nil {
		return fmt.Errorf("saving the result of point %d: %w", i+1, err)
	}
	sw.saved = append(sw.saved, path)
	return nil
}

// workloadLine says, as vLLM's serve_workload does, the load the serial and
// the batch points carried and the points that follow from them.
func (sw *sweeper) workloadLine(i int, pt capacity.SweepPoint) {
	d := sw.o.sweep.dim
	switch i {
	case 0:
		sw.serial = pt.Report
		fmt.Fprintf(sw.stderr, "sweep: serial inference: %s=%g\n", d, math.Ceil(capacity.WorkloadValue(d, pt.Report)))
	case 1:
		fmt.Fprintf(sw.stderr, "sweep: batch inference: %s=%g\n", d, math.Floor(capacity.WorkloadValue(d, pt.Report)))
		between := capacity.IntermediateLoads(d, sw.base, sw.serial, pt.Report, sw.o.sweep.points)
		values := make([]string, len(between))
		for j, l := range between {
			values[j] = strconv.FormatFloat(d.Of(l), 'f', -1, 64)
		}
		fmt.Fprintf(sw.stderr, "sweep: %d points between: %s=%s\n", len(between), d, strings.Join(values, ","))
	}
}

// finish prints the table, saves the summary and words how the sweep
// ended.
func (sw *sweeper) finish(ctx context.Context, res *capacity.SweepResult, err error) error {
	o := sw.o
	tableOpt := capacity.TableOptions{Percentile: sw.c.textOpts.Percentiles[0]}
	if err := res.WriteTable(sw.stdout, tableOpt); err != nil {
		return err
	}
	o.reportAcceptErrors(sw.stderr)
	for _, path := range sw.saved {
		fmt.Fprintln(sw.stdout, "Result saved to", path)
	}
	if o.saveResult && (len(res.Points) > 0 || res.Interrupted != nil) {
		json, csv, serr := sw.saveSummary(res)
		if serr != nil {
			return errors.Join(err, serr)
		}
		fmt.Fprintf(sw.stdout, "Summary saved to %s and %s\n", json, csv)
	}
	finished := fmt.Sprintf("%d of %s points finished", len(res.Points), sw.total)
	switch {
	case sw.saveErr != nil:
		return sw.saveErr
	case ctx.Err() != nil:
		fmt.Fprintf(sw.stderr, "servingbench: sweep interrupted: %s; the table and the summary keep them (the point cut short, if it measured anything, is marked partial)\n", finished)
		return errInterrupted
	case err != nil:
		return fmt.Errorf("sweep stopped (%s): %w", finished, err)
	}
	for _, pt := range res.Points {
		if pt.Report.Completed > 0 {
			return nil
		}
	}
	if len(res.Points) == 0 {
		return nil
	}
	return fmt.Errorf("sweep: no request of any point succeeded: %w", res.Points[0].Report.NoSuccess())
}

// saveSummary writes the summary JSON and CSV: --result-filename names
// the JSON (the CSV beside it, .csv for .json), else
// {label}-sweep-{dimension}-{model}-{date}.json.
func (sw *sweeper) saveSummary(res *capacity.SweepResult) (jsonPath, csvPath string, err error) {
	o := sw.o
	name := o.resultFilename
	if name == "" {
		name = summaryFilename(o, "sweep-"+o.sweep.dim.String(), sw.begin)
	}
	jsonPath = filepath.Join(o.resultDir, name)
	csvPath = strings.TrimSuffix(jsonPath, ".json") + ".csv"
	opt := servingbench.JSONOptions{Percentiles: sw.c.textOpts.Percentiles, Detailed: o.saveDetailed}
	if err := writeFileAtomic(jsonPath, func(w io.Writer) error { return res.WriteJSON(w, opt) }); err != nil {
		return "", "", fmt.Errorf("saving the sweep's summary: %w", err)
	}
	if err := writeFileAtomic(csvPath, func(w io.Writer) error { return res.WriteCSV(w, opt) }); err != nil {
		return "", "", fmt.Errorf("saving the sweep's summary: %w", err)
	}
	return jsonPath, csvPath, nil
}

// summaryFilename is the default name of a sweep's or a search's file:
// {label}-{kind}-{model}-{YYYYMMDD-HHMMSS}.json, as vLLM names a result
// file (the label, else the backend; the model after its last "/").
func summaryFilename(o *options, kind string, date time.Time) string {
	prefix := o.label
	if prefix == "" {
		prefix = o.backend
	}
	model := o.model[strings.LastIndex(o.model, "/")+1:]
	return fmt.Sprintf("%s-%s-%s-%s.json", prefix, kind, model, date.Format("20060102-150405"))
}
