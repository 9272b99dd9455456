package servingtest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// syncBuffer is a bytes.Buffer safe for the server's log goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServerLogRouting(t *testing.T) {
	accept := "2026/12/01 23:00:00 http: Accept error: accept tcp 127.0.0.1:1: accept4: too many open files; retrying in 5ms\n"
	panicked := "2026/12/01 23:00:00 http: panic serving 127.0.0.1:2: boom\n"
	tests := []struct {
		name   string
		route  bool
		toNil  bool
		want   string
		writes []string
	}{
		{name: "routed to a writer gets every line", route: true, writes: []string{accept, panicked}, want: accept + panicked},
		{name: "routed to nil discards", route: true, toNil: true, writes: []string{accept, panicked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l serverLog
			var buf syncBuffer
			if tt.route {
				l.routed = true
				if !tt.toNil {
					l.w = &buf
				}
			}
			for _, w := range tt.writes {
				n, err := l.Write([]byte(w))
				assert.NoError(t, err)
				assert.Equal(t, len(w), n)
			}
			assert.Equal(t, tt.want, buf.String())
		})
	}
	t.Run("default drops accept errors", func(t *testing.T) {
		var l serverLog // the other lines go to os.Stderr, as httptest's do
		n, err := l.Write([]byte(accept))
		assert.NoError(t, err)
		assert.Equal(t, len(accept), n)
	})
}
