package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/servingbench/servingbench/internal/htmlreport"
	"github.com/servingbench/servingbench/servingbench"
)

// runReport is "servingbench report [-o FILE] [--format html|png]
// RESULT.json [MORE.json...]": it reads result files (--save-result,
// best with --save-detailed) and writes one report of them all, side by
// side: a self-contained HTML page (internal/htmlreport) or, with
// --format png, a PNG of the main charts. Flags may come before or after
// the files. -o defaults to report.html (report.png). A file that is not
// a result file fails the command naming it; a file without the
// per-request keys gives a page whose notes say which charts are missing
// and why. args excludes "report".
func runReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "write the report to `file` (default report.html, or report.png with --format png)")
	format := fs.String("format", "html", "html (one self-contained page) or png (the main charts)")
	files, help, err := parseFileArgs(fs, "usage: servingbench report [-o FILE] [--format html|png] RESULT.json [MORE.json...]\n\n"+
		"Writes one report of result files side by side: the summary table, CDFs of\n"+
		"TTFT, TPOT, ITL and E2EL, the request timeline, output tok/s and requests\n"+
		"active each second, failures over time and the server's metrics when the files\n"+
		"have them. The charts need the per-request keys of --save-detailed.\n\n", args, stderr)
	if help || err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{errors.New("report: want at least one result file (see servingbench report -h)")}
	}
	if *format != "html" && *format != "png" {
		return usageError{fmt.Errorf("report: --format must be html or png, got %q", *format)}
	}
	path := *out
	if path == "" {
		path = "report." + *format
	}
	var runs []*htmlreport.Run
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		r, err := htmlreport.Load(f, data)
		if err != nil {
			return fmt.Errorf("report: %s is not a result file: %w", f, unwrapLoad(err))
		}
		runs = append(runs, r)
	}
	if err := writeReport(path, *format, runs); err != nil {
		return err
	}
	for _, r := range runs {
		for _, n := range r.Notes {
			fmt.Fprintf(stderr, "note: %s: %s\n", r.Name, n)
		}
	}
	fmt.Fprintln(stdout, "Report written to", path)
	return nil
}

// writeReport writes runs' report to path atomically, as html or png.
func writeReport(path, format string, runs []*htmlreport.Run) error {
	write := func(w io.Writer) error { return htmlreport.WriteHTML(w, runs) }
	if format == "png" {
		write = func(w io.Writer) error { return htmlreport.WritePNG(w, runs) }
	}
	if err := writeFileAtomic(path, write); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

// unwrapLoad drops htmlreport's "htmlreport: NAME: " prefix, which the
// caller's message names already.
func unwrapLoad(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return errors.New(strings.TrimPrefix(u.Error(), "servingbench: "))
	}
	return err
}

// reportPath is where --plot writes the report of a run whose result file
// is (or would be) resultPath: the same name with .report.html for its
// .json, as vllm bench serve's --plot-timeline writes NAME.timeline.html.
func reportPath(resultPath string) string {
	return strings.TrimSuffix(resultPath, ".json") + ".report.html"
}

// plotReport is --plot: the HTML report of rep, from its result file with
// every per-request key (whether or not --save-detailed saves them), at
// reportPath of its result file's path (checkResultPath checked the
// directory before the run).
func (o *options) plotReport(rep *servingbench.Report) (string, error) {
	var buf bytes.Buffer
	if err := servingbench.WriteJSON(&buf, rep, servingbench.JSONOptions{Detailed: true}); err != nil {
		return "", fmt.Errorf("--plot: %w", err)
	}
	resultPath := o.resultPath(rep)
	run, err := htmlreport.Load(resultPath, buf.Bytes())
	if err != nil {
		return "", fmt.Errorf("--plot: %w", err)
	}
	path := reportPath(resultPath)
	if err := writeReport(path, "html", []*htmlreport.Run{run}); err != nil {
		return "", fmt.Errorf("--plot: %w", err)
	}
	return path, nil
}

// parseFileArgs parses the flags of a subcommand that takes files (report,
// merge) from args, the flags before or after the files, and returns the
// files. -h prints usage and fs's flags to stderr and returns help; a bad
// flag is flagParseError's usage error, named after fs.
func parseFileArgs(fs *flag.FlagSet, usage string, args []string, stderr io.Writer) (files []string, help bool, err error) {
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, usage)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
				fs.SetOutput(io.Discard)
				return nil, true, nil
			}
			return nil, false, flagParseError(fs.Name(), err, args)
		}
		if fs.NArg() == 0 {
			return files, false, nil
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}
