package servingtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestListener: dials meet accepts; after Close, Accept fails with
// net.ErrClosed and dials are refused.
func TestListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewListener()
		assert.Equal(t, "servingtest.invalid:80", l.Addr().String())
		go func() {
			c, err := l.Accept()
			if err == nil {
				c.Write([]byte("hello"))
				c.Close()
			}
		}()
		c, err := l.Dial()
		require.NoError(t, err)
		buf := make([]byte, 5)
		_, err = c.Read(buf)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(buf))
		c.Close()

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err = l.DialContext(ctx, "tcp", "ignored:1")
		assert.ErrorIs(t, err, context.DeadlineExceeded, "DialContext with no Accept")

		require.NoError(t, l.Close())
		_, err = l.Accept()
		assert.ErrorIs(t, err, net.ErrClosed, "Accept after Close")
		_, err = l.Dial()
		assert.ErrorIs(t, err, syscall.ECONNREFUSED, "Dial after Close")
	})
}

// TestServerInBubble: on an in-memory listener inside a synctest bubble,
// the engine runs on the fake clock, so a stream's times are exactly the
// timing model's, and a client's read times equal the server's recorded
// flush times.
func TestServerInBubble(t *testing.T) {
	const step, maxTokens = 10 * time.Millisecond, 6
	for _, chat := range []bool{false, true} {
		t.Run(path(chat), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := NewUnstartedServer(Model{Name: "m", DecodeBase: step})
				srv.Listener = NewListener()
				srv.Start()
				defer srv.Close()
				require.Equal(t, "http://servingtest.invalid:80", srv.URL)

				b, err := json.Marshal(body(chat, "one two three", maxTokens, map[string]any{"ignore_eos": true}))
				require.NoError(t, err)
				sent := time.Now()
				resp, err := srv.Client().Post(srv.URL+path(chat), "application/json", bytes.NewReader(b))
				require.NoError(t, err)
				var got []time.Time
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					line := sc.Text()
					if strings.Contains(line, `"text":" `) || strings.Contains(line, `"content":" `) { // a token chunk
						got = append(got, time.Now())
					}
				}
				require.NoError(t, sc.Err())
				resp.Body.Close()

				recs := srv.Truth()
				require.Len(t, recs, 1)
				rec := recs[0]
				assert.Equal(t, sent, rec.Received, "Received: no time passes in the bubble before the handler runs")
				require.Len(t, rec.Chunks, maxTokens)
				assert.Equal(t, rec.Chunks, got, "client read times = server flush times")
				for i, c := range rec.Chunks {
					assert.Equal(t, time.Duration(i+1)*step, c.Sub(sent), "chunk %d: one step a token", i)
				}
			})
		})
	}
}

// TestServerCloseInBubble: Close ends streams in flight and stops the
// engine and every server goroutine, so the bubble can end.
func TestServerCloseInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := NewUnstartedServer(Model{Name: "m", DecodeBase: time.Second})
		srv.Listener = NewListener()
		srv.Start()
		b, err := json.Marshal(body(false, "a b", 1000, nil))
		require.NoError(t, err)
		resp, err := srv.Client().Post(srv.URL+"/v1/completions", "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		time.Sleep(3500 * time.Millisecond) // three steps; the handler's first flush waits for the reads below
		br := bufio.NewReader(resp.Body)
		for n := 0; n < 3; {
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			if strings.Contains(line, `"text":" `) {
				n++
			}
		}
		srv.Close()
		_, err = io.ReadAll(br)
		assert.Error(t, err, "a stream cut by Close")
		resp.Body.Close()
		rec := srv.Truth()[0]
		assert.Len(t, rec.Chunks, 3, "chunks before Close")
		assert.Equal(t, "server closed", rec.Aborted)
		_, err = srv.Client().Get(srv.URL + "/health")
		assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "GET after Close: %v", err)
	})
}
