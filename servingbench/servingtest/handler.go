package servingtest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds a request body.
const maxBody = 64 << 20

// job is one accepted completion request on its way through the engine.
type job struct {
	*call
	api          api
	srv          *Server
	ent          *entry
	seq          *seq
	fault        *Fault
	kind         FaultKind
	id           string
	promptTokens int
	finish       string
	// firstToken is when the handler saw the first token produced.
	firstToken time.Time
}

// seed seeds the job's generated words: the same text for the same prompt
// whatever the protocol.
func (j *job) seed() uint64 { return hash64(j.srv.model.Seed, j.prompt, 0) }

// handle serves the completion requests of a on its route.
func (s *Server) handle(a api) http.HandlerFunc {
	idPrefix := "cmpl-"
	if o, ok := a.(openAI); ok && o.chat {
		idPrefix = "chatcmpl-"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		received := time.Now()
		if !s.enter() {
			a.writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "ServiceUnavailableError",
				message: "server is shutting down"})
			return
		}
		defer s.handlers.Done()
		ent := s.truth.add(a.endpoint(), a.protocol(), received)
		defer ent.update(func(rec *Record) { rec.Done = time.Now() })

		j, apiErr := s.accept(r, a, ent)
		if apiErr != nil {
			status := apiErr.status
			if apiErr.validation && a.protocol() == ProtocolTGI && a.(tgi).stream {
				status = http.StatusOK // TGI streams a validation error as an event
			}
			ent.update(func(rec *Record) { rec.Status = status })
			a.writeError(w, apiErr)
			return
		}
		j.id = idPrefix + strconv.Itoa(ent.rec.Index)
		if j.kind != FaultNone && s.failEarly(w, j) {
			return
		}
		s.engine.submit(j.seq)
		defer func() {
			j.seq.cancelled.Store(true) // no-op once the engine retired it
			j.recordAdmitted()
		}()
		if j.kind == FaultGoAway {
			go s.Close()
		}
		if j.stream {
			j.streamResponse(w, r)
		} else {
			j.jsonResponse(w, r)
		}
	}
}

// accept reads and validates the request, draws its output length and
// picks its fault.
func (s *Server) accept(r *http.Request, a api, ent *entry) (*job, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, badRequest("", "reading the body: %v", err)
	}
	c, apiErr := a.parse(body, s.model.Name)
	if apiErr != nil {
		return nil, apiErr
	}
	j := &job{call: c, api: a, srv: s, ent: ent}
	j.promptTokens = len(s.model.Tokenizer.Encode(c.prompt))
	target, finish := s.model.outputLength(c.prompt, c.maxTokens, c.ignoreEOS)
	j.finish = finish
	ent.update(func(rec *Record) {
		rec.Prompt, rec.Messages, rec.Stream, rec.IgnoreEOS = c.prompt, c.messages, c.stream, c.ignoreEOS
		rec.PromptTokens, rec.MaxTokens = j.promptTokens, c.maxTokens
	})
	if kv := s.model.KVCacheTokens; kv > 0 && j.promptTokens+c.maxTokens > kv {
		return nil, a.tooLong(kv, j.promptTokens, c.maxTokens)
	}
	if f := pickFault(s.model.Faults, ent.rec.Index, c.prompt); f != nil && (c.stream || !f.Kind.streamOnly()) && f.Kind.AppliesTo(a.protocol()) {
		j.fault, j.kind = f, f.Kind
	}
	j.seq = newSeq(j.promptTokens, c.maxTokens, target)
	if s.model.PrefixCacheTokens > 0 {
		j.seq.tokens = s.model.Tokenizer.Encode(c.prompt)
	}
	ent.update(func(rec *Record) {
		rec.Fault, rec.OutputTokens, rec.ReasoningTokens = j.kind, target, s.model.Reasoning.tokens(a, target)
	})
	return j, nil
}

// failEarly answers the faults that need no engine: the status codes and
// the wrong Content-Type. It reports whether it answered.
func (s *Server) failEarly(w http.ResponseWriter, j *job) bool {
	if sf, ok := statusFaults[j.kind]; ok {
		if j.kind == FaultRateLimit {
			secs := int((j.fault.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		}
		j.api.writeError(w, &apiError{status: sf.code, typ: sf.typ,
			message: fmt.Sprintf("simulated fault %s", j.kind)})
		j.ent.update(func(rec *Record) { rec.Status, rec.OutputTokens, rec.Aborted = sf.code, 0, "fault" })
		return true
	}
	if j.kind == FaultWrongContentType {
		j.api.writeError(w, &apiError{status: http.StatusOK, typ: "InternalServerError",
			message: "simulated fault wrong-content-type"})
		j.ent.update(func(rec *Record) { rec.Status, rec.OutputTokens, rec.Aborted = 200, 0, "fault" })
		return true
	}
	return false
}

// wait blocks until the engine has produced more than have tokens, the
// client goes away or the server closes. It returns the tokens produced
// and the abort reason ("" when the engine produced more).
func (j *job) wait(r *http.Request, have int) (int, string) {
	for {
		if p := int(j.seq.produced.Load()); p > have {
			if have == 0 {
				j.firstToken = time.Now()
				j.recordAdmitted() // before any chunk is written
			}
			return p, ""
		}
		select {
		case <-j.seq.notify:
		case <-r.Context().Done():
			return have, j.srv.goneReason()
		case <-j.srv.quit:
			return have, "server closed"
		}
	}
}

// recordAdmitted copies the engine's admission time and prefix-cache hit
// into the record.
func (j *job) recordAdmitted() {
	if t := j.seq.admitted.Load(); t != nil {
		cached := int(j.seq.cached.Load())
		j.ent.update(func(rec *Record) { rec.Admitted, rec.CachedTokens = *t, cached })
	}
}

// hold blocks until the client goes away or the server closes.
func (j *job) hold(r *http.Request) string {
	select {
	case <-r.Context().Done():
		return j.srv.goneReason()
	case <-j.srv.quit:
		return "server closed"
	}
}

// goneReason names why a request's context ended: the server closing its
// connection or the client going away.
func (s *Server) goneReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "server closed"
	}
	return "client gone"
}

// abort records why the response ended early. Unless a fault ended it, it
// then aborts the handler with http.ErrAbortHandler, so the server drops the
// connection instead of ending the response cleanly.
func (j *job) abort(reason string) {
	j.ent.update(func(rec *Record) { rec.Aborted = reason })
	if reason != "fault" {
		panic(http.ErrAbortHandler)
	}
}

// jsonResponse waits for the whole output and writes one JSON body.
func (j *job) jsonResponse(w http.ResponseWriter, r *http.Request) {
	have := 0
	for have < j.seq.target {
		var reason string
		if have, reason = j.wait(r, have); reason != "" {
			j.abort(reason)
			return
		}
	}
	switch j.kind {
	case FaultStall:
		j.abort(j.hold(r))
		return
	case FaultReset:
		resetConn(w)
		j.abort("fault")
		return
	}
	body := j.api.jsonBody(j)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	if err == nil {
		err = http.NewResponseController(w).Flush()
	}
	t := time.Now()
	j.ent.update(func(rec *Record) { rec.Status = http.StatusOK })
	if err != nil {
		j.abort(j.srv.goneReason())
		return
	}
	j.ent.addChunks(t, []int{j.seq.target})
	j.ent.update(func(rec *Record) { rec.FinishReason = j.finish })
}

// resetConn hijacks the connection and closes it with SO_LINGER 0, so the
// peer gets a TCP RST instead of a FIN.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
