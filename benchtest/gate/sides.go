package gate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The side keys: configuration keys that say which build and server an
// input measured rather than what was measured. benchtest.Main prints
// "label: q8_0" when SERVINGBENCH_LABEL is set, "server-id: 3fa9c2e1b7d0"
// (the server's fingerprint) when it is not, and always the line benchfmt
// ignores "# server-id: 3fa9c2e1b7d0 llama.cpp b11669-Debian (...) at
// http://127.0.0.1:18080", which the gate reads as a server-id line and
// whose description it keeps.
const (
	LabelKey    = "label"
	ServerIDKey = "server-id"
)

// sideKeys lists the side keys in the order they are described.
var sideKeys = [...]string{LabelKey, ServerIDKey}

func isSideKey(k string) bool { return k == LabelKey || k == ServerIDKey }

// Side is the build and server that results come from, as their input's
// side keys name them.
type Side struct {
	// Label is the label configuration value ("q8_0"); "" when unlabelled.
	Label string
	// ServerID is the server's fingerprint, from a server-id
	// configuration line or a "# server-id:" line; "" when unknown.
	ServerID string
	// Server describes the server with that ID as its "# server-id:" line
	// does ("llama.cpp b11669-Debian (model_path=..., model_ftype=F16) at
	// http://127.0.0.1:18080"); "" when the input has no such line.
	Server string
}

// IsZero reports whether the input named neither a label nor a server.
func (s Side) IsZero() bool { return s == Side{} }

// String describes the side: "label q8_0, server-id 3fa9c2e1b7d0
// (llama.cpp ... at http://127.0.0.1:18080)", "no label or server-id" for
// the zero Side.
func (s Side) String() string {
	var parts []string
	if s.Label != "" {
		parts = append(parts, "label "+s.Label)
	}
	if s.ServerID != "" {
		parts = append(parts, s.server())
	}
	if len(parts) == 0 {
		return "no label or server-id"
	}
	return strings.Join(parts, ", ")
}

// server is "server-id ID (DESCRIPTION)", without the parentheses when
// the description is unknown.
func (s Side) server() string {
	if s.Server == "" {
		return "server-id " + s.ServerID
	}
	return "server-id " + s.ServerID + " (" + s.Server + ")"
}

// ServerNote reports old and new results of identical configuration
// (every file configuration key but the side keys, those
// CompareOptions.Ignore names included) and label, or both unlabelled,
// that come from different servers. It is not
// an error, since comparing two servers is what OLD and NEW are for, but
// the reader of the table must know that the servers differ, not only the
// runs.
type ServerNote struct {
	// OldLabel and NewLabel name the inputs (CompareOptions.OldLabel and
	// NewLabel).
	OldLabel, NewLabel string
	// Old and New are the sides, equal in Label, different in ServerID.
	Old, New Side
}

// String is the note as WriteTable prints it after "note: ": "a.txt and
// b.txt have identical configuration but come from different servers:
// a.txt from server-id 3fa9c2e1b7d0 (...), b.txt from server-id ...".
func (n ServerNote) String() string {
	same := "identical configuration"
	if n.Old.Label != "" {
		same += " and label " + n.Old.Label
	}
	return fmt.Sprintf("%s and %s have %s but come from different servers: %s from %s, %s from %s",
		n.OldLabel, n.NewLabel, same, n.OldLabel, n.Old.server(), n.NewLabel, n.New.server())
}

// describeSide is one line of WriteTable's header: "old: q8.txt, label
// q8_0, server-id ...". The input's label is left out when it is the role
// itself (CompareBaseline's default labels).
func describeSide(role, input string, s Side) string {
	if input == role {
		return role + ": " + s.String()
	}
	return role + ": " + input + ", " + s.String()
}

// serverIDPrefix follows the "#" of the line on which benchtest.Main
// writes a server's identity for the gate: "# server-id: ID DESCRIPTION".
const serverIDPrefix = "server-id:"

// maxServerIDLine bounds the "# server-id:" lines the reader rewrites; a
// longer one is passed on as it is (benchfmt reads lines of up to 64 KiB).
const maxServerIDLine = 64 << 10

// serverIDReader passes its input on line by line, rewriting each
// "# server-id: ID DESCRIPTION" line into the configuration line
// "server-id: ID" and keeping the description by ID. benchfmt then applies
// it as it applies any configuration line (it holds until the key is set
// again), and a line stays a line, so benchfmt's line numbers stay those of
// the input.
type serverIDReader struct {
	br      *bufio.Reader
	out     []byte // rewritten or passed-on bytes not yet returned
	midLine bool   // the last chunk read did not end a line
	err     error  // the input's error, returned once out is drained
	descs   map[string]string
}

func newServerIDReader(r io.Reader) *serverIDReader {
	return &serverIDReader{br: bufio.NewReaderSize(r, maxServerIDLine), descs: map[string]string{}}
}

func (r *serverIDReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		chunk, err := r.br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			r.err = err
		}
		atStart := !r.midLine
		r.midLine = errors.Is(err, bufio.ErrBufferFull)
		if atStart && !r.midLine {
			if line, ok := r.rewrite(chunk); ok {
				chunk = line
			}
		}
		r.out = append(r.out[:0], chunk...)
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// rewrite returns the configuration line for a whole "# server-id:" line,
// recording its description; ok is false for any other line.
func (r *serverIDReader) rewrite(line []byte) (_ []byte, ok bool) {
	rest, found := bytes.CutPrefix(line, []byte("#"))
	if !found {
		return nil, false
	}
	rest, found = bytes.CutPrefix(bytes.TrimLeft(rest, " \t"), []byte(serverIDPrefix))
	if !found {
		return nil, false
	}
	text := strings.TrimSpace(string(rest))
	id, desc, _ := strings.Cut(text, " ")
	if id == "" {
		return nil, false
	}
	if _, seen := r.descs[id]; !seen || r.descs[id] == "" {
		r.descs[id] = strings.TrimSpace(desc)
	}
	out := ServerIDKey + ": " + id
	if bytes.HasSuffix(line, []byte("\n")) {
		out += "\n"
	}
	return []byte(out), true
}
