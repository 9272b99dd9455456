package servingbench_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// newBubbleServer starts a server simulating m on an in-memory listener,
// closed when the test ends. Call it inside a testing/synctest bubble: the
// server's engine, its handlers and a client given bubbleConfig's
// HTTPClient then run on the bubble's fake clock, which moves only when
// every goroutine of the bubble waits. So time-dependent results are
// exact, and a timeout fires when its time has come and never because the
// machine was slow.
func newBubbleServer(t *testing.T, m servingtest.Model) *servingtest.Server {
	t.Helper()
	srv := servingtest.NewUnstartedServer(m)
	srv.Listener = servingtest.NewListener()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// eventTimes is the time of every token event of res (Result.EventTime),
// to compare with the server's flush times (Record.Chunks); nil without
// events, as Record.Chunks is.
func eventTimes(res *servingbench.Result) []time.Time {
	var out []time.Time
	for i := range res.Events {
		out = append(out, res.EventTime(i))
	}
	return out
}

// bubbleConfig is a client configuration for srv that reaches it through
// its in-memory listener.
func bubbleConfig(srv *servingtest.Server) servingbench.OpenAIConfig {
	return servingbench.OpenAIConfig{BaseURL: srv.URL, Model: srv.Model().Name, HTTPClient: srv.Client()}
}

// bubbleHTTPServer is an httptest-like server on an in-memory listener,
// for a test inside a synctest bubble: URL and Client reach it; it is
// closed when the test ends.
type bubbleHTTPServer struct {
	URL    string
	Client *http.Client
	Config *http.Server
}

// newBubbleHTTPServer serves h on an in-memory listener; connState, when
// not nil, becomes http.Server.ConnState.
func newBubbleHTTPServer(t *testing.T, h http.Handler, connState func(net.Conn, http.ConnState)) *bubbleHTTPServer {
	t.Helper()
	ln := servingtest.NewListener()
	s := &bubbleHTTPServer{
		URL:    "http://" + ln.Addr().String(),
		Client: &http.Client{Transport: &http.Transport{DialContext: ln.DialContext, MaxIdleConnsPerHost: 64}},
		Config: &http.Server{Handler: h, ConnState: connState},
	}
	go s.Config.Serve(ln)
	t.Cleanup(func() {
		s.Config.Close()
		s.Client.CloseIdleConnections()
	})
	return s
}
