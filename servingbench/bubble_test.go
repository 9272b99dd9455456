package servingbench_test

import (
	"testing"

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

// bubbleConfig is a client configuration for srv that reaches it through
// its in-memory listener.
func bubbleConfig(srv *servingtest.Server) servingbench.OpenAIConfig {
	return servingbench.OpenAIConfig{BaseURL: srv.URL, Model: srv.Model().Name, HTTPClient: srv.Client()}
}
