package servingtest

import (
	"context"
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

// Server is a simulated LLM server (OpenAI-compatible, TGI, llama.cpp,
// TensorRT-LLM, SGLang and Ollama routes; see the package documentation),
// in the manner of
// net/http/httptest.Server: NewServer starts one on a loopback address,
// NewUnstartedServer lets the caller choose its Listener first (an
// in-memory Listener, to run inside a testing/synctest bubble). Its methods
// are safe for concurrent use. Its own log (accept errors, handler panics)
// is described at SetErrorLog.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port" (for an in-memory
	// Listener, "http://servingtest.invalid:80"), without a trailing slash;
	// the API lives under URL+"/v1". It is set by Start.
	URL string
	// Listener is where the server accepts connections. NewUnstartedServer
	// leaves it nil, and Start then listens on 127.0.0.1 and a free port;
	// set it before Start to serve elsewhere, e.g. on NewListener().
	Listener net.Listener

	model  Model
	srv    *http.Server
	engine *engine
	truth  truth
	ln     *countingListener
	log    serverLog
	client *http.Client

	quit      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex // guards started, closed and handlers.Add
	started   bool
	closed    bool
	handlers  sync.WaitGroup
	dropped   atomic.Int64 // requests dropped by Model.DropReused
}

// NewServer starts a server simulating m on 127.0.0.1 and a free port. It
// panics if m is invalid (see Model.Validate) or it cannot listen, as
// httptest.NewServer does. The caller must call Close.
func NewServer(m Model) *Server {
	s := NewUnstartedServer(m)
	s.Start()
	return s
}

// NewUnstartedServer returns a server simulating m that is not yet
// serving: set its Listener if need be, then call Start. It panics if m is
// invalid (see Model.Validate). The caller must call Close.
//
// Inside a testing/synctest bubble, create, start and close the server
// in the bubble, on an in-memory Listener; the engine's step timers and
// every recorded time (Record) then run on the bubble's fake clock, the
// clock a client in the same bubble reads:
//
//	synctest.Test(t, func(t *testing.T) {
//		srv := servingtest.NewUnstartedServer(m)
//		srv.Listener = servingtest.NewListener()
//		srv.Start()
//		defer srv.Close()
//		resp, err := srv.Client().Get(srv.URL + "/health")
//		...
//	})
func NewUnstartedServer(m Model) *Server {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return &Server{model: m.withDefaults(), quit: make(chan struct{})}
}

// Start starts serving: the engine's scheduler, and the HTTP server on
// Listener (a new loopback listener when it is nil). It panics if the
// server was already started or closed, or it cannot listen.
func (s *Server) Start() {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		panic("servingtest: Server.Start called twice or after Close")
	}
	s.started = true
	s.mu.Unlock()
	if s.Listener == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(fmt.Sprintf("servingtest: failed to listen on a port: %v", err))
		}
		s.Listener = ln
	}
	s.URL = "http://" + s.Listener.Addr().String()
	s.engine = newEngine(&s.model, s.quit)
	go s.engine.run()
	mux := http.NewServeMux()
	for _, a := range []api{openAI{}, openAI{chat: true}, tgi{stream: true}, llamaCpp{}, ollama{}, ollama{chat: true}} {
		mux.HandleFunc("POST "+a.endpoint(), s.handle(a))
	}
	mux.HandleFunc("POST /generate", s.generateRoute())    // TGI's and SGLang's, told apart by the body
	mux.HandleFunc("POST "+tritonPattern, s.tritonRoute()) // TensorRT-LLM behind Triton
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"version": Version})
	})
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(&s.log, "", log.LstdFlags)}
	s.srv.Handler = s.configureConns(s.srv, mux)
	s.client = &http.Client{Transport: s.transport()}
	s.ln = &countingListener{Listener: s.Listener}
	go s.srv.Serve(s.ln)
}

// transport dials the server's Listener: through its DialContext method
// when it has one (an in-memory Listener), else over the network.
func (s *Server) transport() *http.Transport {
	t := &http.Transport{MaxIdleConnsPerHost: 1 << 12, DisableCompression: true}
	if d, ok := s.Listener.(interface {
		DialContext(ctx context.Context, network, address string) (net.Conn, error)
	}); ok {
		t.DialContext = d.DialContext
	}
	return t
}

// Client returns an HTTP client that reaches the server whatever its
// Listener, with a pool of idle connections large enough to keep one per
// concurrent request. It is created by Start; Close closes its idle
// connections. Pass it as servingbench.OpenAIConfig.HTTPClient.
func (s *Server) Client() *http.Client { return s.client }

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
		started := s.started
		s.mu.Unlock()
		close(s.quit)
		if !started {
			if s.Listener != nil {
				s.Listener.Close()
			}
			return
		}
		s.srv.Close()
		s.handlers.Wait()
		<-s.engine.done
		s.client.CloseIdleConnections()
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
