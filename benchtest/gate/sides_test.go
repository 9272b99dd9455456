package gate

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two llama.cpp servers as benchtest.Main names them.
const (
	q8ID    = "3fa9c2e1b7d0"
	q8Desc  = "llama.cpp b11669-Debian (model_path=/m/tiny-q8_0.gguf, model_ftype=Q8_0) at http://127.0.0.1:18081"
	f16ID   = "5d2e8a0c4b11"
	f16Desc = "llama.cpp b11669-Debian (model_path=/m/tiny-f16.gguf, model_ftype=F16) at http://127.0.0.1:18080"
)

// identity returns the lines benchtest.Main prints before the results: the
// model, backend and server, "label:" when labelled or else "server-id:",
// the ignored "# server-id:" line, then the go test header.
func identity(label, id, desc string) string {
	s := "model: tiny-qwen3\nbackend: openai\nserver: llama.cpp b11669-Debian\n"
	if label != "" {
		s += "label: " + label + "\n"
	} else {
		s += "server-id: " + id + "\n"
	}
	return s + "# server-id: " + id + " " + desc + "\n" + header
}

// seed is a go test -bench run of BenchmarkSeed-2 after hdr: TPOT around
// tpot nanoseconds, 6 samples.
func seed(rngSeed uint64, hdr string, tpot float64) string {
	return benchText(rngSeed, hdr, "Seed-2", 6, metric{"tpot-mean-ns", tpot, 0.01}, metric{"req/s", 1e9 / tpot, 0.01})
}

var (
	q8Side        = Side{Label: "q8_0", ServerID: q8ID, Server: q8Desc}
	f16Side       = Side{Label: "f16", ServerID: f16ID, Server: f16Desc}
	q8Unlabelled  = Side{ServerID: q8ID, Server: q8Desc}
	f16Unlabelled = Side{ServerID: f16ID, Server: f16Desc}
)

