// Package pyjson reads JSON as Python's json.dump writes it: with the
// bare constants NaN, Infinity and -Infinity, which vLLM's result files
// can hold and encoding/json refuses.
package pyjson

import "bytes"

// Nulls returns data with every NaN, Infinity and -Infinity outside a
// string replaced by null; data itself when it holds none.
func Nulls(data []byte) []byte {
	if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) {
		return data
	}
	out := make([]byte, 0, len(data))
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			out = append(out, c)
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		if tok := constantAt(data[i:]); tok != "" {
			out = append(out, "null"...)
			i += len(tok) - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

func constantAt(b []byte) string {
	for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
		if bytes.HasPrefix(b, []byte(tok)) {
			return tok
		}
	}
	return ""
}
