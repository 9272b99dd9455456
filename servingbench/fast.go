package servingbench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/servingbench/servingbench/internal/h1"
	"github.com/servingbench/servingbench/internal/linebuf"
)

// The poller client (internal/h1) carries a StreamClient's requests when
// it can: on Linux, to a plain http:// server reached without a proxy,
// through the client's own transport (not an OpenAIConfig.HTTPClient).
// One goroutine then reads every connection, with the kernel's receive
// times, and decodes the framing, the SSE or NDJSON messages and the
// JSON inline, so that a streamed chunk costs one recvmsg and no
// goroutine switch; net/http's client carries everything else (TLS,
// proxies, a caller's client) as before. Setting SERVINGBENCH_TRANSPORT
// to "net/http" sends everything through net/http.

// transportEnv names the environment variable that turns the poller
// client off.
const transportEnv = "SERVINGBENCH_TRANSPORT"

// fastClient is the poller client set up for c, or nil when c's requests
// must go through net/http.
type fastClient struct {
	t *h1.Transport
	// The request heads, as net/http writes them: start (request line,
	// Host, User-Agent), Content-Length, fields (the other header fields,
	// sorted, and the blank line), with "Connection: close" before the
	// blank line for a fresh connection.
	start, fields []byte
	// get is the head of the prewarm's GETs.
	get []byte
}

// newFastClient returns the poller client for c, or nil when c's
// requests need net/http (see above). It runs at the end of
// newStreamClient.
func newFastClient(c *StreamClient) *fastClient {
	if !h1.Supported || c.own == nil || os.Getenv(transportEnv) == "net/http" {
		return nil
	}
	u, err := url.Parse(c.url)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Host == "" || !plainToken(u.Host) {
		return nil
	}
	if p, err := proxyFor(&http.Request{URL: u}); err != nil || p != nil {
		return nil
	}
	host := u.Host
	if c.host != "" {
		host = c.host
	}
	if !plainToken(host) || !validFields(c.header) || !validFields(c.getHeader) {
		return nil // net/http rejects them with its own error
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	t, err := h1.New(net.JoinHostPort(u.Hostname(), port), dialer, idleConns(c.cfg.MaxConcurrency), idleConnTimeout)
	if err != nil {
		return nil
	}
	f := &fastClient{t: t}
	f.start = []byte("POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + userAgent(c.header) + "\r\n")
	f.fields = appendFields(nil, c.header)
	f.get = []byte("GET " + prewarmPath(c) + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + userAgent(c.getHeader) + "\r\n")
	f.get = appendFields(f.get, c.getHeader)
	return f
}

// userAgent is the User-Agent net/http sends with h: h's, or its default.
func userAgent(h http.Header) string {
	if v := h.Get("User-Agent"); v != "" {
		return v
	}
	return "Go-http-client/1.1"
}

// prewarmPath is the request URI of the prewarm's GET BaseURL/v1/models.
func prewarmPath(c *StreamClient) string {
	u, err := url.Parse(c.prewarmURL())
	if err != nil {
		return "/v1/models"
	}
	return u.RequestURI()
}

// The header fields net/http writes itself or leaves out of a request's
// header block (its reqWriteExcludeHeader).
var ownFields = []string{"Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer"}

// appendFields appends h's fields, as net/http writes them (sorted by
// name, net/http's own left out), and the blank line.
func appendFields(b []byte, h http.Header) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		if !slices.Contains(ownFields, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, trimSpaceTab(v)...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// trimSpaceTab trims the spaces and tabs net/http trims off a field value.
func trimSpaceTab(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// validFields reports whether h's names are tokens and its values free
// of control characters other than tab (as net/http requires), and
// whether h leaves the connection's management to the client (no
// Connection field).
func validFields(h http.Header) bool {
	for k, vs := range h {
		if k == "" || !plainToken(k) || k == "Connection" {
			return false
		}
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
					return false
				}
			}
		}
	}
	return true
}

// plainToken reports whether s is printable ASCII without spaces.
func plainToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// postHead returns the head of a POST with a body of n bytes, in buf.
func (f *fastClient) postHead(buf []byte, n int, fresh bool) []byte {
	buf = append(buf[:0], f.start...)
	buf = append(buf, "Content-Length: "...)
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, "\r\n"...)
	if !fresh {
		return append(buf, f.fields...)
	}
	// net/http's transport adds it to the header without keep-alives.
	buf = append(buf, f.fields[:len(f.fields)-2]...)
	return append(buf, "Connection: close\r\n\r\n"...)
}

