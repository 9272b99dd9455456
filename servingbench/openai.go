package servingbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/servingbench/servingbench/internal/sse"
)

// OpenAIConfig configures the streaming OpenAI-compatible clients
// (NewCompletions, NewChat). The zero value of every optional field is
// documented and useful.
type OpenAIConfig struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8000". Required.
	BaseURL string
	// Endpoint is the path appended to BaseURL; "" means /v1/completions
	// (NewCompletions) or /v1/chat/completions (NewChat).
	Endpoint string
	// Model is sent as "model". Required.
	Model string
	// APIKey, when not empty, is sent as "Authorization: Bearer APIKey". It
	// never appears in errors or results: server text kept in errors (an
	// error body that echoes the request headers, say) has it masked
	// with '*'.
	APIKey string
	// MaxConcurrency sizes the connection pool: at least this many idle
	// keep-alive connections are kept. 0 means a large default (4096).
	MaxConcurrency int
	// RequestTimeout bounds a whole request, from Result.Sent to the end of
	// the stream; a request over it fails with *TimeoutError. 0 means no
	// bound.
	RequestTimeout time.Duration
	// StreamIdleTimeout fails a request (*IdleTimeoutError) when no bytes
	// arrive for this long, counted from Result.Sent (so it includes the
	// wait for the first token). 0 means no bound.
	StreamIdleTimeout time.Duration
	// RequireDone makes a stream that ends without "data: [DONE]" a
	// failure even after its finish_reason or usage chunk arrived. By
	// default such a stream is complete (Result.NoDone), as vLLM's client
	// counts it: TGI, llama.cpp's chat endpoint and others sent no [DONE]
	// for years.
	RequireDone bool
	// MaxLineBytes caps one SSE line or event; 0 means 16 MiB.
	MaxLineBytes int
	// IgnoreEOS sends "ignore_eos": true (vLLM, llama.cpp) so the server
	// generates exactly max_tokens.
	IgnoreEOS bool
	// Temperature, TopP and TopK are sent only when set.
	Temperature *float64
	TopP        *float64
	TopK        *int
	// ExtraBody is merged last into the request body, one level deep: its
	// keys replace the client's own (including prompt or max_tokens).
	ExtraBody map[string]any
	// KeepText stores the generated text in Result.Text.
	KeepText bool
	// Tokenizer counts the output text when the server reports no usage;
	// when set, the text of every request is accumulated (not kept unless
	// KeepText).
	Tokenizer Tokenizer
	// HTTPClient, when set, is used instead of the client's own transport;
	// MaxConcurrency then does not size anything.
	HTTPClient *http.Client
}

// Validate reports the first invalid field of c, by name.
func (c *OpenAIConfig) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		return errors.New("servingbench: OpenAIConfig.BaseURL is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("servingbench: OpenAIConfig.BaseURL must be an absolute http or https URL, got %q", c.BaseURL)
	case c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "/"):
		return fmt.Errorf("servingbench: OpenAIConfig.Endpoint must start with '/', got %q", c.Endpoint)
	case c.Model == "":
		return errors.New("servingbench: OpenAIConfig.Model is required")
	case strings.ContainsAny(c.APIKey, "\r\n\x00"):
		return errors.New("servingbench: OpenAIConfig.APIKey contains a control character")
	case c.MaxConcurrency < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.MaxConcurrency must be >= 0, got %d", c.MaxConcurrency)
	case c.RequestTimeout < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.RequestTimeout must be >= 0, got %v", c.RequestTimeout)
	case c.StreamIdleTimeout < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.StreamIdleTimeout must be >= 0, got %v", c.StreamIdleTimeout)
	case c.MaxLineBytes < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.MaxLineBytes must be >= 0, got %d", c.MaxLineBytes)
	case c.Temperature != nil && (math.IsNaN(*c.Temperature) || math.IsInf(*c.Temperature, 0) || *c.Temperature < 0):
		return fmt.Errorf("servingbench: OpenAIConfig.Temperature must be a finite number >= 0, got %v", *c.Temperature)
	case c.TopP != nil && (math.IsNaN(*c.TopP) || *c.TopP <= 0 || *c.TopP > 1):
		return fmt.Errorf("servingbench: OpenAIConfig.TopP must be in (0, 1], got %v", *c.TopP)
	case c.TopK != nil && *c.TopK < -1:
		return fmt.Errorf("servingbench: OpenAIConfig.TopK must be >= -1, got %d", *c.TopK)
	}
	for k, v := range c.ExtraBody {
		if _, err := json.Marshal(v); err != nil {
			return fmt.Errorf("servingbench: OpenAIConfig.ExtraBody[%q] cannot be encoded as JSON: %v", k, err)
		}
	}
	return nil
}

