package llamacpp

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Counter names in llama-server's /metrics (with --metrics) that the
// conformance suite compares with a run's totals.
const (
	// PromptTokensTotal counts prompt tokens evaluated, excluding those
	// reused from a slot's or the host prompt cache.
	PromptTokensTotal = "llamacpp:prompt_tokens_total"
	// PromptTokensCachedTotal counts prompt tokens reused from a cache; the
	// sum of both prompt counters is the sum of usage.prompt_tokens.
	PromptTokensCachedTotal = "llamacpp:prompt_tokens_cached_total"
	// TokensPredictedTotal counts generated tokens: the sum of
	// usage.completion_tokens.
	TokensPredictedTotal = "llamacpp:tokens_predicted_total"
)

// Metrics holds one scrape of a Prometheus text exposition: sample value
// by series, where a series is the metric name followed by its labels
// exactly as exposed ("name" or `name{a="b"}`).
type Metrics map[string]float64

// Sub returns m[name] - old[name], and an error naming the series when
// either scrape lacks it.
func (m Metrics) Sub(old Metrics, name string) (float64, error) {
	now, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("llamacpp: metric %s missing from the later scrape", name)
	}
	then, ok := old[name]
	if !ok {
		return 0, fmt.Errorf("llamacpp: metric %s missing from the earlier scrape", name)
	}
	return now - then, nil
}

// ParseMetrics reads the Prometheus text format (version 0.0.4): one
// sample a line, "series value [timestamp]"; '#' lines (HELP, TYPE,
// comments) and blank lines are skipped. A malformed line is an error
// naming its line number.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		series, value, err := splitSample(line)
		if err != nil {
			return nil, fmt.Errorf("llamacpp: metrics line %d %q: %w", n, line, err)
		}
		m[series] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("llamacpp: reading metrics: %w", err)
	}
	return m, nil
}

// splitSample splits "series value [timestamp]". Label values may contain
// spaces and escaped quotes, so the series ends at the closing brace when
// there is one.
func splitSample(line string) (series string, value float64, err error) {
	end := strings.IndexAny(line, " \t{")
	if end <= 0 {
		return "", 0, fmt.Errorf("no value")
	}
	if line[end] == '{' {
		close := labelsEnd(line, end)
		if close < 0 {
			return "", 0, fmt.Errorf("unterminated labels")
		}
		end = close + 1
	}
	series = line[:end]
	fields := strings.Fields(line[end:])
	if len(fields) < 1 || len(fields) > 2 {
		return "", 0, fmt.Errorf("want a value and an optional timestamp after the series")
	}
	switch fields[0] {
	case "+Inf":
		value = math.Inf(1)
	case "-Inf":
		value = math.Inf(-1)
	default:
		if value, err = strconv.ParseFloat(fields[0], 64); err != nil {
			return "", 0, fmt.Errorf("bad value %q", fields[0])
		}
	}
	return series, value, nil
}

// labelsEnd returns the index of the '}' closing the label set that opens
// at line[open], skipping quoted values with backslash escapes; -1 if none.
func labelsEnd(line string, open int) int {
	quoted := false
	for i := open + 1; i < len(line); i++ {
		switch c := line[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return i
		}
	}
	return -1
}
