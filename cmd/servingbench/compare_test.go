package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest/gate"
)

// benchFile writes count result lines of one ttft-p99-ns metric whose
// samples step around center by ±2%, after a file header.
func benchFile(t *testing.T, name string, center float64, count int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\npkg: example.com/serving\n")
	for i := range count {
		v := center * (1 + 0.02*(float64(i%5)-2)/2)
		fmt.Fprintf(&b, "BenchmarkServing/rate=8 \t       1\t%.6g ttft-p99-ns\n", v)
	}
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

func TestCompare(t *testing.T) {
	oldPath := benchFile(t, "old.txt", 500e6, 10)
	samePath := benchFile(t, "same.txt", 502e6, 10)
	worsePath := benchFile(t, "worse.txt", 560e6, 10)

	var stdout, stderr bytes.Buffer
	require.NoError(t, runCompare([]string{oldPath, samePath}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "Serving/rate=8")
	assert.Contains(t, stdout.String(), "~ (p=")

	stdout.Reset()
	err := runCompare([]string{oldPath, worsePath}, &stdout, &stderr)
	var re *gate.RegressionError
	require.ErrorAs(t, err, &re, "compare(+12%%) = %v, want *gate.RegressionError", err)
	assert.Regexp(t, `^compare: 1 regression \(p < 0.05, change > 5%\):`, err.Error())
	assert.Contains(t, stdout.String(), "REGRESSION")
	assert.Empty(t, stderr.String(), "compare writes nothing to stderr")

	// +12% passes a 15% threshold, in either spelling.
	for _, th := range []string{"15%", "0.15"} {
		assert.NoError(t, runCompare([]string{"-threshold", th, oldPath, worsePath}, io.Discard, io.Discard), "-threshold %s", th)
	}
	// A tiny alpha makes nothing significant; flags take two dashes too.
	assert.NoError(t, runCompare([]string{"--alpha", "1e-9", oldPath, worsePath}, io.Discard, io.Discard))
}

// TestCompareBadCommandLine: each error names the flag and the value
// given, in the command's words, and nothing is written to stderr (main
// prints the error once).
func TestCompareBadCommandLine(t *testing.T) {
	oldPath := benchFile(t, "old.txt", 500e6, 6)
	newPath := benchFile(t, "new.txt", 500e6, 6)
	missing := filepath.Join(t.TempDir(), "missing.txt")
	tests := []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{oldPath}, "compare: want 2 files OLD NEW, got 1", true},
		{[]string{"-threshold", "five", oldPath, newPath}, `compare: -threshold "five": want a change >= 0`, true},
		{[]string{"-threshold", "-5%", oldPath, newPath}, `compare: -threshold "-5%": want a change >= 0`, true},
		{[]string{"-alpha", "0", oldPath, newPath}, "compare: -alpha must be in (0,1), got 0", true},
		{[]string{"-alpha", "1.5", oldPath, newPath}, "compare: -alpha must be in (0,1), got 1.5", true},
		{[]string{"-confidence", "2", oldPath, newPath}, "compare: -confidence must be in (0,1), got 2", true},
		{[]string{"-alpha", "x", oldPath, newPath}, `compare: invalid value "x" for flag -alpha`, true},
		{[]string{"-nosuchflag", oldPath, newPath}, "compare: flag provided but not defined: -nosuchflag", true},
		{[]string{"--alpha=x", oldPath, newPath}, `compare: invalid value "x" for flag --alpha: parse error`, true},
		{[]string{"--threshold"}, "compare: flag needs an argument: --threshold (see servingbench compare -h)", true},
		{[]string{"-filter", "((", oldPath, newPath}, `compare: -filter "((": `, true},
		{[]string{"-ignore", "cpu,((", oldPath, newPath}, `compare: -ignore "cpu,((": `, true},
		{[]string{"-filter", ".name:Other", oldPath, newPath}, "(see -ignore and -filter)", false},
		{[]string{oldPath, missing}, "compare: open " + missing + ": no such file or directory", false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			err := runCompare(tt.args, io.Discard, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "CompareOptions")
			assert.NotContains(t, err.Error(), "gate:")
			var u usageError
			assert.Equal(t, tt.usage, errors.As(err, &u), "compare %q: usage error (exit status 2)", tt.args)
			assert.Empty(t, stderr.String(), "compare %q wrote to stderr", tt.args)
		})
	}
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"5%", 0.05},
		{"0.05", 0.05},
		{"12.5%", 0.125},
		{"0", math.SmallestNonzeroFloat64},
	}
	for _, tt := range tests {
		got, err := parseThreshold(tt.in)
		require.NoError(t, err, "parseThreshold(%q)", tt.in)
		assert.Equal(t, tt.want, got, "parseThreshold(%q) = %v, want %v", tt.in, got, tt.want)
	}
}

