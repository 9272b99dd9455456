package servingtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaultKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := FaultNone; k < numFaultKinds; k++ {
		s := k.String()
		assert.NotEmpty(t, s)
		assert.NotContains(t, s, "FaultKind(", "FaultKind(%d).String()", k)
		assert.False(t, seen[s], "FaultKind(%d).String() = %q, a duplicate", k, s)
		seen[s] = true
	}
	assert.Equal(t, "reset", FaultReset.String())
	assert.Equal(t, "FaultKind(200)", FaultKind(200).String())
}

func TestStatusFaults(t *testing.T) {
	checkNoLeak(t)
	for _, tc := range []struct {
		kind       FaultKind
		status     int
		retryAfter string
		ct         string
	}{
		{FaultBadRequest, 400, "", "application/json"},
		{FaultRateLimit, 429, "2", "application/json"},
		{FaultInternal, 500, "", "application/json"},
		{FaultUnavailable, 503, "", "application/json"},
		{FaultWrongContentType, 200, "", "application/json"},
	} {
		for _, streaming := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/stream=%v", tc.kind, streaming), func(t *testing.T) {
				srv := NewServer(Model{Faults: []Fault{{Kind: tc.kind, RetryAfter: 1500 * time.Millisecond}}})
				defer srv.Close()
				resp := post(t, srv.URL+"/v1/completions", body(false, "p", 3, map[string]any{"stream": streaming}))
				defer resp.Body.Close()
				assert.Equal(t, tc.status, resp.StatusCode)
				assert.Equal(t, tc.ct, resp.Header.Get("Content-Type"))
				assert.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
				var e struct {
					Error struct{ Message, Type string }
				}
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
				assert.Contains(t, e.Error.Message, tc.kind.String())
				rec := srv.Truth()[0]
				assert.Equal(t, tc.kind, rec.Fault)
				assert.Equal(t, tc.status, rec.Status)
				assert.Empty(t, rec.Chunks)
				assert.Equal(t, "fault", rec.Aborted)
			})
		}
	}
}