// TestCompareSides: which build and server each input measured, matched
// or not, pooled or not.
func TestCompareSides(t *testing.T) {
	q8 := seed(1, identity("q8_0", q8ID, q8Desc), 20e6)
	f16 := seed(2, identity("f16", f16ID, f16Desc), 40e6)
	q8Plain := seed(3, identity("", q8ID, q8Desc), 20e6)
	f16Plain := seed(4, identity("", f16ID, f16Desc), 20.2e6)
	// A label but no server-id configuration line: the two servers are
	// told apart by their "# server-id:" lines only.
	q8Again := seed(5, identity("q8_0", f16ID, f16Desc), 20e6)
	q8Lines, q8PlainLines := strings.Count(q8, "\n"), strings.Count(q8Plain, "\n")
	firstResult := strings.Count(identity("q8_0", q8ID, q8Desc), "\n") + 1

	tests := []struct {
		name             string
		old, new         string
		opt              CompareOptions
		oldSide, newSide Side // of the TPOT row
		notes            []ServerNote
		pooled           *PooledError // the error wanted, if any
		verdict          Verdict      // of the TPOT row
	}{
		{
			name: "labelled vs labelled: compared without Ignore, no note",
			old:  q8, new: f16,
			oldSide: q8Side, newSide: f16Side, verdict: Regression,
		},
		{
			name: "unlabelled, different servers: a note",
			old:  q8Plain, new: f16Plain,
			oldSide: q8Unlabelled, newSide: f16Unlabelled, verdict: Same,
			notes: []ServerNote{{OldLabel: "old.txt", NewLabel: "new.txt", Old: q8Unlabelled, New: f16Unlabelled}},
		},
		{
			name: "same label, different servers: a note",
			old:  q8, new: q8Again,
			oldSide: q8Side, newSide: Side{Label: "q8_0", ServerID: f16ID, Server: f16Desc}, verdict: Same,
			notes: []ServerNote{{OldLabel: "old.txt", NewLabel: "new.txt", Old: q8Side, New: Side{Label: "q8_0", ServerID: f16ID, Server: f16Desc}}},
		},
		{
			name: "same server both sides: no note",
			old:  q8Plain, new: seed(6, identity("", q8ID, q8Desc), 20e6),
			oldSide: q8Unlabelled, newSide: q8Unlabelled, verdict: Same,
		},
		{
			name: "different servers and an ignored key that differs: no note",
			old:  q8Plain, new: strings.Replace(f16Plain, "model: tiny-qwen3", "model: tiny-qwen3-f16", 1),
			opt:     CompareOptions{Ignore: []string{"model"}},
			oldSide: q8Unlabelled, newSide: f16Unlabelled, verdict: Same,
		},
		{
			name: "pooled within a file by label",
			old:  q8 + f16, new: q8,
			pooled: &PooledError{Input: "old.txt", Benchmark: "Seed-2", Sources: []PooledSource{
				{q8Side, firstResult}, {f16Side, q8Lines + firstResult},
			}},
		},
		{
			name: "pooled within a file by server-id lines",
			old:  q8Plain, new: q8Plain + f16Plain,
			pooled: &PooledError{Input: "new.txt", Benchmark: "Seed-2", Sources: []PooledSource{
				{q8Unlabelled, firstResult}, {f16Unlabelled, q8PlainLines + firstResult},
			}},
		},
		{
			name: "pooled within a file by # server-id lines only",
			old:  q8 + q8Again, new: q8,
			pooled: &PooledError{Input: "old.txt", Benchmark: "Seed-2", Sources: []PooledSource{
				{q8Side, firstResult}, {Side{Label: "q8_0", ServerID: f16ID, Server: f16Desc}, q8Lines + firstResult},
			}},
		},
		{
			name: "pooled in the new file after the old one read well",
			old:  q8, new: q8 + f16,
			pooled: &PooledError{Input: "new.txt", Benchmark: "Seed-2", Sources: []PooledSource{
				{q8Side, firstResult}, {f16Side, q8Lines + firstResult},
			}},
		},
		{
			name: "Match label: two labelled builds in one file, label by label",
			old:  q8 + f16, new: q8,
			opt:     CompareOptions{Match: []string{"label"}},
			oldSide: q8Side, newSide: q8Side, verdict: Same,
		},
		{
			name: "Filter selects one build of a pooled file",
			old:  q8 + f16, new: f16,
			opt:     CompareOptions{Filter: "label:f16"},
			oldSide: f16Side, newSide: f16Side, verdict: Same,
		},
		{
			name: "Ignore label still refuses to pool",
			old:  q8 + f16, new: q8,
			opt: CompareOptions{Ignore: []string{"label", "server-id"}},
			pooled: &PooledError{Input: "old.txt", Benchmark: "Seed-2", Sources: []PooledSource{
				{q8Side, firstResult}, {f16Side, q8Lines + firstResult},
			}},
		},
		{
			name: "a labelled file against one without identity lines",
			old:  seed(7, "model: tiny-qwen3\nbackend: openai\nserver: llama.cpp b11669-Debian\n"+header, 20e6), new: q8,
			oldSide: Side{}, newSide: q8Side, verdict: Same,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.OldLabel, opt.NewLabel = "old.txt", "new.txt"
			c, err := compareText(t, tt.old, tt.new, opt)
			if tt.pooled != nil {
				var pe *PooledError
				require.ErrorAs(t, err, &pe, "CompareFiles = %v, %v, want *PooledError", c, err)
				assert.Equal(t, tt.pooled, pe)
				return
			}
			require.NoError(t, err)
			row := findRow(t, c, "tpot-mean-ns")
			assert.Equal(t, tt.oldSide, row.OldSide, "Row.OldSide")
			assert.Equal(t, tt.newSide, row.NewSide, "Row.NewSide")
			assert.Equal(t, tt.verdict, row.Verdict, "TPOT verdict (delta %.3f p %.4f)", row.Delta, row.P)
			assert.Equal(t, tt.notes, c.Notes, "Comparison.Notes")
			for _, r := range c.Rows {
				for _, l := range r.Config {
					if key, _, _ := strings.Cut(l, ":"); isSideKey(key) {
						assert.Contains(t, tt.opt.Match, key, "Row.Config has %q, a side key Match does not name", l)
					}
				}
			}
		})
	}
}