func TestCompareHelp(t *testing.T) {
	var stderr bytes.Buffer
	require.NoError(t, runCompare([]string{"-h"}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "usage: servingbench compare [flags] OLD NEW")
	assert.Contains(t, stderr.String(), "-threshold")
}

// Two llama.cpp servers as benchtest.Main names them.
const (
	q8ID    = "3fa9c2e1b7d0"
	q8Desc  = "llama.cpp b11669-Debian (model_path=/m/tiny-q8_0.gguf, model_ftype=Q8_0) at http://127.0.0.1:18081"
	f16ID   = "5d2e8a0c4b11"
	f16Desc = "llama.cpp b11669-Debian (model_path=/m/tiny-f16.gguf, model_ftype=F16) at http://127.0.0.1:18080"
)

// identityText is what benchtest.Main prints for a server: model, backend
// and server lines, label or else server-id, the "# server-id:" line.
func identityText(model, label, id, desc string) string {
	s := "model: " + model + "\nbackend: openai\nserver: llama.cpp b11669-Debian\n"
	if label != "" {
		s += "label: " + label + "\n"
	} else {
		s += "server-id: " + id + "\n"
	}
	return s + "# server-id: " + id + " " + desc + "\n"
}

// sideFile is benchFile after identity lines: 6 samples of ttft-p99-ns
// around center.
func sideFile(t *testing.T, name, identity string, center float64) string {
	t.Helper()
	text, err := os.ReadFile(benchFile(t, name, center, 6))
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(identity+string(text)), 0o644))
	return p
}

func concat(t *testing.T, name string, paths ...string) string {
	t.Helper()
	var all []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, all, 0o644))
	return p
}