// openAI is the streaming engine shared by Completions and Chat.
type openAI struct {
	cfg    OpenAIConfig
	url    string
	header http.Header
	body   *payload
	client *http.Client
	own    *http.Transport // nil when cfg.HTTPClient is used
	// fresh sends every request on a new connection (closed after it); it
	// is client when cfg.HTTPClient is used (see do and post).
	fresh *http.Client
	// noReuse is set once the server closed a pooled connection under a
	// request: from then on every request goes through fresh.
	noReuse atomic.Bool
	maxLine int
	pool    sync.Pool // *stream
}

func newOpenAI(cfg OpenAIConfig, defaultEndpoint string, kind payloadKind) (*openAI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = defaultEndpoint
	}
	o := &openAI{
		cfg:     cfg,
		url:     strings.TrimRight(cfg.BaseURL, "/") + cfg.Endpoint,
		header:  http.Header{"Content-Type": {"application/json"}, "Accept": {"text/event-stream"}},
		maxLine: cfg.MaxLineBytes,
		client:  cfg.HTTPClient,
	}
	if cfg.APIKey != "" {
		o.header.Set("Authorization", "Bearer "+cfg.APIKey)
	}
	body, err := newPayload(&cfg, kind)
	if err != nil {
		return nil, err
	}
	o.body = body
	o.fresh = o.client
	if o.client == nil {
		o.own = newTransport(cfg.MaxConcurrency)
		o.client = &http.Client{Transport: o.own}
		fresh := o.own.Clone()
		fresh.DisableKeepAlives = true
		o.fresh = &http.Client{Transport: fresh}
	}
	o.pool.New = func() any { return newStream() }
	return o, nil
}

// prewarmBudget bounds Prewarm as a whole. A server that accepts the
// connection but never answers must not hang the run before it starts, and
// one that serves fewer connections at once than asked holds the rest
// until a served one is closed: llama.cpp's server (cpp-httplib, a thread
// per connection, 8 here) keeps a prewarmed connection for its 5 s
// keep-alive timeout. Connections not open by then are opened by their
// requests.
const prewarmBudget = time.Second

// prewarm opens up to n keep-alive connections with n concurrent
// GET BaseURL/v1/models requests; 404 is fine. They are bounded by the
// smallest of prewarmBudget, RequestTimeout and StreamIdleTimeout.
func (o *openAI) prewarm(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("servingbench: Prewarm: n must be >= 0, got %d", n)
	}
	parent := ctx
	budget := o.prewarmTimeout()
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	target := strings.TrimRight(o.cfg.BaseURL, "/") + "/v1/models"
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				errs[i] = err
				return
			}
			if a := o.header.Get("Authorization"); a != "" {
				req.Header.Set("Authorization", a)
			}
			resp, err := o.client.Do(req)
			if err != nil {
				errs[i] = &StreamError{Err: err}
				if cl := ClientLimitOf(err); cl != nil {
					errs[i] = cl
				}
				return
			}
			body := o.readExcerpt(resp.Body)
			drainClose(resp.Body)
			switch {
			case resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound:
				errs[i] = &HTTPError{StatusCode: resp.StatusCode, Body: body, RetryAfter: resp.Header.Get("Retry-After")}
			case ctx.Err() != nil: // the body did not arrive in time
				errs[i] = &StreamError{Err: ctx.Err(), Responded: true}
			}
		})
	}
	wg.Wait()
	failed, late, first := 0, 0, error(nil)
	for _, err := range errs {
		if err != nil {
			failed++
			if errors.Is(err, context.DeadlineExceeded) {
				late++
			}
			if first == nil {
				first = err
			}
		}
	}
	switch {
	case first == nil:
		return nil
	case late == failed && parent.Err() == nil:
		return fmt.Errorf("servingbench: Prewarm: %d of %d connections answered within %v; the others are opened by "+
			"their requests: %w", n-failed, n, budget, context.DeadlineExceeded)
	}
	return fmt.Errorf("servingbench: Prewarm: %d of %d requests failed, first: %w", failed, n, first)
}