// Modes of a fastExchange: what its response turned out to be.
const (
	fastNone    = iota // no response head yet
	fastStream         // 200 with the framing's content type: the stream
	fastExcerpt        // anything else: an excerpt of its body is kept
)

// fastExchange is a stream's state for a request sent through the poller
// client; it is the exchange's h1.Handler, called on the poller
// goroutine.
type fastExchange struct {
	c     *StreamClient
	st    *stream
	res   *Result
	watch *idleWatch

	head    []byte // the request head
	mode    int
	resp    *http.Response
	excerpt []byte
	src     pushSource
	// The end of the stream, once message said it is over: when, and
	// with what failure or read error.
	over          bool
	done          time.Time
	failure, rerr error
}

var _ h1.Handler = (*fastExchange)(nil)

// start readies fx for an attempt of st's request.
func (fx *fastExchange) start(c *StreamClient, st *stream, res *Result, watch *idleWatch) {
	*fx = fastExchange{c: c, st: st, res: res, watch: watch, head: fx.head, excerpt: fx.excerpt[:0]}
}

// clear drops fx's references for the pool.
func (fx *fastExchange) clear() {
	*fx = fastExchange{head: fx.head[:0], excerpt: fx.excerpt[:0]}
}

// Header takes the response head: a stream (200 and the framing's content
// type) is read message by message, anything else is kept as an excerpt.
func (fx *fastExchange) Header(resp *http.Response) h1.Action {
	fx.resp = resp
	c, st := fx.c, fx.st
	if !c.streams(resp.StatusCode, resp.Header) {
		fx.mode = fastExcerpt
		return h1.Continue
	}
	fx.mode = fastStream
	st.tr = timedBody{timed: true, floor: fx.res.Sent, watch: fx.watch}
	fx.src = pushSource{}
	st.begin(&fx.src, c.maxLine)
	return h1.Continue
}

// Body takes the bytes of one read: an excerpt's, or the stream's, whose
// complete messages are consumed now, sharing the read's time.
func (fx *fastExchange) Body(p []byte, read time.Time, arrival int64) h1.Action {
	if fx.mode == fastExcerpt {
		var a h1.Action
		fx.excerpt, a = fx.c.appendExcerpt(fx.excerpt, p)
		return a
	}
	st := fx.st
	st.tr.mark(read, arrival)
	fx.src.p = p
	for {
		data, err := st.next()
		if err == linebuf.ErrPending {
			return h1.Continue
		}
		if fx.end(data, err) {
			if fx.failure != nil {
				return h1.Close // abort a broken stream rather than drain it
			}
			return h1.Drain
		}
	}
}

// end takes one result of st.next, and reports whether the stream is over.
func (fx *fastExchange) end(data []byte, err error) bool {
	over, failure, rerr := fx.c.message(fx.st, fx.res, data, err)
	if over {
		fx.over, fx.failure, fx.rerr = true, failure, rerr
		fx.done = time.Now()
	}
	return over
}

// pushSource is the stream reader's io.Reader in the poller client: the
// bytes of the current read, then linebuf.ErrPending until the next one,
// or err once the body ended (io.EOF) or failed.
type pushSource struct {
	p   []byte
	err error
}

func (s *pushSource) Read(b []byte) (int, error) {
	if len(s.p) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		return 0, linebuf.ErrPending
	}
	n := copy(b, s.p)
	s.p = s.p[n:]
	return n, nil
}

// connMode is the poller client's connection for a request: a new one
// closed after it once the server was seen to close pooled ones (fresh).
func connMode(fresh bool) h1.Mode {
	if fresh {
		return h1.Once
	}
	return h1.Pooled
}

