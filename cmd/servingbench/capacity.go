package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

// capacityOptions are servingbench capacity's own flags; validateCapacity
// turns them into a capacity.SearchConfig (config, without its Runner).
type capacityOptions struct {
	sla                     []string // --sla, its words joined by spaces
	search                  string
	maxPoints               int
	budget                  string
	start, minLoad, maxLoad float64
	resolution, noise       string
	repeats, tailRequests   int
	minCapacity             *float64

	config capacity.SearchConfig
	sizing string // the line that says how many requests a point runs, and why
}

func (o *options) addCapacityFlags(a *argSet) {
	c := &o.capacity
	a.list(&c.sla, "sla", `the limits every point must meet, servingbench.SLA's syntax: "ttft.p99<=500ms tpot.p99<=50ms failed<=0" (required)`)
	a.str(&c.search, "search", "the load searched: request-rate (the default) or max-concurrency")
	a.integer(&o.numPrompts, "num-prompts", "requests of every point (default: what the SLA's percentiles need, at least 100: a p99 needs 100, a p99.9 1,000)")
	a.integer(&c.maxPoints, "max-points", "most loads tried; repeats of a load do not count (default 20)")
	a.str(&c.budget, "time-budget", "no point starts after this long, e.g. 30m or 600 (seconds); the point running finishes (default: no bound)")
	a.float(&c.start, "start", "first load tried, req/s or concurrency (default 1; a rate search's first point takes --num-prompts/start seconds)")
	a.float(&c.minLoad, "min-load", "lowest load tried when --start fails; below it the capacity is 0 (default 1 for concurrency, start/8 for rates)")
	a.float(&c.maxLoad, "max-load", "highest load tried; when it passes the capacity is \"at least\" it (default: no bound for rates, --num-prompts for concurrency)")
	a.str(&c.resolution, "resolution", "bisect until the failing load is within this of the passing one, as 5% or 0.05 (default 5% for rates; concurrency: exact)")
	a.str(&c.noise, "noise", "run-to-run noise: a point with a value within it of a limit is run again, as 5% or 0.05 (default 5%)")
	a.integer(&c.repeats, "repeats", "runs whose majority judges such a point, odd; 1 turns repeats off (default 3)")
	a.integer(&c.tailRequests, "tail-requests", "requests a point is expected to have beyond each percentile the SLA bounds, sizing the points (default 1)")
	a.optFloat(&c.minCapacity, "min-capacity", "exit with status 1 when the capacity found is below this (default: exit 0 whatever the capacity)")
}

// capacityFlags names the flag of each SearchConfig field, in the order
// a replacement must try them (longer names first).
var capacityFlags = []string{
	"SearchConfig.Base.Concurrency", "--max-concurrency",
	"SearchConfig.Base.Rate", "--request-rate",
	"SearchConfig.TailRequests", "--tail-requests",
	"SearchConfig.Requests", "--num-prompts",
	"SearchConfig.MaxPoints", "--max-points",
	"SearchConfig.Resolution", "--resolution",
	"SearchConfig.Repeats", "--repeats",
	"SearchConfig.Budget", "--time-budget",
	"SearchConfig.Noise", "--noise",
	"SearchConfig.Start", "--start",
	"SearchConfig.Min", "--min-load",
	"SearchConfig.Max", "--max-load",
	"SearchConfig.SLA", "--sla",
}

// flagValueRE matches a flag and its value as the search's errors put
// them, "--start (8)".
var flagValueRE = regexp.MustCompile(`(--[a-z-]+) \(([^()]*)\)`)

