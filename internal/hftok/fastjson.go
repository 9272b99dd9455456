package hftok

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Loading a tokenizer.json is mostly reading its vocabulary and merges
// (Qwen3: 11 MB, 151k entries each). encoding/json validates and decodes
// them at about 45 MB/s; this file reads those two shapes directly and
// leaves every other (small) value to encoding/json. Strings holding an
// escape are unquoted by encoding/json, so the two agree on every input.

var errEOF = errors.New("unexpected end of JSON input")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(d []byte, i int) int {
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at d[i] == '"',
// and whether it holds a backslash escape.
func skipString(d []byte, i int) (int, bool, error) {
	escaped := false
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '"':
			return j + 1, escaped, nil
		case '\\':
			escaped = true
			j++
		}
	}
	return 0, false, errEOF
}

// skipValue returns the index after the JSON value starting at d[i].
func skipValue(d []byte, i int) (int, error) {
	i = skipSpace(d, i)
	if i >= len(d) {
		return 0, errEOF
	}
	switch d[i] {
	case '"':
		end, _, err := skipString(d, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				end, _, err := skipString(d, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errEOF
	}
	j := i
	for j < len(d) && !isSpace(d[j]) && d[j] != ',' && d[j] != '}' && d[j] != ']' {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("invalid character %q at offset %d", d[i], i)
	}
	return j, nil
}

// readString returns the string starting at d[i] == '"' and the index after it.
func readString(d []byte, i int) (string, int, error) {
	if i >= len(d) || d[i] != '"' {
		return "", 0, fmt.Errorf("want a string at offset %d", i)
	}
	end, escaped, err := skipString(d, i)
	if err != nil {
		return "", 0, err
	}
	if !escaped {
		return string(d[i+1 : end-1]), end, nil
	}
	var s string
	if err := json.Unmarshal(d[i:end], &s); err != nil {
		return "", 0, err
	}
	return s, end, nil
}

// objectFields splits a JSON object into its members' raw values (the last
// of repeated keys wins).
func objectFields(d []byte) (map[string][]byte, error) {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return nil, errors.New("want a JSON object")
	}
	fields := make(map[string][]byte)
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return fields, nil
	}
	for {
		key, end, err := readString(d, skipSpace(d, i))
		if err != nil {
			return nil, err
		}
		i = skipSpace(d, end)
		if i >= len(d) || d[i] != ':' {
			return nil, fmt.Errorf("want ':' after key %q", key)
		}
		start := skipSpace(d, i+1)
		end, err = skipValue(d, start)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		fields[key] = d[start:end]
		i = skipSpace(d, end)
		if i >= len(d) {
			return nil, errEOF
		}
		if d[i] == '}' {
			return fields, nil
		}
		if d[i] != ',' {
			return nil, fmt.Errorf("want ',' or '}' after %q", key)
		}
		i++
	}
}

// parseVocab reads {"token": id, ...}.
func parseVocab(d []byte) (map[string]int32, error) {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return nil, errors.New("model.vocab: want a JSON object")
	}
	vocab := make(map[string]int32, bytes.Count(d, []byte(`":`)))
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return vocab, nil
	}
	for {
		tok, end, err := readString(d, skipSpace(d, i))
		if err != nil {
			return nil, fmt.Errorf("model.vocab: %w", err)
		}
		i = skipSpace(d, end)
		if i >= len(d) || d[i] != ':' {
			return nil, fmt.Errorf("model.vocab[%q]: want ':'", tok)
		}
		i = skipSpace(d, i+1)
		j := i
		for j < len(d) && (d[j] == '-' || d[j] >= '0' && d[j] <= '9') {
			j++
		}
		id, err := strconv.ParseInt(string(d[i:j]), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("model.vocab[%q]: want an integer id", tok)
		}
		vocab[tok] = int32(id)
		i = skipSpace(d, j)
		if i >= len(d) {
			return nil, errEOF
		}
		if d[i] == '}' {
			return vocab, nil
		}
		if d[i] != ',' {
			return nil, fmt.Errorf("model.vocab[%q]: want ',' or '}'", tok)
		}
		i++
	}
}

// parseMergesFast reads ["a b", ...] or [["a", "b"], ...].
func parseMergesFast(d []byte) ([][2]string, error) {
	i := skipSpace(d, 0)
	if i >= len(d) || string(d[i:]) == "null" {
		return nil, nil
	}
	if d[i] != '[' {
		return nil, errors.New("model.merges: want a JSON array")
	}
	pairs := make([][2]string, 0, bytes.Count(d, []byte(`,`))/2+1)
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == ']' {
		return pairs, nil
	}
	for n := 0; ; n++ {
		var p [2]string
		var err error
		switch {
		case i < len(d) && d[i] == '"':
			var line string
			if line, i, err = readString(d, i); err != nil {
				return nil, fmt.Errorf("model.merges[%d]: %w", n, err)
			}
			if p, err = splitMerge(line); err != nil {
				return nil, fmt.Errorf("model.merges[%d]: %w", n, err)
			}
		case i < len(d) && d[i] == '[':
			if p[0], i, err = readString(d, skipSpace(d, i+1)); err != nil {
				return nil, fmt.Errorf("model.merges[%d]: %w", n, err)
			}
			if i = skipSpace(d, i); i >= len(d) || d[i] != ',' {
				return nil, fmt.Errorf("model.merges[%d]: want two strings", n)
			}
			if p[1], i, err = readString(d, skipSpace(d, i+1)); err != nil {
				return nil, fmt.Errorf("model.merges[%d]: %w", n, err)
			}
			if i = skipSpace(d, i); i >= len(d) || d[i] != ']' {
				return nil, fmt.Errorf("model.merges[%d]: want two strings", n)
			}
			i++
		default:
			return nil, fmt.Errorf("model.merges[%d]: want \"a b\" or [\"a\", \"b\"]", n)
		}
		pairs = append(pairs, p)
		i = skipSpace(d, i)
		if i >= len(d) {
			return nil, errEOF
		}
		if d[i] == ']' {
			return pairs, nil
		}
		if d[i] != ',' {
			return nil, fmt.Errorf("model.merges[%d]: want ',' or ']'", n)
		}
		i = skipSpace(d, i+1)
	}
}