func (o *openAI) prewarmTimeout() time.Duration {
	d := prewarmBudget
	for _, t := range []time.Duration{o.cfg.RequestTimeout, o.cfg.StreamIdleTimeout} {
		if t > 0 {
			d = min(d, t)
		}
	}
	return d
}

// close closes the idle connections of the client's transport.
func (o *openAI) close() {
	o.client.CloseIdleConnections()
	o.fresh.CloseIdleConnections()
}

// Sentinel causes of the request context's cancellation.
var (
	errRequestTimeout = errors.New("request timeout")
	errIdleTimeout    = errors.New("stream idle timeout")
	errDrainTimeout   = errors.New("drain timeout")
)

// drainGrace bounds the wait for the end of the body after [DONE].
const drainGrace = time.Second

// stream is the per-request state, pooled so that buffers are reused.
type stream struct {
	body   []byte
	rd     sse.Reader
	chunk  sse.Chunk
	text   []byte
	finish []byte
	tr     timedBody

	// What the transport reported about the current attempt: whether it
	// went out on a pooled connection, and whether a response byte came.
	trace     *httptrace.ClientTrace
	reused    atomic.Bool
	responded atomic.Bool
}

func newStream() *stream {
	st := new(stream)
	st.trace = &httptrace.ClientTrace{
		GotConn:              func(info httptrace.GotConnInfo) { st.reused.Store(info.Reused) },
		GotFirstResponseByte: func() { st.responded.Store(true) },
	}
	return st
}

// maxPresizedEvents caps the Events capacity allocated up front.
const maxPresizedEvents = 1 << 16

// maxPooledBytes drops streams whose buffers grew beyond it.
const maxPooledBytes = 1 << 20

// timedBody stamps every Read of the response body with time.Now: all the
// events decoded from one read share its time.
type timedBody struct {
	r     io.Reader
	now   time.Time
	watch *idleWatch
}

func (t *timedBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.now = time.Now()
		if t.watch != nil {
			t.watch.last.Store(int64(t.now.Sub(t.watch.sent)))
		}
	}
	return n, err
}

// send is Client.Send for both endpoints.
func (o *openAI) send(parent context.Context, req *Request, res *Result) {
	st := o.pool.Get().(*stream)
	defer o.put(st)

	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	st.body = o.body.append(st.body[:0], req)
	if c := min(req.MaxTokens+1, maxPresizedEvents); cap(res.Events) < c {
		res.Events = make([]time.Time, 0, c)
	}
	res.Events = res.Events[:0]
	res.Text = ""
	res.InputTokens, res.InputSource = 0, SourceNone
	res.OutputTokens, res.OutputSource = 0, SourceNone
	res.Resent, res.NoDone = false, false

	// Both timeouts are armed after Sent is taken, so neither fires before
	// its duration has passed since Sent.
	res.Sent = time.Now()
	if o.cfg.RequestTimeout > 0 {
		t := time.AfterFunc(o.cfg.RequestTimeout, func() { cancel(errRequestTimeout) })
		defer t.Stop()
	}
	var watch *idleWatch
	if o.cfg.StreamIdleTimeout > 0 {
		watch = startIdleWatch(res.Sent, o.cfg.StreamIdleTimeout, cancel)
		defer watch.stop()
	}
	resp, err := o.do(ctx, st, res)
	if err != nil {
		res.Done = time.Now()
		res.Err = o.classify(parent, ctx, err, 0, false)
		return
	}
	res.Err = o.read(parent, ctx, cancel, resp, st, watch, res)
}

// do posts st.body. A request written to a pooled connection that the
// server closed before sending a response byte (it had closed the idle
// connection, or closes every connection after a response, as llama.cpp
// does, and the close crossed the request on the wire) never reached the
// server: it is sent once more, on a new connection, and marked
// Result.Resent; Sent stays the first send. From then on the client opens
// a new connection for every request, since the server does not keep them.
func (o *openAI) do(ctx context.Context, st *stream, res *Result) (*http.Response, error) {
	client := o.client
	if o.noReuse.Load() {
		client = o.fresh
	}
	resp, err := o.post(ctx, client, st)
	// Our fresh transport always dials, so one resend is enough. A
	// caller's client has no fresh twin: its pool is emptied before each
	// resend (what it holds of this server is likely closed too), but a
	// connection another request returns meanwhile may be taken again.
	resends := 1
	if o.own == nil {
		resends = maxCallerResends
	}
	for range resends {
		if err == nil || !st.reused.Load() || st.responded.Load() || ctx.Err() != nil {
			break
		}
		res.Resent = true
		o.noReuse.Store(true)
		if o.own == nil {
			o.client.CloseIdleConnections()
		}
		resp, err = o.post(ctx, o.fresh, st)
	}
	return resp, err
}

