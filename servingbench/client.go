package servingbench

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// StreamClient is the streaming HTTP client: one engine (transport,
// timing, resends, prewarm, timeouts, framing, limits, errors and token
// counts) speaking one API through its protocol adapter. NewCompletions
// and NewChat build one for the OpenAI-compatible APIs; see them for what
// is sent and how the stream is read, and the package documentation for
// the definitions.
//
// A StreamClient is safe for concurrent use.
type StreamClient struct {
	cfg    OpenAIConfig
	proto  protocol
	body   *payload // proto's, built from cfg
	url    string
	header http.Header // of the streaming requests
	// getHeader is the header of the prewarm's GETs: the API key's
	// Authorization and OpenAIConfig.Header.
	getHeader http.Header
	host      string // OpenAIConfig.Header's Host, "" for the URL's
	// secrets are masked in server text kept (maskKey), longest first.
	secrets [][]byte
	// haveCert reports whether the TLS configuration has a client
	// certificate; certAsked is set once a server asked for one the
	// client did not have. Both word a TLS failure (tlsErrorOf).
	haveCert  bool
	certAsked atomic.Bool
	client    *http.Client
	own       *http.Transport // nil when cfg.HTTPClient is used
	// fresh sends every request on a new connection (closed after it); it
	// is client when cfg.HTTPClient is used (see do and post).
	fresh *http.Client
	// noReuse is set once the server closed a pooled connection under a
	// request: from then on every request goes through fresh.
	noReuse atomic.Bool
	// fast is the poller client, when it carries the requests (see
	// fast.go); nil when net/http does.
	fast    *fastClient
	maxLine int
	pool    sync.Pool // *stream
	events  sync.Pool // *eventBuf
}

var (
	_ Client    = (*StreamClient)(nil)
	_ Prewarmer = (*StreamClient)(nil)
)

// newStreamClient validates cfg and builds the engine for proto, whose
// body it builds from the validated cfg.
func newStreamClient(cfg OpenAIConfig, proto protocol) (*StreamClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	body, err := proto.newBody(&cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = proto.endpoint
	}
	c := &StreamClient{
		cfg:     cfg,
		proto:   proto,
		body:    body,
		url:     strings.TrimRight(cfg.BaseURL, "/") + cfg.Endpoint,
		header:  http.Header{"Content-Type": {"application/json"}, "Accept": {proto.framing.accept()}},
		maxLine: cfg.MaxLineBytes,
		client:  cfg.HTTPClient,
	}
	c.getHeader = http.Header{}
	if cfg.APIKey != "" {
		c.header.Set("Authorization", "Bearer "+cfg.APIKey)
		c.getHeader.Set("Authorization", "Bearer "+cfg.APIKey)
	}
	// The caller's headers replace the client's own, as vLLM's --header
	// overrides its backends' constants.
	for k, vs := range cfg.Header {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if k == "Host" {
			c.host = vs[0]
			continue
		}
		c.header[k] = slices.Clone(vs)
		c.getHeader[k] = slices.Clone(vs)
	}
	c.secrets = secrets(cfg.APIKey, cfg.Header)
	c.fresh = c.client
	if c.client == nil {
		c.own = newTransport(cfg.MaxConcurrency, c.tlsConfig(cfg.TLS))
		c.client = &http.Client{Transport: c.own}
		// The twin that opens a connection per request: the same proxy,
		// TLS configuration and limits, without keep-alives.
		fresh := c.own.Clone()
		fresh.DisableKeepAlives = true
		c.fresh = &http.Client{Transport: fresh}
	}
	c.fast = newFastClient(c)
	c.pool.New = func() any { return newStream(proto.newDecoder(), proto.framing) }
	return c, nil
}

// tlsConfig returns a clone of cfg (Go's defaults when nil) whose
// GetClientCertificate, when cfg has no client certificate, records that
// the server asked for one (certAsked) and sends none, as Go does without
// it: a server that requires one then fails the handshake with an alert
// that may not say why (handshake_failure, before TLS 1.3).
func (c *StreamClient) tlsConfig(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	c.haveCert = len(cfg.Certificates) > 0 || cfg.GetClientCertificate != nil
	if !c.haveCert {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c.certAsked.Store(true)
			return &tls.Certificate{}, nil
		}
	}
	return cfg
}

// Close closes the client's idle connections.
func (c *StreamClient) Close() {
	if c.fast != nil {
		c.fast.t.Close()
	}
	c.client.CloseIdleConnections()
	c.fresh.CloseIdleConnections()
}

