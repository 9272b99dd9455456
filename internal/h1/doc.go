// Package h1 is a streaming HTTP/1.1 client for plain TCP whose responses
// are read by one poller goroutine for all connections, with the kernel's
// receive time of every read (internal/rxtime).
//
// A goroutine-per-connection client (net/http) pays, for every small
// chunk a streaming server flushes, a goroutine wake-up through the
// runtime's network poller, a read that finds the bytes, and a read that
// finds nothing and parks again. Here the connections' descriptors are
// taken out of the runtime's poller and watched by an epoll instance of
// our own, which the runtime watches in turn: one goroutine reads each
// connection once per readiness, decodes the framing in place and hands
// the body's bytes to the request's Handler, on the same goroutine, so
// that a chunk costs one recvmsg and no goroutine switch.
//
// What it speaks: HTTP/1.1 requests with a body, responses with
// Content-Length, chunked or close-delimited bodies (1xx responses
// skipped), keep-alive with an idle pool, no pipelining. Response heads
// are parsed by net/http (http.ReadResponse), chunked bodies by
// internal/chunked, which accepts what net/http accepts. No TLS and no
// proxies: a caller sends those through net/http. Linux only (Supported).
package h1
