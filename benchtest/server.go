package benchtest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
	"github.com/servingbench/servingbench/servingbench/target"
)

// WithServer benchmarks srv, a servingtest server the caller started,
// instead of the environment's target: a simulated model of the caller's
// own (servingtest.FixedService, whose capacity is known exactly) on any
// Listener, an in-memory servingtest.NewListener included, so that Run,
// Sweep and Capacity can run inside a testing/synctest bubble, on its fake
// clock, exactly and in no real time:
//
//	synctest.Test(t, func(t *testing.T) {
//		srv := servingtest.NewUnstartedServer(servingtest.FixedService(4, 10*time.Millisecond))
//		srv.Listener = servingtest.NewListener()
//		srv.Start()
//		defer srv.Close()
//		testing.Benchmark(func(b *testing.B) {
//			res := benchtest.Capacity(b, sc, sla, benchtest.WithServer(srv), ...)
//			...
//		})
//	})
//
// Requests go to srv.URL through srv.Client() (WithClientConfig may
// replace it) with the "openai" completions backend and srv.Model().Name
// as the model; prompts are made with the server's tokenizer
// (srv.Model().Tokenizer, servingtest.WordTokenizer unless set; its id in
// the report is its Go type) unless WithTokenizer gives another. The
// reports' Metadata["server"] is servingtest.Version. The server's
// records (Truth) are kept: they hold every run's requests. The caller
// closes srv after the benchmark.
//
// A later WithTarget replaces WithServer, and WithServer an earlier
// WithTarget. Main does not take it: like WithTarget given to Run, the
// result lines carry the configuration Main printed, so name the
// sub-benchmark after the model.
func WithServer(srv *servingtest.Server) Option {
	return func(s *settings) { s.server, s.hasServer, s.hasTarget = srv, true, false }
}

// serverEndpoints holds the endpoint of each WithServer server, so that
// its notices are printed once.
var serverEndpoints sync.Map // *servingtest.Server -> *endpoint

// serverEndpoint returns the endpoint of srv, a started servingtest
// server.
func serverEndpoint(srv *servingtest.Server) (*endpoint, error) {
	if srv == nil {
		return nil, errors.New("benchtest: WithServer: the server is nil")
	}
	if srv.URL == "" {
		return nil, errors.New("benchtest: WithServer: the server is not started (call its Start method first)")
	}
	if e, ok := serverEndpoints.Load(srv); ok {
		return e.(*endpoint), nil
	}
	m := srv.Model()
	backend, err := servingbench.LookupBackend(DefaultBackend)
	if err != nil {
		return nil, fmt.Errorf("benchtest: WithServer: %w", err)
	}
	spec := target.Spec{BaseURL: srv.URL, Backend: DefaultBackend, Model: m.Name}
	e := &endpoint{
		target:     Target{BaseURL: srv.URL, Backend: DefaultBackend, Model: m.Name},
		tg:         &target.Target{Spec: spec, URL: srv.URL, Backend: backend, Chat: backend.Chat(), Sim: srv},
		sim:        srv,
		id:         target.Identity{Server: servingtest.Version},
		tok:        m.Tokenizer,
		tokID:      fmt.Sprintf("%T", m.Tokenizer),
		httpClient: srv.Client(),
	}
	e.notes = []string{fmt.Sprintf("WithServer: benchmarking the servingtest server at %s (model %s); its figures are simulated, not measured", srv.URL, m.Name)}
	got, _ := serverEndpoints.LoadOrStore(srv, e)
	return got.(*endpoint), nil
}