// TestCompareSides: labelled builds compare without -ignore, the first
// lines say what each file measured, different servers behind identical
// configuration get a note, and a file pooling two builds is refused
// before any table as a usage error naming the file, the benchmark, the
// builds and the fix in the command's flags.
func TestCompareSides(t *testing.T) {
	q8 := sideFile(t, "q8.txt", identityText("tiny-qwen3", "q8_0", q8ID, q8Desc), 500e6)
	f16 := sideFile(t, "f16.txt", identityText("tiny-qwen3", "f16", f16ID, f16Desc), 600e6)
	a := sideFile(t, "a.txt", identityText("tiny-qwen3", "", q8ID, q8Desc), 500e6)
	b := sideFile(t, "b.txt", identityText("tiny-qwen3", "", f16ID, f16Desc), 502e6)

	t.Run("labelled builds", func(t *testing.T) {
		var stdout bytes.Buffer
		err := runCompare([]string{q8, f16}, &stdout, io.Discard)
		var re *gate.RegressionError
		require.ErrorAs(t, err, &re, "compare q8.txt f16.txt (+20%%) = %v, want a regression", err)
		lines := strings.Split(stdout.String(), "\n")
		assert.Equal(t, "old: "+q8+", label q8_0, server-id "+q8ID+" ("+q8Desc+")", lines[0])
		assert.Equal(t, "new: "+f16+", label f16, server-id "+f16ID+" ("+f16Desc+")", lines[1])
		assert.Equal(t, "model: tiny-qwen3", lines[2])
		assert.NotContains(t, stdout.String(), "note:")
	})
	t.Run("different servers", func(t *testing.T) {
		var stdout bytes.Buffer
		require.NoError(t, runCompare([]string{a, b}, &stdout, io.Discard))
		lines := strings.Split(stdout.String(), "\n")
		assert.Equal(t, "note: "+a+" and "+b+" have identical configuration but come from different servers: "+
			a+" from server-id "+q8ID+" ("+q8Desc+"), "+b+" from server-id "+f16ID+" ("+f16Desc+")", lines[2])
		assert.Equal(t, "model: tiny-qwen3", lines[3], "the note comes before the tables")
	})
	t.Run("same server", func(t *testing.T) {
		var stdout bytes.Buffer
		require.NoError(t, runCompare([]string{a, a}, &stdout, io.Discard))
		assert.NotContains(t, stdout.String(), "note:")
	})
	t.Run("pooled", func(t *testing.T) {
		both := concat(t, "both.txt", q8, f16)
		var stdout, stderr bytes.Buffer
		err := runCompare([]string{both, q8}, &stdout, &stderr)
		var pe *gate.PooledError
		require.ErrorAs(t, err, &pe, "compare both.txt q8.txt = %v, want *gate.PooledError", err)
		var u usageError
		assert.True(t, errors.As(err, &u), "a pooled file is a usage error (exit status 2)")
		assert.Equal(t, "compare: "+both+": Serving/rate=8 has results from 2 builds or servers under otherwise identical configuration; "+
			"the gate does not pool them into one sample:\n"+
			"\tlabel q8_0, server-id "+q8ID+" ("+q8Desc+"), from line 9\n"+
			"\tlabel f16, server-id "+f16ID+" ("+f16Desc+"), from line 23\n"+
			"keep one build per file (a go test run each, compared as OLD and NEW), or compare the builds label by label (-match label)",
			err.Error())
		assert.Empty(t, stdout.String(), "no table for a pooled file")
		assert.Empty(t, stderr.String())

		// By "# server-id:" lines only: one label, two servers.
		q8Elsewhere := sideFile(t, "q8-elsewhere.txt", identityText("tiny-qwen3", "q8_0", f16ID, f16Desc), 500e6)
		err = runCompare([]string{q8, concat(t, "q8-both.txt", q8, q8Elsewhere)}, io.Discard, io.Discard)
		require.ErrorAs(t, err, &pe)
		assert.Contains(t, err.Error(), "\tlabel q8_0, server-id "+f16ID+" ("+f16Desc+"), from line 23\n")
		assert.Contains(t, err.Error(), "give each server its own SERVINGBENCH_LABEL, or compare server by server (-match server-id)")

		// -match label compares label by label.
		stdout.Reset()
		require.NoError(t, runCompare([]string{"-match", "label", both, both}, &stdout, io.Discard))
		assert.Contains(t, stdout.String(), "\nlabel: q8_0\n")
		assert.Contains(t, stdout.String(), "\nlabel: f16\n")
		// So does a filter on one label.
		require.NoError(t, runCompare([]string{"-filter", "label:f16", both, f16}, io.Discard, io.Discard))
	})
	t.Run("bad -match", func(t *testing.T) {
		err := runCompare([]string{"-match", "label,cpu", a, b}, io.Discard, io.Discard)
		var u usageError
		require.ErrorAs(t, err, &u, "compare -match label,cpu = %v, want a usage error", err)
		assert.Equal(t, `compare: -match "label,cpu": "cpu" is not a side key: only label and server-id can be matched `+
			`(other configuration keys are matched unless ignored)`, err.Error())
		// Matching both side keys of two servers: nothing matches.
		err = runCompare([]string{"-match", "label, server-id", q8, f16}, io.Discard, io.Discard)
		var nm *gate.NoMatchError
		require.ErrorAs(t, err, &nm, "compare -match label,server-id q8.txt f16.txt = %v, want *gate.NoMatchError", err)
	})
}