// appendExcerpt appends to excerpt the bytes of p an error body's excerpt
// needs (as much as readExcerpt reads), and says whether more are wanted.
func (c *StreamClient) appendExcerpt(excerpt, p []byte) ([]byte, h1.Action) {
	limit := c.excerptLen()
	excerpt = append(excerpt, p[:min(len(p), limit-len(excerpt))]...)
	if len(excerpt) < limit {
		return excerpt, h1.Continue
	}
	return excerpt, h1.Drain
}

// sendFast sends st.body through the poller client and measures the
// response into res, as do and read do through net/http: a request that
// met a pooled connection the server had closed is resent once on a new
// one (Result.Resent), and from then on every request opens its own.
func (c *StreamClient) sendFast(parent, ctx context.Context, st *stream, watch *idleWatch, req *Request, res *Result) error {
	fx := &st.fx
	fx.start(c, st, res, watch)
	fresh := c.noReuse.Load()
	fx.head = c.fast.postHead(fx.head, len(st.body), fresh)
	info, err := c.fast.t.Do(ctx, fx.head, st.body, connMode(fresh), fx)
	if err != nil && info.Reused && !info.Responded && ctx.Err() == nil {
		res.Resent = true
		c.noReuse.Store(true)
		fx.start(c, st, res, watch)
		fx.head = c.fast.postHead(fx.head, len(st.body), true)
		info, err = c.fast.t.Do(ctx, fx.head, st.body, h1.Once, fx)
	}
	switch fx.mode {
	case fastNone:
		res.Done = time.Now()
		if err == nil { // cannot happen: Do ends without a head only on an error
			err = h1.ErrClosedBeforeResponse
		}
		failure := c.classify(parent, ctx, err, 0, false)
		c.countFailed(req, res, usageCounts{})
		return failure
	case fastExcerpt:
		res.Done = time.Now()
		return responseError(fx.resp.StatusCode, fx.resp.Header, excerpt(c.maskKey(fx.excerpt)))
	}
	if !fx.over {
		// The body ended, or the exchange failed, before the stream did:
		// the reader takes the rest, then the end.
		fx.src.err = err
		if err == nil {
			fx.src.err = io.EOF
		}
		for !fx.over {
			data, err := st.next()
			fx.end(data, err)
		}
	}
	res.Done = fx.done
	failure := fx.failure
	if fx.rerr != nil {
		failure = c.classify(parent, ctx, fx.rerr, len(res.Events), true)
	}
	return c.conclude(st, req, res, failure)
}

// prewarmHandler reads a prewarm GET's response: its status, and an
// excerpt of its body when it is an error.
type prewarmHandler struct {
	c       *StreamClient
	resp    *http.Response
	excerpt []byte
}

func (h *prewarmHandler) Header(resp *http.Response) h1.Action {
	h.resp = resp
	return h1.Continue
}

func (h *prewarmHandler) Body(p []byte, _ time.Time, _ int64) h1.Action {
	var a h1.Action
	h.excerpt, a = h.c.appendExcerpt(h.excerpt, p)
	return a
}

// prewarmFast is one prewarm GET through the poller client: the same
// outcomes as through net/http (see Prewarm).
func (c *StreamClient) prewarmFast(ctx context.Context) error {
	h := &prewarmHandler{c: c}
	info, err := c.fast.t.Do(ctx, c.fast.get, nil, h1.Pooled, h)
	// A GET that met a pooled connection the server had closed is sent
	// again on a new one, as net/http does for idempotent requests.
	if err != nil && info.Reused && !info.Responded && ctx.Err() == nil {
		*h = prewarmHandler{c: c}
		_, err = c.fast.t.Do(ctx, c.fast.get, nil, h1.Dial, h)
	}
	if h.resp == nil {
		if err == nil {
			err = h1.ErrClosedBeforeResponse
		}
		if cl := ClientLimitOf(err); cl != nil {
			return cl
		}
		return &StreamError{Err: err}
	}
	switch {
	case h.resp.StatusCode/100 != 2 && h.resp.StatusCode != http.StatusNotFound:
		return &HTTPError{StatusCode: h.resp.StatusCode, Body: excerpt(c.maskKey(h.excerpt)), RetryAfter: h.resp.Header.Get("Retry-After")}
	case err != nil && errors.Is(err, ctx.Err()): // the body did not arrive in time
		return &StreamError{Err: ctx.Err(), Responded: true}
	}
	return nil
}