// validateCapacity checks the search's flags and builds its config: every
// error names the flag and the value, before anything starts.
func (o *options) validateCapacity() error {
	c := &o.capacity
	if len(c.sla) == 0 {
		return errors.New(`flag --sla is required: the limits every point must meet, e.g. --sla "ttft.p99<=500ms failed<=0"`)
	}
	text := strings.Join(c.sla, " ")
	sla, err := servingbench.ParseSLA(text)
	if err != nil {
		return fmt.Errorf("flag --sla %q: %v", text, strings.TrimPrefix(err.Error(), "servingbench: "))
	}
	if len(sla.Limits) == 0 {
		return fmt.Errorf("flag --sla %q has no limits: every load would pass", text)
	}
	for _, l := range sla.Limits {
		if l.Metric == servingbench.MetricGoodput && len(o.goodput) == 0 {
			return fmt.Errorf("flag --sla %q: %s needs --goodput SLOs (e.g. --goodput ttft:500 tpot:50): without them no point has a goodput", text, l)
		}
	}
	cfg := capacity.SearchConfig{SLA: sla}
	if c.search != "" {
		if cfg.Dimension, err = capacity.ParseDimension(c.search); err != nil {
			return fmt.Errorf("flag --search: unknown load %q (want request-rate or max-concurrency)", c.search)
		}
	}
	searched := cfg.Dimension.String()
	if o.args.given(searched) {
		return fmt.Errorf("flag --%s: the search varies the %s itself; remove --%s (--start, --min-load and --max-load bound it)", searched, strings.ReplaceAll(searched, "-", " "), searched)
	}
	if cfg.Dimension == capacity.RequestRate {
		cfg.Base.Concurrency = o.maxConcurrency
	} else if !math.IsInf(o.requestRate, 1) {
		cfg.Base.Rate = o.requestRate
	}
	checks := []struct {
		bad  bool
		flag string
		want string
		got  any
	}{
		{c.maxPoints < 0, "max-points", ">= 1 (0: the default 20)", c.maxPoints},
		{!(c.start >= 0) || math.IsInf(c.start, 0), "start", "a load > 0", c.start},
		{!(c.minLoad >= 0) || math.IsInf(c.minLoad, 0), "min-load", "a load > 0", c.minLoad},
		{!(c.maxLoad >= 0) || math.IsInf(c.maxLoad, 0), "max-load", "a load > 0", c.maxLoad},
		{c.repeats < 0 || (c.repeats > 0 && c.repeats%2 == 0), "repeats", "odd (1: no repeats)", c.repeats},
		{c.tailRequests < 0, "tail-requests", ">= 1", c.tailRequests},
		{c.minCapacity != nil && !(*c.minCapacity >= 0), "min-capacity", ">= 0", c.minCapacity},
	}
	for _, ch := range checks {
		if ch.bad {
			if p, ok := ch.got.(*float64); ok {
				ch.got = *p
			}
			return fmt.Errorf("flag --%s must be %s, got %v", ch.flag, ch.want, ch.got)
		}
	}
	if cfg.Dimension == capacity.MaxConcurrency {
		for _, f := range []struct {
			flag string
			v    float64
		}{{"start", c.start}, {"min-load", c.minLoad}, {"max-load", c.maxLoad}} {
			if f.v != math.Trunc(f.v) {
				return fmt.Errorf("flag --%s must be a whole concurrency in a max-concurrency search, got %v", f.flag, f.v)
			}
		}
	}
	cfg.Start, cfg.Min, cfg.Max = c.start, c.minLoad, c.maxLoad
	cfg.MaxPoints, cfg.Repeats, cfg.TailRequests = c.maxPoints, c.repeats, c.tailRequests
	if cfg.Resolution, err = parseFraction("resolution", c.resolution); err != nil {
		return err
	}
	if cfg.Noise, err = parseFraction("noise", c.noise); err != nil {
		return err
	}
	if cfg.Budget, err = parseBudget(c.budget); err != nil {
		return err
	}
	if err := o.sizePoints(&cfg); err != nil {
		return err
	}
	// The search checks the rest (Start against Min, Max and the requests
	// of a point) before it runs anything: ask it now, with nothing to run.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	probe := cfg
	probe.Run = func(context.Context, capacity.Load) (*servingbench.Report, error) {
		return nil, errors.New("not run")
	}
	if _, err := capacity.Search(done, probe); err != nil && !errors.Is(err, context.Canceled) {
		msg := strings.NewReplacer(capacityFlags...).Replace(strings.TrimPrefix(err.Error(), "capacity: "))
		return errors.New("flag " + flagValueRE.ReplaceAllString(msg, "$1 $2"))
	}
	c.config = cfg
	return nil
}