// TestCompareSidesOfInputs: Comparison.OldSides and NewSides list each
// input's builds in order, WriteTable names them and the notes before the
// first table.
func TestCompareSidesOfInputs(t *testing.T) {
	both := seed(1, identity("q8_0", q8ID, q8Desc), 20e6) + seed(2, identity("f16", f16ID, f16Desc), 40e6)
	c, err := CompareBaseline(strings.NewReader(both), strings.NewReader(both),
		CompareOptions{Match: []string{LabelKey}, OldLabel: "both.txt", NewLabel: "again.txt"})
	require.NoError(t, err)
	assert.Equal(t, []Side{q8Side, f16Side}, c.OldSides)
	assert.Equal(t, []Side{q8Side, f16Side}, c.NewSides)
	assert.Empty(t, c.Notes)
	var buf bytes.Buffer
	require.NoError(t, c.WriteTable(&buf))
	lines := strings.Split(buf.String(), "\n")
	assert.Equal(t, []string{
		"old: both.txt, label q8_0, server-id " + q8ID + " (" + q8Desc + ")",
		"old: both.txt, label f16, server-id " + f16ID + " (" + f16Desc + ")",
		"new: again.txt, label q8_0, server-id " + q8ID + " (" + q8Desc + ")",
		"new: again.txt, label f16, server-id " + f16ID + " (" + f16Desc + ")",
		"model: tiny-qwen3",
	}, lines[:5])
	assert.Contains(t, buf.String(), "\nlabel: f16\n", "a matched side key is configuration")

	// CompareBaseline's default labels are not repeated.
	c, err = CompareBaseline(strings.NewReader(both), strings.NewReader(both), CompareOptions{Match: []string{LabelKey}})
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, c.WriteTable(&buf))
	assert.True(t, strings.HasPrefix(buf.String(), "old: label q8_0, server-id "+q8ID), "WriteTable:\n%s", buf.String())

	// Inputs that name no build print no side lines.
	plain := seed(3, header, 20e6)
	c, err = CompareBaseline(strings.NewReader(plain), strings.NewReader(plain), CompareOptions{})
	require.NoError(t, err)
	assert.Equal(t, []Side{{}}, c.OldSides)
	buf.Reset()
	require.NoError(t, c.WriteTable(&buf))
	assert.True(t, strings.HasPrefix(buf.String(), "goos: linux\n"), "WriteTable:\n%s", buf.String())
}

// TestWriteTableServerNoteGolden: the note case as WriteTable prints it.
func TestWriteTableServerNoteGolden(t *testing.T) {
	old := seed(1, identity("", q8ID, q8Desc), 20e6)
	new := seed(2, identity("", f16ID, f16Desc), 23e6)
	c, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{OldLabel: "a.txt", NewLabel: "b.txt"})
	require.NoError(t, err)
	require.Len(t, c.Notes, 1)
	assert.Equal(t, "a.txt and b.txt have identical configuration but come from different servers: "+
		"a.txt from server-id "+q8ID+" ("+q8Desc+"), b.txt from server-id "+f16ID+" ("+f16Desc+")", c.Notes[0].String())
	var buf bytes.Buffer
	require.NoError(t, c.WriteTable(&buf))

	golden := filepath.Join("testdata", "servernote.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), buf.String(), "WriteTable output differs from %s (go test -update to rewrite)", golden)
	out := buf.String()
	assert.Less(t, strings.Index(out, "note: a.txt and b.txt"), strings.Index(out, "tpot-mean-sec"), "the note comes before the tables")
	assert.NotContains(t, out, "server-id: ", "server-id is not matched, so not a table's configuration")
}

// TestPooledErrorMessage: the error names the input, the benchmark, every
// build or server with its description and line, and the fix in the
// caller's words.
func TestPooledErrorMessage(t *testing.T) {
	byLabel := &PooledError{Input: "both.txt", Benchmark: "Seed-2", Others: []string{"Chat-2"},
		Sources: []PooledSource{{q8Side, 10}, {f16Side, 31}}}
	assert.Equal(t, "gate: both.txt: Seed-2 has results from 2 builds or servers under otherwise identical configuration; "+
		"the gate does not pool them into one sample:\n"+
		"\tlabel q8_0, server-id "+q8ID+" ("+q8Desc+"), from line 10\n"+
		"\tlabel f16, server-id "+f16ID+" ("+f16Desc+"), from line 31\n"+
		"\t(likewise Chat-2)\n"+
		"keep one build per file (a go test run each, compared as OLD and NEW), "+
		`or compare the builds label by label (CompareOptions.Match "label")`, byLabel.Error())
	assert.Contains(t, byLabel.Message(func(k string) string { return "-match " + k }), "label by label (-match label)")

	byServer := &PooledError{Input: "new.txt", Benchmark: "Seed-2",
		Sources: []PooledSource{{Side{ServerID: q8ID}, 10}, {f16Unlabelled, 31}}}
	msg := byServer.Message(func(k string) string { return "-match " + k })
	assert.Contains(t, msg, "\tserver-id "+q8ID+", from line 10\n", "an ID without a description")
	assert.Contains(t, msg, "keep one server per file, or give each server its own SERVINGBENCH_LABEL, "+
		"or compare server by server (-match server-id)")
}