func TestFaultSelection(t *testing.T) {
	srv := NewServer(Model{Faults: []Fault{
		{Kind: FaultInternal, Every: 3},
		{Kind: FaultUnavailable, Match: func(i int, p string) bool { return p == "busy" }},
		{Kind: FaultRateLimit, Every: 2, Match: func(i int, p string) bool { return p == "limit" }},
		{Kind: FaultPings, Match: func(i int, p string) bool { return p == "ping" }},
	}})
	defer srv.Close()
	for _, p := range []string{"a", "limit", "b", "busy", "limit", "c", "ping"} {
		resp := post(t, srv.URL+"/v1/completions", body(false, p, 2, map[string]any{"stream": false}))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var got []FaultKind
	for _, r := range srv.Truth() {
		got = append(got, r.Fault)
	}
	// Request 7 ("ping") is not streamed, so the stream-only fault does not apply.
	assert.Equal(t, []FaultKind{FaultNone, FaultRateLimit, FaultInternal, FaultUnavailable, FaultNone, FaultInternal, FaultNone}, got)

	srv.Reset()
	resp := post(t, srv.URL+"/v1/completions", body(false, "a", 2, map[string]any{"stream": false}))
	resp.Body.Close()
	require.Len(t, srv.Truth(), 1)
	assert.Equal(t, 1, srv.Truth()[0].Index, "Reset restarts the count")
}

// openStream posts a streaming request and returns the response and a
// reader over its body.
func openStream(t *testing.T, ctx context.Context, url string, chat bool, maxTokens int) (*http.Response, *bufio.Reader) {
	t.Helper()
	b, err := json.Marshal(body(chat, "the prompt", maxTokens, map[string]any{"ignore_eos": true}))
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, "POST", url+path(chat), strings.NewReader(string(b)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp, bufio.NewReaderSize(resp.Body, 1<<16)
}

func TestStreamFaults(t *testing.T) {
	checkNoLeak(t)
	const maxTokens = 6
	for _, tc := range []struct {
		fault Fault
		check func(t *testing.T, evs []event, err error)
	}{
		{Fault{Kind: FaultReset, After: 2}, func(t *testing.T, evs []event, err error) {
			assert.Len(t, evs, 2, "events before the reset")
			assert.ErrorIs(t, err, syscall.ECONNRESET)
		}},
		{Fault{Kind: FaultReset}, func(t *testing.T, evs []event, err error) {
			assert.Empty(t, evs, "events before the reset")
			assert.ErrorIs(t, err, syscall.ECONNRESET)
		}},
		{Fault{Kind: FaultMalformedJSON, After: 1}, func(t *testing.T, evs []event, err error) {
			require.ErrorIs(t, err, io.EOF)
			require.Len(t, evs, maxTokens+3, "tokens, the bad line, usage, [DONE]")
			var v any
			assert.NoError(t, json.Unmarshal([]byte(evs[0].Data), &v))
			assert.Error(t, json.Unmarshal([]byte(evs[1].Data), &v), "event 1 %q", evs[1].Data)
			assert.Equal(t, "[DONE]", evs[len(evs)-1].Data)
		}},
		{Fault{Kind: FaultNoDone}, func(t *testing.T, evs []event, err error) {
			require.ErrorIs(t, err, io.EOF)
			require.Len(t, evs, maxTokens+1, "tokens and usage")
			var c chunk
			require.NoError(t, json.Unmarshal([]byte(evs[len(evs)-1].Data), &c))
			assert.NotNil(t, c.Usage, "the usage chunk is last")
		}},
		{Fault{Kind: FaultHugeLine, After: 1}, func(t *testing.T, evs []event, err error) {
			require.ErrorIs(t, err, io.EOF)
			require.Equal(t, maxTokens+2, len(evs), "events")
			assert.Greater(t, len(evs[1].Data), HugeLineSize)
			var c chunk
			require.NoError(t, json.Unmarshal([]byte(evs[1].Data), &c))
			assert.Equal(t, 1, CountWords(c.content()), "the huge chunk carries a token")
		}},
		{Fault{Kind: FaultInvalidUTF8, After: 2}, func(t *testing.T, evs []event, err error) {
			require.ErrorIs(t, err, io.EOF)
			require.Equal(t, maxTokens+2, len(evs), "events")
			assert.False(t, utf8.ValidString(evs[2].Data), "event 2 %q", evs[2].Data)
			for i, ev := range evs {
				if i != 2 {
					assert.True(t, utf8.ValidString(ev.Data), "event %d", i)
				}
			}
		}},
		{Fault{Kind: FaultPings}, func(t *testing.T, evs []event, err error) {
			require.ErrorIs(t, err, io.EOF)
			require.Equal(t, maxTokens+2, len(evs), "events")
			for i, ev := range evs {
				assert.Equal(t, 1, ev.Comments, "pings before event %d", i)
			}
		}},
		{Fault{Kind: FaultTrickle}, func(t *testing.T, evs []event, err error) {
			require.ErrorIs(t, err, io.EOF)
			require.Equal(t, maxTokens+2, len(evs), "events")
			assert.Equal(t, "[DONE]", evs[len(evs)-1].Data)
		}},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			srv := NewServer(Model{Faults: []Fault{tc.fault}})
			defer srv.Close()
			resp, br := openStream(t, context.Background(), srv.URL, false, maxTokens)
			defer resp.Body.Close()
			var evs []event
			var err error
			for {
				var ev event
				if ev, err = nextEvent(br); err != nil {
					break
				}
				evs = append(evs, ev)
			}
			tc.check(t, evs, err)
			rec := srv.Truth()[0]
			assert.Equal(t, tc.fault.Kind, rec.Fault)
		})
	}
}

