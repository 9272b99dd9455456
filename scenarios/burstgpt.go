package scenarios

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// BurstGPT is the BurstGPT trace (its CSV files, such as
// BurstGPT_without_fails_2.csv, with the columns Timestamp, Model,
// Request tokens, Response tokens, Total tokens, Log Type): request and
// response token counts as lengths and, unlike vLLM, the timestamps as the
// arrival schedule.
//
// Rows are kept when Model equals Model ("GPT-4" when empty, as vLLM
// filters; "*" keeps every model), Response tokens > 0 (vLLM's filter),
// Request tokens > 0 (ours: an empty prompt is no request) and, when
// LogType is set, Log Type equals it (for example "Conversation log").
// The first n kept rows, in file order, make the requests: for row i the
// prompt is the decoded ids (i+j) mod VocabSize for j < Request tokens, as
// vLLM makes it, PromptTokens its measured count and MaxTokens the
// Response tokens. Arrival replays their timestamps relative to the first
// one.
//
// vLLM instead draws n rows at random (pandas' sample with the seed, with
// replacement when n exceeds the rows) and sends them at --request-rate,
// which keeps the length distribution but loses the bursts. Here the seed
// is not used, and asking for more requests than kept rows is an error. A
// Scenario with a RequestRate set uses that rate instead of the timestamps.
type BurstGPT struct {
	Path    string
	Model   string // "" means "GPT-4"; "*" means any
	LogType string // "" means any
}

var (
	_ Dataset   = BurstGPT{}
	_ Scheduled = BurstGPT{}

	_ lengthScaler = BurstGPT{}
)

func (d BurstGPT) model() string {
	if d.Model == "" {
		return "GPT-4"
	}
	return d.Model
}

// String is "dataset=burstgpt/file=NAME/model=M", with "/log=L" when
// LogType is set.
func (d BurstGPT) String() string {
	s := fmt.Sprintf("dataset=burstgpt/file=%s/model=%s", base(d.Path), d.model())
	if d.LogType != "" {
		s += "/log=" + d.LogType
	}
	return s
}

// Validate reports a bad field.
func (d BurstGPT) Validate() error {
	if d.Path == "" {
		return errors.New("scenarios: BurstGPT.Path is empty")
	}
	return nil
}

// scaled takes no lengths (see Scale): they are the trace's.
func (d BurstGPT) scaled(in, out, _ int) (Dataset, []string) {
	return d, noLengths(d, in, out, "its lengths are the trace's")
}

// burstRow is one kept row.
type burstRow struct {
	at            time.Duration // since the first kept row
	input, output int
}

// Requests returns the first n kept rows as requests.
func (d BurstGPT) Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error) {
	if err := checkArgs("BurstGPT", tok, n); err != nil {
		return nil, err
	}
	rows, err := d.rows(n)
	if err != nil {
		return nil, err
	}
	v := tok.VocabSize()
	reqs := make([]servingbench.Request, n)
	err = parallel(ctx, n, func(i int) {
		ids := make([]int, rows[i].input)
		for j := range ids {
			ids[j] = (i + j) % v
		}
		p := tok.Decode(ids)
		reqs[i] = servingbench.Request{Prompt: p, PromptTokens: len(tok.Encode(p)), MaxTokens: rows[i].output}
	})
	if err != nil {
		return nil, err
	}
	return reqs, nil
}

// Arrival returns the timestamps of the first n kept rows, relative to the
// first, as a servingbench.Trace.
func (d BurstGPT) Arrival(n int, seed uint64) (servingbench.Arrival, error) {
	rows, err := d.rows(n)
	if err != nil {
		return nil, err
	}
	tr := make(servingbench.Trace, n)
	for i, r := range rows[:n] {
		tr[i] = r.at
	}
	return tr, nil
}

// rows reads the file and returns its first n kept rows.
func (d BurstGPT) rows(n int) ([]burstRow, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("scenarios: BurstGPT: n must be >= 0, got %d", n)
	}
	f, err := os.Open(d.Path)
	if err != nil {
		return nil, &FileError{Path: d.Path, Err: err}
	}
	defer f.Close()
	rows, err := readBurstGPT(f, d.Path, d.model(), d.LogType, n)
	if err != nil {
		return nil, err
	}
	if len(rows) < n {
		return nil, &FileError{Path: d.Path, Err: fmt.Errorf("%d rows match Model %q, LogType %q and have positive token counts; %d requests asked for", len(rows), d.model(), d.LogType, n)}
	}
	return rows, nil
}

// maxTraceSeconds keeps offsets within time.Duration (about 292 years).
const maxTraceSeconds = float64(math.MaxInt64/int64(time.Second)) - 1

// burstColumns are the columns BurstGPT reads.
var burstColumns = []string{"Timestamp", "Model", "Request tokens", "Response tokens", "Log Type"}

// readBurstGPT parses the CSV until it has n kept rows. Errors carry the
// line number.
func readBurstGPT(r io.Reader, path, model, logType string, n int) ([]burstRow, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: file is empty", ErrEmpty)}
	}
	if err != nil {
		return nil, csvError(path, err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	for _, name := range burstColumns {
		if _, ok := col[name]; !ok && (name != "Log Type" || logType != "") {
			return nil, &FileError{Path: path, Unit: "line", Pos: 1, Err: fmt.Errorf("missing column %q", name)}
		}
	}
	var rows []burstRow
	var first, last float64
	for len(rows) < n {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		line, _ := cr.FieldPos(0)
		if (model != "*" && rec[col["Model"]] != model) || (logType != "" && rec[col["Log Type"]] != logType) {
			continue
		}
		ts, err := strconv.ParseFloat(rec[col["Timestamp"]], 64)
		if err != nil || math.IsNaN(ts) || math.IsInf(ts, 0) {
			return nil, &FileError{Path: path, Unit: "line", Pos: line, Err: fmt.Errorf("bad Timestamp %q", rec[col["Timestamp"]])}
		}
		in, err1 := strconv.Atoi(rec[col["Request tokens"]])
		out, err2 := strconv.Atoi(rec[col["Response tokens"]])
		if err := errors.Join(err1, err2); err != nil {
			return nil, &FileError{Path: path, Unit: "line", Pos: line, Err: fmt.Errorf("bad token count: %w", err)}
		}
		if in <= 0 || out <= 0 {
			continue
		}
		if len(rows) == 0 {
			first, last = ts, ts
		}
		if ts < last {
			return nil, &FileError{Path: path, Unit: "line", Pos: line, Err: fmt.Errorf("Timestamp %v is before the previous row's %v", ts, last)}
		}
		if ts-first > maxTraceSeconds {
			return nil, &FileError{Path: path, Unit: "line", Pos: line, Err: fmt.Errorf("Timestamp %v is more than %v s after the first row's", ts, maxTraceSeconds)}
		}
		last = ts
		rows = append(rows, burstRow{at: time.Duration((ts - first) * float64(time.Second)), input: in, output: out})
	}
	return rows, nil
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{Path: path, Unit: "line", Pos: pe.Line, Err: pe.Err}
	}
	return &FileError{Path: path, Err: err}
}
