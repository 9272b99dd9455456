// Package h1 is a streaming HTTP/1.1 client for plain TCP whose responses
// are read by poller goroutines, each serving many connections, with the
// kernel's receive time of every read (internal/rxtime). There are as
// many pollers as CPUs the client may run on (its affinity mask, at most
// GOMAXPROCS): one for a client confined to one core.
//
// A goroutine-per-connection client (net/http) pays, for every small
// chunk a streaming server flushes, a goroutine wake-up through the
// runtime's network poller, a read that finds the bytes, and a read that
// finds nothing and parks again. Here the connections' descriptors are
// taken out of the runtime's poller and watched by a poller's epoll
// instance, which the runtime watches in turn: the poller's goroutine
// reads each of its connections once per readiness, decodes the framing
// in place and hands the body's bytes to the request's Handler, on the
// same goroutine, so that a chunk costs one recvmsg and no goroutine
// switch.
//
// What it speaks: HTTP/1.1 requests with a body, responses with
// Content-Length, chunked or close-delimited bodies (1xx responses
// skipped), keep-alive with an idle pool, no pipelining. Response heads
// are parsed by net/http (http.ReadResponse), chunked bodies by
// internal/chunked, which accepts what net/http accepts. No TLS and no
// proxies: a caller sends those through net/http. Linux only (Supported).
package h1
