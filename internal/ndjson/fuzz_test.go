package ndjson

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// referenceLines cuts stream with bufio.Scanner and bufio.ScanLines, as
// Ollama's client reads its streams (api/client.go), skipping the empty
// lines, and applies the cap: the oracle for FuzzReader. tooLong reports
// a line over max.
func referenceLines(stream []byte, max int) (lines []string, tooLong bool) {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(nil, len(stream)+1)
	for sc.Scan() {
		l := sc.Text()
		if len(l) > max {
			return lines, true
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	if sc.Err() != nil {
		panic(sc.Err())
	}
	return lines, false
}

func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob("../../servingbench/testdata/streams/*.ndjson") // the Ollama fixtures
	for _, name := range seeds {
		s, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s, uint16(0))
		f.Add(bytes.ReplaceAll(s, []byte("\n"), []byte("\r\n")), uint16(64))
		f.Add(bytes.TrimSuffix(s, []byte("\n")), uint16(300))
	}
	f.Add([]byte("a\r\r\n\n\rb\r"), uint16(1))
	f.Fuzz(func(t *testing.T, stream []byte, max16 uint16) {
		max := int(max16)
		want, wantTooLong := referenceLines(stream, max)
		for name, wrap := range readers {
			got, err := readAll(wrap(bytes.NewReader(stream)), max)
			var tooLong *LineTooLongError
			if err != nil && !errors.As(err, &tooLong) {
				t.Fatalf("%s: readAll(%q, %d) error %v", name, stream, max, err)
			}
			if (tooLong != nil) != wantTooLong {
				t.Fatalf("%s: readAll(%q, %d) error %v, want too long %v", name, stream, max, err, wantTooLong)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: readAll(%q, %d) = %v, want %q", name, stream, max, got, want)
			}
			for i, l := range got {
				if l.text != want[i] {
					t.Fatalf("%s: readAll(%q, %d) line %d = %q, want %q", name, stream, max, i, l.text, want[i])
				}
				if !bytes.HasPrefix(stream[l.off:], []byte(l.text)) {
					t.Fatalf("%s: readAll(%q, %d) line %d offset %d does not hold %q", name, stream, max, i, l.off, l.text)
				}
			}
		}
	})
}
