package sse

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// referenceEvents is a direct transcription of the SSE parsing rules (plus
// this package's EOF leniency and line cap) over a whole stream: the oracle
// for FuzzReader. tooLong reports a *LineTooLongError.
func referenceEvents(stream []byte, max int) (events []string, tooLong bool) {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	// Line lengths count a leading BOM (it is stripped after the cap check).
	var lines []string
	s := string(stream)
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			if len(s) > max {
				tooLong = true // the unterminated line is already too long
			}
			break
		}
		if i > max {
			tooLong = true
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	if len(lines) > 0 {
		lines[0] = strings.TrimPrefix(lines[0], string(bom))
	}
	var data []string
	size := 0 // len(strings.Join(data, "\n"))
	flush := func() {
		if data != nil {
			events = append(events, strings.Join(data, "\n"))
		}
		data, size = nil, 0
	}
	for _, l := range lines {
		if l == "" {
			flush()
			continue
		}
		if l[0] == ':' {
			continue
		}
		name, value, found := strings.Cut(l, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		if name != "data" && name != "error" {
			continue
		}
		if data != nil {
			size++
		}
		data = append(data, value)
		size += len(value)
		if size > max {
			return events, true
		}
	}
	if !tooLong {
		flush() // EOF leniency: terminated data lines form an event
	}
	return events, tooLong
}

func seedStreams(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, s := range fixtureStreams(f) {
		seeds = append(seeds, s)
	}
	for _, s := range nativeFixtureStreams(f) {
		seeds = append(seeds, s)
	}
	return seeds
}

func FuzzReader(f *testing.F) {
	for _, s := range seedStreams(f) {
		f.Add(s, uint16(0))
		f.Add(bytes.ReplaceAll(s, []byte("\n"), []byte("\r\n")), uint16(64))
		f.Add(bytes.ReplaceAll(s, []byte("\n"), []byte("\r")), uint16(300))
	}
	f.Add([]byte("\xEF\xBB\xBFdata: a\r\rdata:b\ndata\n\n: c\n"), uint16(3))
	f.Fuzz(func(t *testing.T, stream []byte, max16 uint16) {
		max := int(max16)
		want, wantTooLong := referenceEvents(stream, max)
		for name, wrap := range map[string]func(io.Reader) io.Reader{
			"whole":         func(r io.Reader) io.Reader { return r },
			"OneByteReader": iotest.OneByteReader,
			"HalfReader":    iotest.HalfReader,
			"DataErrReader": iotest.DataErrReader,
		} {
			got, err := readAll(wrap(bytes.NewReader(stream)), max)
			var tooLong *LineTooLongError
			if err != nil && !errors.As(err, &tooLong) {
				t.Fatalf("%s: readAll(%q, %d) error %v", name, stream, max, err)
			}
			if (tooLong != nil) != wantTooLong {
				t.Fatalf("%s: readAll(%q, %d) error %v, want too long %v", name, stream, max, err, wantTooLong)
			}
			if strings.Join(got, "\x00|") != strings.Join(want, "\x00|") || len(got) != len(want) {
				t.Fatalf("%s: readAll(%q, %d) = %q, want %q", name, stream, max, got, want)
			}
		}
	})
}

func FuzzChunk(f *testing.F) {
	for _, s := range seedStreams(f) {
		rd := NewReader(bytes.NewReader(s), 0)
		for {
			data, err := rd.Next()
			if err != nil {
				break
			}
			f.Add(bytes.Clone(data))
		}
	}
	f.Add([]byte(`{"choices":[{"text":"\ud83d\ude00\ud800x","delta":{"content":"\"","reasoning":"r"}}],"usage":{"prompt_tokens":1e2}}`))
	f.Add([]byte(`{"object":"error","message":"m","error":{"message":null}}`))
	f.Add([]byte(`{"choices":[{"delta":{"reasoning_content":"so","content":"Yes"}}],"usage":{"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":3e0},"completion_tokens_details":{"reasoning_tokens":2}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Chunk
		err := c.Decode(data)
		valid := json.Valid(data)
		var se *SyntaxError
		if err != nil {
			if !errors.As(err, &se) {
				t.Fatalf("Decode(%q) error %T %v, want *SyntaxError", data, err, err)
			}
			if se.Offset < 0 || se.Offset > len(data) {
				t.Fatalf("Decode(%q) offset %d out of range", data, se.Offset)
			}
			if strings.Contains(se.Msg, "max depth") {
				return
			}
		}
		if (err == nil) != valid {
			t.Fatalf("Decode(%q) = %v, json.Valid = %v", data, err, valid)
		}
		if !valid {
			return
		}
		want := referenceView(t, data)
		got := viewOf(&c)
		if strings.Contains(want.Text, "\x00ambiguous") {
			got.Text, want.Text = "", ""
		}
		if got != want {
			t.Fatalf("Decode(%q) = %+v, want %+v", data, got, want)
		}
	})
}
