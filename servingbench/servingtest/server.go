package servingtest

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Version is what GET /version reports.
const Version = "servingtest-0.1.0"

// Server is a simulated OpenAI-compatible LLM server listening on a
// loopback address, in the manner of net/http/httptest.Server. Its methods
// are safe for concurrent use. Its own log (accept errors, handler panics)
// is described at SetErrorLog.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", without a trailing
	// slash; the API lives under URL+"/v1".
	URL string

	model  Model
	srv    *http.Server
	engine *engine
	truth  truth
	ln     *countingListener
	log    serverLog

	quit      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex // guards closed and handlers.Add
	closed    bool
	handlers  sync.WaitGroup
	dropped   atomic.Int64 // requests dropped by Model.DropReused
}

// NewServer starts a server simulating m on 127.0.0.1 and a free port. It
// panics if m is invalid (see Model.Validate) or it cannot listen, as
// httptest.NewServer does. The caller must call Close.
func NewServer(m Model) *Server {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("servingtest: failed to listen on a port: %v", err))
	}
	s := &Server{
		URL:   "http://" + ln.Addr().String(),
		ln:    &countingListener{Listener: ln},
		model: m.withDefaults(),
		quit:  make(chan struct{}),
	}
	s.engine = newEngine(&s.model, s.quit)
	go s.engine.run()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", s.handleCompletion(false))
	mux.HandleFunc("POST /v1/chat/completions", s.handleCompletion(true))
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"version": Version})
	})
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(&s.log, "", log.LstdFlags)}
	s.srv.Handler = s.configureConns(s.srv, mux)
	go s.srv.Serve(s.ln)
	return s
}

// Model returns the model the server simulates, with defaults filled in.
func (s *Server) Model() Model { return s.model }

// Truth returns the ground truth of every completion request received since
// NewServer or the last Reset, in order of Index. Requests still running
// appear as far as they got. A streamed request's Chunks, OutputTokens and
// FinishReason are complete once its client has read "data: [DONE]"; the
// rest of a record, and a non-streamed response, once the client has read
// the response to its end (EOF). Done is set last.
func (s *Server) Truth() []Record { return s.truth.records() }

// Reset forgets the ground truth and restarts the request count (which
// Fault.Every counts). Requests in flight are not affected, but are not
// recorded in later Truth calls.
func (s *Server) Reset() { s.truth.reset() }

// Close shuts the server down: it closes the listener and every
// connection, streaming, stalled or waiting in the queue, and returns when
// every handler and the engine have stopped. It never waits for a client.
// Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.srv.Close()
		close(s.quit)
		s.handlers.Wait()
		<-s.engine.done
	})
}

// enter registers a handler; it reports false once the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	card := map[string]any{"id": s.model.Name, "object": "model", "created": 0, "owned_by": "servingtest"}
	if s.model.KVCacheTokens > 0 {
		card["max_model_len"] = s.model.KVCacheTokens
	}
	writeJSON(w, map[string]any{"object": "list", "data": []any{card}})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}