func TestStallHoldsUntilClientLeaves(t *testing.T) {
	checkNoLeak(t)
	srv := NewServer(Model{Faults: []Fault{{Kind: FaultStall, After: 2}}})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	resp, br := openStream(t, ctx, srv.URL, true, 10)
	defer resp.Body.Close()
	for i := range 3 { // role chunk and two token chunks
		_, err := nextEvent(br)
		require.NoError(t, err, "event %d", i)
	}
	got := make(chan error, 1)
	go func() { _, err := nextEvent(br); got <- err }()
	select {
	case err := <-got:
		t.Fatalf("read after the stall returned %v, want it to block", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	assert.ErrorIs(t, <-got, context.Canceled)
	require.Eventually(t, func() bool { return srv.Truth()[0].Aborted == "client gone" }, 5*time.Second, time.Millisecond)
	rec := srv.Truth()[0]
	assert.Len(t, rec.Chunks, 2)
	assert.Empty(t, rec.FinishReason)
}

// TestTrickleFraming reads the raw HTTP response: every body byte comes
// in its own HTTP chunk.
func TestTrickleFraming(t *testing.T) {
	srv := NewServer(Model{Faults: []Fault{{Kind: FaultTrickle, Delay: time.Microsecond}}})
	defer srv.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	req := `{"prompt":"a","max_tokens":3,"stream":true}`
	fmt.Fprintf(conn, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(req), req)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	// Read the raw chunk framing after the headers.
	var sizes []int64
	var body strings.Builder
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
		require.NoError(t, err, "chunk size line %q", line)
		if n == 0 {
			break
		}
		sizes = append(sizes, n)
		buf := make([]byte, n+2)
		_, err = io.ReadFull(br, buf)
		require.NoError(t, err)
		body.Write(buf[:n])
	}
	for i, n := range sizes {
		require.Equal(t, int64(1), n, "HTTP chunk %d size", i)
	}
	evs, err := readSSE(strings.NewReader(body.String()))
	assert.ErrorIs(t, err, io.EOF)
	assert.Len(t, evs, 4, "3 tokens and [DONE]")
}

func TestCloseWithStalledStreams(t *testing.T) {
	checkNoLeak(t)
	srv := NewServer(Model{DecodeBase: time.Millisecond, MaxRunning: 4,
		Faults: []Fault{{Kind: FaultStall, Every: 2}}})
	const n = 8
	type stream struct {
		resp *http.Response
		br   *bufio.Reader
	}
	var streams []stream
	for range n {
		resp, br := openStream(t, context.Background(), srv.URL, false, 1000)
		streams = append(streams, stream{resp, br})
	}
	for i, s := range streams[:4] { // the others wait in the queue
		_, err := nextEvent(s.br)
		require.NoError(t, err, "first event of stream %d", i)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	for i, s := range streams {
		_, err := io.Copy(io.Discard, s.br)
		assert.Error(t, err, "stream %d after Close", i)
		s.resp.Body.Close()
	}
	srv.Close() // idempotent
	recs := srv.Truth()
	require.Len(t, recs, n)
	for _, r := range recs {
		assert.Equal(t, "server closed", r.Aborted, "request %d", r.Index)
	}
	_, err := http.Get(srv.URL + "/health")
	assert.Error(t, err, "requests after Close")
}

func TestGoAwayWhileQueued(t *testing.T) {
	checkNoLeak(t)
	srv := NewServer(Model{DecodeBase: 5 * time.Millisecond, MaxRunning: 1,
		Faults: []Fault{{Kind: FaultGoAway, Match: func(i int, p string) bool { return i == 3 }}}})
	defer srv.Close()
	var readers []*bufio.Reader
	for range 2 {
		resp, br := openStream(t, context.Background(), srv.URL, false, 1000)
		defer resp.Body.Close()
		readers = append(readers, br)
	}
	require.Eventually(t, func() bool {
		m := metrics(t, srv)
		return m[`vllm:num_requests_waiting{model_name="servingtest"}`] == 1
	}, 5*time.Second, time.Millisecond, "second request queued")
	_, err := nextEvent(readers[0])
	require.NoError(t, err, "first event of the running request")

	// The go-away request itself may fail before or after its headers.
	resp, err := http.Post(srv.URL+"/v1/completions", "application/json",
		strings.NewReader(`{"prompt":"bye","max_tokens":5,"stream":true}`))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	assert.Error(t, err, "the go-away request")
	for i, br := range readers {
		_, err := io.Copy(io.Discard, br)
		assert.Error(t, err, "stream %d after go-away", i)
	}
	_, err = http.Get(srv.URL + "/health")
	assert.Error(t, err, "requests after go-away")

	srv.Close() // waits for the shutdown the fault started
	recs := srv.Truth()
	require.Len(t, recs, 3)
	assert.Equal(t, FaultGoAway, recs[2].Fault)
	assert.Equal(t, "server closed", recs[1].Aborted, "queued request")
	assert.True(t, recs[1].Admitted.IsZero(), "queued request never admitted")
	assert.Empty(t, recs[1].Chunks)
	assert.Equal(t, "server closed", recs[0].Aborted, "running request")
	assert.NotEmpty(t, recs[0].Chunks)
}

func TestChatPings(t *testing.T) {
	srv := NewServer(Model{Faults: []Fault{{Kind: FaultPings}}, FinishChunk: true})
	defer srv.Close()
	resp, br := openStream(t, context.Background(), srv.URL, true, 3)
	defer resp.Body.Close()
	evs, err := readSSE(br)
	require.ErrorIs(t, err, io.EOF)
	// role, 3 tokens, finish, usage, [DONE]
	require.Len(t, evs, 7)
	for i, ev := range evs {
		assert.Equal(t, 1, ev.Comments, "pings before event %d", i)
	}
}