// Sentinel causes of the request context's cancellation.
var (
	errRequestTimeout = errors.New("request timeout")
	errIdleTimeout    = errors.New("stream idle timeout")
	errDrainTimeout   = errors.New("drain timeout")
)

// Send sends req and measures it into res (see Client).
func (c *StreamClient) Send(parent context.Context, req *Request, res *Result) {
	st := c.pool.Get().(*stream)
	defer c.put(st)

	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	st.body = c.body.append(st.body[:0], req)
	buf := c.eventBuf(req.MaxTokens)
	defer c.keepEvents(res, res.Events[:0], res.Lags[:0], buf)
	res.Events = buf.events[:0]
	res.Text = ""
	res.InputTokens, res.InputSource = 0, SourceNone
	res.OutputTokens, res.OutputSource = 0, SourceNone
	res.Resent, res.NoDone = false, false
	res.Arrival, res.Lags = ArrivalRead, buf.lags[:0] // appended to only with kernel timestamps

	// Both timeouts are armed after Sent is taken, so neither fires before
	// its duration has passed since Sent.
	res.Sent = time.Now()
	if c.cfg.RequestTimeout > 0 {
		t := time.AfterFunc(c.cfg.RequestTimeout, func() { cancel(errRequestTimeout) })
		defer t.Stop()
	}
	var watch *idleWatch
	if c.cfg.StreamIdleTimeout > 0 {
		watch = startIdleWatch(res.Sent, c.cfg.StreamIdleTimeout, cancel)
		defer watch.stop()
	}
	if c.fast != nil {
		res.Err = c.sendFast(parent, ctx, st, watch, req, res)
		return
	}
	resp, err := c.do(ctx, st, res)
	if err != nil {
		res.Done = time.Now()
		res.Err = c.classify(parent, ctx, err, 0, false)
		c.countFailed(req, res, usageCounts{})
		return
	}
	res.Err = c.read(parent, ctx, cancel, resp, st, watch, req, res)
}

// do posts st.body. A request written to a pooled connection that the
// server closed before sending a response byte (it had closed the idle
// connection, or closes every connection after a response, as llama.cpp
// does, and the close crossed the request on the wire) never reached the
// server: it is sent once more, on a new connection, and marked
// Result.Resent; Sent stays the first send. From then on the client opens
// a new connection for every request, since the server does not keep them.
func (c *StreamClient) do(ctx context.Context, st *stream, res *Result) (*http.Response, error) {
	client := c.client
	if c.noReuse.Load() {
		client = c.fresh
	}
	resp, err := c.post(ctx, client, st)
	// Our fresh transport always dials, so one resend is enough. A
	// caller's client has no fresh twin: its pool is emptied before each
	// resend (what it holds of this server is likely closed too), but a
	// connection another request returns meanwhile may be taken again.
	resends := 1
	if c.own == nil {
		resends = maxCallerResends
	}
	for range resends {
		if err == nil || !st.reused.Load() || st.responded.Load() || ctx.Err() != nil {
			break
		}
		res.Resent = true
		c.noReuse.Store(true)
		if c.own == nil {
			c.client.CloseIdleConnections()
		}
		resp, err = c.post(ctx, c.fresh, st)
	}
	return resp, err
}

// maxCallerResends bounds the resends through a caller's http.Client.
const maxCallerResends = 3

// post sends one attempt of the request in st.body through client.
func (c *StreamClient) post(ctx context.Context, client *http.Client, st *stream) (*http.Response, error) {
	st.reused.Store(false)
	st.responded.Store(false)
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, st.trace), http.MethodPost, c.url, bytes.NewReader(st.body))
	if err != nil {
		return nil, fmt.Errorf("servingbench: building request: %w", err)
	}
	hreq.ContentLength = int64(len(st.body))
	hreq.Header = c.header
	if c.host != "" {
		hreq.Host = c.host
	}
	if c.own == nil {
		// A caller's http.Client (with a cookie jar, say) may add headers.
		hreq.Header = c.header.Clone()
		// Once the server closed a pooled connection under a request, a
		// caller's client keeps no connection either.
		hreq.Close = c.noReuse.Load()
	}
	return client.Do(hreq)
}

// put returns st to the pool unless its buffers grew large.
func (c *StreamClient) put(st *stream) {
	st.tr, st.rx = timedBody{}, nil
	st.fx.clear()
	if cap(st.body)+cap(st.text)+st.split.bytes()+st.bufferSize() > maxPooledBytes {
		return
	}
	st.reset(c.maxLine) // drops the body
	c.pool.Put(st)
}
