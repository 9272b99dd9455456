package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
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
