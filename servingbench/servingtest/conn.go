package servingtest

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
)

// connInfo is the per-connection state the server keeps for Model's
// connection behaviours (CloseAfterResponse, DropReused).
type connInfo struct {
	requests atomic.Int64
}

type connInfoKey struct{}

// configureConns applies the model's connection behaviours to srv and
// returns the handler to serve: h wrapped so that, with DropReused, a
// request arriving on a connection that already served one is dropped.
func (s *Server) configureConns(srv *http.Server, h http.Handler) http.Handler {
	m := &s.model
	if m.IdleTimeout > 0 {
		srv.IdleTimeout = m.IdleTimeout
	}
	if m.CloseAfterResponse {
		// StateIdle comes once the response is written and flushed; closing
		// then, without a "Connection: close" header, is what llama.cpp's
		// server does after a streamed response.
		srv.ConnState = func(c net.Conn, st http.ConnState) {
			if st == http.StateIdle {
				c.Close()
			}
		}
	}
	if !m.DropReused {
		return h
	}
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connInfoKey{}, new(connInfo))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ci, _ := r.Context().Value(connInfoKey{}).(*connInfo)
		if ci != nil && ci.requests.Add(1) > 1 {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				if r.Method == http.MethodPost && (r.URL.Path == "/v1/completions" || r.URL.Path == "/v1/chat/completions") {
					s.dropped.Add(1)
				}
				conn.Close()
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Dropped returns the number of completion requests (POST /v1/completions
// and /v1/chat/completions) dropped unanswered because of Model.DropReused.
// They are not in Truth.
func (s *Server) Dropped() int { return int(s.dropped.Load()) }