// TestCompareREADMERecipe: the README's "servingbench compare -ignore
// model w8a8.txt fp16.txt", on files as benchtest.Main printed them before
// labels and server-ids, and as it prints them now for two unlabelled
// simulated servers.
func TestCompareREADMERecipe(t *testing.T) {
	before := func(model string) string {
		return "model: " + model + "\nbackend: vllm\nserver-version: servingtest-0.1.0\n"
	}
	now := func(model, id string) string {
		return "model: " + model + "\nbackend: openai\nserver: servingtest-0.1.0\nserver-id: " + id +
			"\n# server-id: " + id + " servingtest-0.1.0 (profile=" + model + ")\n"
	}
	for name, hdr := range map[string][2]string{
		"before": {before("sim-7b-w8a8"), before("sim-7b-fp16")},
		"now":    {now("sim-7b-w8a8", "0a1b2c3d4e5f"), now("sim-7b-fp16", "f5e4d3c2b1a0")},
	} {
		t.Run(name, func(t *testing.T) {
			w8a8 := sideFile(t, "w8a8.txt", hdr[0], 500e6)
			fp16 := sideFile(t, "fp16.txt", hdr[1], 560e6)
			var stdout bytes.Buffer
			err := runCompare([]string{"-ignore", "model", w8a8, fp16}, &stdout, io.Discard)
			var re *gate.RegressionError
			require.ErrorAs(t, err, &re, "compare -ignore model w8a8.txt fp16.txt = %v, want a regression", err)
			assert.Contains(t, stdout.String(), "REGRESSION")
			assert.NotContains(t, stdout.String(), "note:", "the models differ: no note on the servers")
			assert.Equal(t, name == "now", strings.HasPrefix(stdout.String(), "old: "+w8a8+", server-id 0a1b2c3d4e5f (servingtest-0.1.0 (profile=sim-7b-w8a8))\n"),
				"first line:\n%s", stdout.String())
			require.NoError(t, runCompare([]string{"-ignore", "model", fp16, w8a8}, io.Discard, io.Discard), "the other way round improves")
			var nm *gate.NoMatchError
			require.ErrorAs(t, runCompare([]string{w8a8, fp16}, io.Discard, io.Discard), &nm, "without -ignore model nothing matches")
		})
	}
}

// TestCompareExitStatus runs the built command: 2 for a pooled file (the
// message on stderr, nothing on stdout), 0 with a note on different
// servers, 1 on a regression between labelled builds.
func TestCompareExitStatus(t *testing.T) {
	bin := servingbenchBinary(t)
	q8 := sideFile(t, "q8.txt", identityText("tiny-qwen3", "q8_0", q8ID, q8Desc), 500e6)
	f16 := sideFile(t, "f16.txt", identityText("tiny-qwen3", "f16", f16ID, f16Desc), 600e6)
	a := sideFile(t, "a.txt", identityText("tiny-qwen3", "", q8ID, q8Desc), 500e6)
	b := sideFile(t, "b.txt", identityText("tiny-qwen3", "", f16ID, f16Desc), 502e6)
	both := concat(t, "both.txt", q8, f16)
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string // prefixes; "" wants empty
	}{
		{[]string{both, f16}, 2, "", "servingbench: compare: " + both + ": Serving/rate=8 has results from 2 builds or servers"},
		{[]string{a, b}, 0, "old: " + a + ", server-id " + q8ID + " (" + q8Desc + ")\nnew: " + b + ", server-id " + f16ID +
			" (" + f16Desc + ")\nnote: " + a + " and " + b + " have identical configuration but come from different servers: ", ""},
		{[]string{q8, f16}, 1, "old: " + q8 + ", label q8_0", "servingbench: compare: 1 regression"},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin, append([]string{"compare"}, tt.args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := 0
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "servingbench compare %v", tt.args)
			code = ee.ExitCode()
		}
		assert.Equal(t, tt.code, code, "servingbench compare %v: exit status\nstdout:\n%s\nstderr:\n%s", tt.args, &stdout, &stderr)
		for _, out := range []struct{ name, got, want string }{{"stdout", stdout.String(), tt.stdout}, {"stderr", stderr.String(), tt.stderr}} {
			if out.want == "" {
				assert.Empty(t, out.got, "servingbench compare %v: %s", tt.args, out.name)
			} else {
				assert.True(t, strings.HasPrefix(out.got, out.want), "servingbench compare %v: %s =\n%s\nwant it to start with\n%s", tt.args, out.name, out.got, out.want)
			}
		}
	}
}
