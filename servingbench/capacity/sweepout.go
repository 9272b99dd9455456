package capacity

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// WriteJSON writes the sweep's summary, indented JSON ending in a
// newline: {"points": [{"request_rate", "max_concurrency", "num_prompts",
// "duration", "metrics"}], "interrupted": null or the same for the point
// cut short}. The load keys are as in the capacity result (SearchResult.WriteJSON),
// duration is the point's run time in seconds, warm-up included, and
// metrics is the point's vLLM result JSON written with opt.
func (s *SweepResult) WriteJSON(w io.Writer, opt servingbench.JSONOptions) error {
	out := struct {
		Points      []sweepPointJSON `json:"points"`
		Interrupted *sweepPointJSON  `json:"interrupted"`
	}{Points: []sweepPointJSON{}}
	for i := range s.Points {
		pj, err := newSweepPointJSON(&s.Points[i], opt)
		if err != nil {
			return err
		}
		out.Points = append(out.Points, pj)
	}
	if p := s.Interrupted; p != nil && p.Report != nil {
		pj, err := newSweepPointJSON(p, opt)
		if err != nil {
			return err
		}
		out.Interrupted = &pj
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

type sweepPointJSON struct {
	loadJSON
	Duration float64         `json:"duration"`
	Metrics  json.RawMessage `json:"metrics"`
}

func newSweepPointJSON(p *SweepPoint, opt servingbench.JSONOptions) (sweepPointJSON, error) {
	var b bytes.Buffer
	if err := servingbench.WriteJSON(&b, p.Report, opt); err != nil {
		return sweepPointJSON{}, err
	}
	return sweepPointJSON{loadJSON: newLoadJSON(p.Load), Duration: p.Elapsed.Seconds(), Metrics: b.Bytes()}, nil
}

// WriteCSV writes a row per finished point with the keys of its vLLM
// result JSON as columns, as vllm bench sweep's summary.csv (a DataFrame
// of the runs' result dicts): the columns are the union of the points'
// keys in order of first appearance; strings are written bare, null as an
// empty cell, objects and arrays as their JSON text. opt is as for
// servingbench.WriteJSON (Detailed gives arrays a cell).
func (s *SweepResult) WriteCSV(w io.Writer, opt servingbench.JSONOptions) error {
	var keys []string
	seen := map[string]bool{}
	rows := make([]map[string]string, len(s.Points))
	for i := range s.Points {
		var b bytes.Buffer
		if err := servingbench.WriteJSON(&b, s.Points[i].Report, opt); err != nil {
			return err
		}
		order, row, err := flatObject(b.Bytes())
		if err != nil {
			return fmt.Errorf("capacity: point %v: %w", s.Points[i].Load, err)
		}
		for _, k := range order {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		rows[i] = row
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(keys); err != nil {
		return err
	}
	for _, row := range rows {
		rec := make([]string, len(keys))
		for j, k := range keys {
			rec[j] = row[k]
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// flatObject returns the keys of a JSON object in order and each value as
// a CSV cell.
func flatObject(data []byte) ([]string, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("result JSON is not an object")
	}
	var keys []string
	row := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, err
		}
		keys = append(keys, key)
		row[key] = cell(raw)
	}
	return keys, row, nil
}

func cell(raw json.RawMessage) string {
	t := strings.TrimSpace(string(raw))
	switch {
	case t == "null":
		return ""
	case strings.HasPrefix(t, `"`):
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return t
}