// maxCallerResends bounds the resends through a caller's http.Client.
const maxCallerResends = 3

// post sends one attempt of the request in st.body through client.
func (o *openAI) post(ctx context.Context, client *http.Client, st *stream) (*http.Response, error) {
	st.reused.Store(false)
	st.responded.Store(false)
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, st.trace), http.MethodPost, o.url, bytes.NewReader(st.body))
	if err != nil {
		return nil, fmt.Errorf("servingbench: building request: %w", err)
	}
	hreq.ContentLength = int64(len(st.body))
	hreq.Header = o.header
	if o.own == nil {
		// A caller's http.Client (with a cookie jar, say) may add headers.
		hreq.Header = o.header.Clone()
		// Once the server closed a pooled connection under a request, a
		// caller's client keeps no connection either.
		hreq.Close = o.noReuse.Load()
	}
	return client.Do(hreq)
}

// put returns st to the pool unless its buffers grew large.
func (o *openAI) put(st *stream) {
	st.tr = timedBody{}
	if cap(st.body)+cap(st.text)+st.rd.BufferSize() > maxPooledBytes {
		return
	}
	st.rd.Reset(nil, o.maxLine)
	o.pool.Put(st)
}

// read consumes the response and fills res; it returns the request's error.
func (o *openAI) read(parent, ctx context.Context, cancel context.CancelCauseFunc, resp *http.Response,
	st *stream, watch *idleWatch, res *Result) error {
	if resp.StatusCode != http.StatusOK {
		body := o.readExcerpt(resp.Body)
		drainClose(resp.Body)
		res.Done = time.Now()
		return &HTTPError{StatusCode: resp.StatusCode, Body: body, RetryAfter: resp.Header.Get("Retry-After")}
	}
	if ct := resp.Header.Get("Content-Type"); !isEventStream(ct) {
		body := o.readExcerpt(resp.Body)
		drainClose(resp.Body)
		res.Done = time.Now()
		return &ContentTypeError{ContentType: ct, Body: body}
	}
	st.tr = timedBody{r: resp.Body, watch: watch}
	st.rd.Reset(&st.tr, o.maxLine)
	needText := o.cfg.KeepText || o.cfg.Tokenizer != nil
	st.text = st.text[:0]
	st.finish = st.finish[:0]
	hasCompletion, hasUsage := false, false
	var failure error
	for {
		data, err := st.rd.Next()
		if errors.Is(err, io.EOF) {
			// The body ended at an event boundary without [DONE]: complete
			// once the finish_reason or the usage arrived.
			finished := len(st.finish) > 0 || hasUsage
			if finished && !o.cfg.RequireDone {
				res.NoDone = true
				break
			}
			failure = &EndError{Tokens: len(res.Events), Finished: finished}
			break
		}
		if err != nil {
			failure = o.classify(parent, ctx, err, len(res.Events), true)
			break
		}
		if sse.IsDone(data) {
			break
		}
		if len(data) == 0 {
			continue
		}
		if st.rd.ErrorEvent() { // llama.cpp: "error: {json}"
			failure = &ServerError{Message: excerpt(o.maskKey(data)), Tokens: len(res.Events)}
			break
		}
		ch := &st.chunk
		if err := ch.Decode(data); err != nil {
			failure = newParseError(err, o.maskKey(data), st.rd.Offset())
			break
		}
		if ch.Error {
			failure = &ServerError{Message: string(o.maskKey(sse.AppendUnescaped(nil, ch.ErrorMessage))), Tokens: len(res.Events)}
			break
		}
		if ch.Token() {
			res.Events = append(res.Events, st.tr.now)
			if needText {
				st.text = ch.AppendText(st.text)
			}
		}
		if ch.HasPromptTokens {
			res.InputTokens, res.InputSource, hasUsage = ch.PromptTokens, SourceUsage, true
		}
		if ch.HasCompletionTokens {
			res.OutputTokens, hasCompletion, hasUsage = ch.CompletionTokens, true, true
		}
		if ch.FinishReason != nil {
			st.finish = sse.AppendUnescaped(st.finish[:0], ch.FinishReason)
		}
	}
	res.Done = time.Now()
	if hasCompletion {
		res.OutputSource = SourceUsage
	}
	if failure != nil {
		cancel(failure) // abort the connection rather than drain a broken stream
		resp.Body.Close()
		return failure
	}
	// The stream is complete: read the end of the body so the connection is
	// reused.
	t := time.AfterFunc(drainGrace, func() { cancel(errDrainTimeout) })
	drainClose(resp.Body)
	t.Stop()

	if o.cfg.KeepText {
		res.Text = string(st.text)
	}
	switch {
	case hasCompletion:
	case o.cfg.Tokenizer != nil:
		res.OutputTokens, res.OutputSource = len(o.cfg.Tokenizer.Encode(string(st.text))), SourceTokenizer
	default:
		res.OutputTokens, res.OutputSource = len(res.Events), SourceEvents
	}
	if len(res.Events) == 0 {
		return &NoTokensError{FinishReason: string(st.finish)}
	}
	return nil
}