// sizePoints sets the requests of every point, --num-prompts or what the
// SLA's percentiles need (capacity.MinRequests, at least
// capacity.DefaultRequests), and the line that says so.
func (o *options) sizePoints(cfg *capacity.SearchConfig) error {
	c := &o.capacity
	tail := max(cfg.TailRequests, 1)
	need, by := 1, servingbench.Limit{}
	for _, l := range cfg.SLA.Limits {
		if n := capacity.MinRequests(servingbench.SLA{Limits: []servingbench.Limit{l}}, tail); n > need {
			need, by = n, l
		}
	}
	why := ""
	if need > 1 {
		why = fmt.Sprintf("a %s needs >= %d (%s", by.Stat, need, by)
		if tail > 1 {
			why += fmt.Sprintf(", %d requests beyond it: --tail-requests %d", tail, tail)
		}
		why += ")"
	}
	given := o.args.given("num-prompts")
	switch {
	case given && o.numPrompts < need:
		return fmt.Errorf("flag --num-prompts %d: too few requests a point for --sla: %s; a p%s of fewer holds no request from the tail it bounds (pass --num-prompts %d or more)",
			o.numPrompts, why, strings.TrimPrefix(by.Stat, "p"), need)
	case given && why != "":
		c.sizing = fmt.Sprintf("Each point runs %d requests (--num-prompts): %s", o.numPrompts, why)
	case given:
		c.sizing = fmt.Sprintf("Each point runs %d requests (--num-prompts)", o.numPrompts)
	case need >= capacity.DefaultRequests:
		o.numPrompts = need
		c.sizing = fmt.Sprintf("Each point runs %d requests: %s; --num-prompts sets more", need, why)
	case why != "":
		o.numPrompts = capacity.DefaultRequests
		c.sizing = fmt.Sprintf("Each point runs %d requests (at least %d by default): %s; --num-prompts sets it", o.numPrompts, capacity.DefaultRequests, why)
	default:
		o.numPrompts = capacity.DefaultRequests
		c.sizing = fmt.Sprintf("Each point runs %d requests (the default; the SLA bounds no percentile); --num-prompts sets it", o.numPrompts)
	}
	cfg.Requests = o.numPrompts
	return nil
}

// parseFraction reads "5%" or "0.05" into [0, 1); "" is 0, the default.
func parseFraction(flag, s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(num, 64)
	if pct {
		v /= 100
	}
	if err != nil || !(v >= 0 && v < 1) {
		return 0, fmt.Errorf("flag --%s %q: want a fraction in [0, 1) such as 5%% or 0.05", flag, s)
	}
	return v, nil
}

// parseBudget reads a duration, 30m, or a number of seconds; "" is no
// bound.
func parseBudget(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsInf(secs, 0) || math.IsNaN(secs) {
			return 0, fmt.Errorf("flag --time-budget %q: want a duration such as 30m, 90s or 600 (seconds)", s)
		}
		d = seconds(secs)
	}
	if d <= 0 {
		return 0, fmt.Errorf("flag --time-budget %q: want a duration > 0", s)
	}
	return d, nil
}

// capacitySetup is the search's load on the server at its heaviest point.
func (o *options) capacitySetup() setup {
	cfg := o.capacity.config
	su := setup{next: "the capacity search"}
	if cfg.Dimension == capacity.MaxConcurrency {
		top := o.numPrompts
		if cfg.Max > 0 {
			top = int(cfg.Max)
		}
		su.load = fileLoad{concurrency: top, atOnce: cfg.Base.RateIsInf(), rate: "--request-rate " + rateText(cfg.Base.Rate)}
		su.pool = top
		return su
	}
	su.load = fileLoad{concurrency: o.maxConcurrency, rate: "the search's highest --request-rate"}
	if cfg.Max > 0 {
		su.load.rate = "--max-load " + rateText(cfg.Max)
	}
	su.pool = o.maxConcurrency
	return su
}

func runCapacity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseCommand("capacity", args)
	if err != nil {
		return err
	}
	if o.help {
		fmt.Fprintf(stdout, "usage: servingbench capacity --sla SLA [--search request-rate|max-concurrency] [flags]\n\n"+
			"Finds the largest load at which every limit of the SLA holds: doubling from\n"+
			"--start until a load fails, then bisecting to --resolution. A point whose value\n"+
			"lies within --noise of a limit is run again, up to --repeats times, and judged by\n"+
			"the majority. Prints a line per point on stderr, then the capacity, the points\n"+
			"tried and why the first failing one failed; --save-result writes the same as JSON.\n"+
			"Exit status 0 when the search ended (whatever the capacity), 1 when the capacity\n"+
			"is below --min-capacity or a run failed, 2 for a bad command line, 130 on Ctrl-C\n"+
			"(after printing and saving the points tried).\n\n"+
			"flags (the benchmark's, spelled as vLLM's, and the search's):\n%s", o.args.usage())
		return nil
	}
	c, err := o.check()
	if err != nil {
		return err
	}
	p, err := o.open(ctx, c, o.capacitySetup(), stdout, stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	s := &searcher{o: o, c: c, stdout: stdout, stderr: stderr, begin: time.Now()}
	return s.run(ctx, p)
}

// searcher runs a capacity search and reports it.
type searcher struct {
	o              *options
	c              *checked
	stdout, stderr io.Writer
	begin          time.Time
	points         int
}