// TestCompareMatchInvalid: Match takes the side keys only.
func TestCompareMatchInvalid(t *testing.T) {
	text := benchText(1, header, "Serving", 6, metric{"req/s", 8, 0.01})
	for _, tt := range []struct {
		opt         CompareOptions
		value, want string
	}{
		{CompareOptions{Match: []string{"label", "cpu"}}, "label,cpu", `"cpu" is not a side key: only label and server-id can be matched`},
		{CompareOptions{Match: []string{"/gomaxprocs"}}, "/gomaxprocs", `"/gomaxprocs" is not a side key`},
		{CompareOptions{Match: []string{"server-id"}, Ignore: []string{"server-id"}}, "server-id", `"server-id" cannot be both matched and ignored`},
	} {
		_, err := CompareBaseline(strings.NewReader(text), strings.NewReader(text), tt.opt)
		var oe *OptionError
		require.ErrorAs(t, err, &oe, "CompareBaseline(%+v) = %v, want *OptionError", tt.opt, err)
		assert.Equal(t, "Match", oe.Field)
		assert.Equal(t, tt.value, oe.Value)
		assert.Contains(t, err.Error(), "gate: CompareOptions.Match: "+tt.want)
	}
	// Matching both side keys of two servers leaves nothing to compare.
	_, err := CompareBaseline(strings.NewReader(seed(1, identity("q8_0", q8ID, q8Desc), 20e6)),
		strings.NewReader(seed(2, identity("f16", f16ID, f16Desc), 20e6)), CompareOptions{Match: []string{"label", "server-id"}})
	var nm *NoMatchError
	require.ErrorAs(t, err, &nm, "Match label,server-id on two builds = %v, want *NoMatchError", err)
}

// TestServerIDReader: "# server-id:" lines become configuration lines,
// every other byte passes unchanged, and lines keep their numbers.
func TestServerIDReader(t *testing.T) {
	long := "# " + strings.Repeat("x", maxServerIDLine+10) + "\n"
	in := "# server-id: " + q8ID + " " + q8Desc + "\r\n" +
		"#server-id:\t" + f16ID + "\n" + // no description
		"# server-id: " + f16ID + " " + f16Desc + "\n" + // the description comes later
		"# server-id:\n" + // no ID: left alone
		"## server-id: x\n" + // not the line
		long +
		"# server-id: " + q8ID + " another description\n" + // the first one stays
		"BenchmarkX 1 2 req/s\n" +
		"# server-id: 0123456789ab at the end" // no newline
	want := "server-id: " + q8ID + "\n" +
		"server-id: " + f16ID + "\n" +
		"server-id: " + f16ID + "\n" +
		"# server-id:\n" +
		"## server-id: x\n" +
		long +
		"server-id: " + q8ID + "\n" +
		"BenchmarkX 1 2 req/s\n" +
		"server-id: 0123456789ab"
	wantDescs := map[string]string{q8ID: q8Desc, f16ID: f16Desc, "0123456789ab": "at the end"}
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"Plain":   func(r io.Reader) io.Reader { return r },
		"OneByte": iotest.OneByteReader,
		"Half":    iotest.HalfReader,
		"DataErr": iotest.DataErrReader,
	} {
		r := newServerIDReader(wrap(strings.NewReader(in)))
		got, err := io.ReadAll(r)
		require.NoError(t, err, name)
		assert.Equal(t, want, string(got), "%s reader", name)
		assert.Equal(t, wantDescs, r.descs, "%s reader: descriptions", name)
		require.NoError(t, iotest.TestReader(newServerIDReader(strings.NewReader(in)), []byte(want)), name)
	}
}

// TestCompareServerIDLineNumbers: after "# server-id:" lines, a malformed
// line is still reported at its own line number.
func TestCompareServerIDLineNumbers(t *testing.T) {
	bad := identity("q8_0", q8ID, q8Desc) + "BenchmarkSeed-2 1 fast req/s\n"
	line := strings.Count(bad, "\n")
	_, err := compareText(t, bad, seed(1, header, 20e6), CompareOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("old.txt:%d:", line))
}