// classify turns a transport error into the client's error types, using the
// cause of the request context.
func (o *openAI) classify(parent, ctx context.Context, err error, tokens int, responded bool) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errIdleTimeout):
		return &IdleTimeoutError{Idle: o.cfg.StreamIdleTimeout, Tokens: tokens}
	case errors.Is(cause, errRequestTimeout):
		return &TimeoutError{Timeout: o.cfg.RequestTimeout, Tokens: tokens}
	case parent.Err() != nil:
		return &CancelError{Tokens: tokens, Err: parent.Err()}
	}
	if cl := ClientLimitOf(err); cl != nil && !responded { // a dial out of descriptors: ours, not the server's
		return cl
	}
	return &StreamError{Tokens: tokens, Err: err, Responded: responded}
}

func newParseError(err error, data []byte, eventOffset int64) *ParseError {
	pe := &ParseError{Offset: eventOffset, Err: err}
	var se *sse.SyntaxError
	at := 0
	if errors.As(err, &se) {
		at = se.Offset
		pe.Offset += int64(at)
	}
	lo, hi := max(0, at-32), min(len(data), at+32)
	pe.Data = bytes.Clone(data[lo:hi])
	return pe
}

func isEventStream(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// idleWatch cancels a request when no body bytes arrived for idle. The
// reader stores the time of its last read; the timer re-arms itself for the
// remaining time instead of being reset on every read.
type idleWatch struct {
	sent   time.Time
	idle   time.Duration
	last   atomic.Int64 // time of the last read, as an offset from sent
	done   atomic.Bool
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

func startIdleWatch(sent time.Time, idle time.Duration, cancel context.CancelCauseFunc) *idleWatch {
	w := &idleWatch{sent: sent, idle: idle, cancel: cancel}
	w.timer = time.AfterFunc(idle, w.fire)
	return w
}

func (w *idleWatch) fire() {
	if w.done.Load() {
		return
	}
	quiet := time.Since(w.sent) - time.Duration(w.last.Load())
	if quiet >= w.idle {
		w.cancel(errIdleTimeout)
		return
	}
	w.timer.Reset(w.idle - quiet)
}

func (w *idleWatch) stop() {
	w.done.Store(true)
	w.timer.Stop()
}

// readExcerpt reads up to maxBodyExcerpt bytes of an error body, with the
// API key masked. It reads as far as a key that starts inside the excerpt
// could reach, so that no part of it survives the cut.
func (o *openAI) readExcerpt(r io.Reader) string {
	buf := make([]byte, maxBodyExcerpt+max(1, len(o.cfg.APIKey)))
	n, _ := io.ReadFull(r, buf)
	return excerpt(o.maskKey(buf[:n]))
}

// maskKey overwrites every occurrence of the API key in b with '*', in
// place, keeping the length so that offsets into b stay valid. Servers may
// echo the request's headers in an error body or event, and such text ends
// up in errors, reports and result files.
func (o *openAI) maskKey(b []byte) []byte {
	key := o.cfg.APIKey
	if key == "" {
		return b
	}
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(key))
		if j < 0 {
			return b
		}
		i += j
		for k := range len(key) {
			b[i+k] = '*'
		}
		i += len(key)
	}
}

// maxDrain bounds what is read from a body only to reuse its connection.
const maxDrain = 64 << 10

// drainClose reads at most maxDrain more bytes of body and closes it.
func drainClose(body io.ReadCloser) {
	io.CopyN(io.Discard, body, maxDrain)
	body.Close()
}

var (
	_ Prewarmer = (*Completions)(nil)
	_ Prewarmer = (*Chat)(nil)
)