func (s *searcher) run(ctx context.Context, p *prepared) error {
	o := s.o
	cfg := o.capacity.config
	base := "no --max-concurrency"
	if cfg.Dimension == capacity.RequestRate && o.maxConcurrency > 0 {
		base = "--max-concurrency " + strconv.Itoa(o.maxConcurrency)
	} else if cfg.Dimension == capacity.MaxConcurrency {
		base = "--request-rate " + rateText(cfg.Base.Rate)
	}
	fmt.Fprintf(s.stdout, "Capacity search: the largest --%s at %s meeting --sla %q\n", cfg.Dimension, base, cfg.SLA.String())
	fmt.Fprintln(s.stdout, o.capacity.sizing)
	cfg.Run = p.runner(s.stderr)
	cfg.OnRun = func(l capacity.Load, trial int) {
		if trial == 0 {
			fmt.Fprintf(s.stderr, "capacity: point %d: %s (%d requests)\n", s.points+1, loadText(l), l.Requests)
			return
		}
		fmt.Fprintf(s.stderr, "capacity: point %d: %s again, run %d of at most %d (a value within the noise of its limit)\n",
			s.points+1, loadText(l), trial+1, repeatsOf(cfg))
	}
	cfg.OnPoint = func(pt capacity.Point) {
		s.points++
		var took time.Duration
		for _, t := range pt.Trials {
			took += t.Elapsed
		}
		verdict := "pass"
		if !pt.Pass {
			verdict = "fail"
		}
		if pt.Flipped {
			verdict += " (flipped)"
		}
		ms := make([]string, 0, len(pt.Measurements()))
		for _, m := range pt.Measurements() {
			ms = append(ms, m.String())
		}
		fmt.Fprintf(s.stderr, "capacity: point %d: %s: %s in %.2fs: %s\n", s.points, loadText(pt.Load), verdict, took.Seconds(), strings.Join(ms, "; "))
		for _, w := range pt.Report().Warnings {
			fmt.Fprintf(s.stderr, "warning: point %d (%s): %v\n", s.points, loadText(pt.Load), w)
		}
	}
	res, err := capacity.Search(ctx, cfg)
	p.Close()
	if res == nil { // the config was checked with the flags
		return err
	}
	return s.finish(ctx, res, err)
}

func repeatsOf(cfg capacity.SearchConfig) int {
	if cfg.Repeats == 0 {
		return capacity.DefaultRepeats
	}
	return cfg.Repeats
}

// finish prints and saves the result and decides the exit status.
func (s *searcher) finish(ctx context.Context, res *capacity.SearchResult, err error) error {
	o := s.o
	if werr := res.WriteText(s.stdout); werr != nil {
		return werr
	}
	o.reportAcceptErrors(s.stderr)
	if o.saveResult {
		name := o.resultFilename
		if name == "" {
			name = summaryFilename(o, "capacity-"+res.Dimension.String(), s.begin)
		}
		path := filepath.Join(o.resultDir, name)
		opt := servingbench.JSONOptions{Percentiles: s.c.textOpts.Percentiles, Detailed: o.saveDetailed}
		if werr := writeFileAtomic(path, func(w io.Writer) error { return res.WriteJSON(w, opt) }); werr != nil {
			return errors.Join(err, fmt.Errorf("saving the result: %w", werr))
		}
		fmt.Fprintln(s.stdout, "Result saved to", path)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(s.stderr, "servingbench: capacity search interrupted after %d points: the capacity above is that of the points tried (the point running was dropped)\n", len(res.Points))
		return errInterrupted
	case err != nil:
		return fmt.Errorf("capacity search stopped after %d points: %w", len(res.Points), err)
	}
	if res.Stop == capacity.StopMaxPoints || res.Stop == capacity.StopBudget {
		bound := "--max-points"
		if res.Stop == capacity.StopBudget {
			bound = "--time-budget"
		}
		between := ""
		if lim := res.Limiting(); lim != nil && res.Best() != nil {
			between = fmt.Sprintf(": the capacity lies between %s and %s%s", numText(res.Capacity), numText(lim.Value), unitText(res.Dimension))
		}
		fmt.Fprintf(s.stderr, "warning: the search stopped at its %s before narrowing to its resolution%s\n", bound, between)
	}
	if m := o.capacity.minCapacity; m != nil && res.Capacity < *m {
		got := numText(res.Capacity) + unitText(res.Dimension)
		if res.AtLeast {
			got = "at least " + got
		}
		why := ""
		if r := res.Reason(); r != "" {
			why = "; first failing point " + r
		}
		return fmt.Errorf("capacity (%s) %s is below --min-capacity %s%s", res.Dimension, got, strconv.FormatFloat(*m, 'f', -1, 64), why)
	}
	return nil
}

func numText(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func unitText(d capacity.Dimension) string {
	if d == capacity.RequestRate {
		return " req/s"
	}
	return ""
}
