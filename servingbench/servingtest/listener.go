package servingtest

import (
	"context"
	"net"
	"sync"
	"syscall"
)

// memoryAddr is the address of every Listener: a host under the reserved
// .invalid domain, so that a client that dials it over the network fails
// at once instead of reaching some other server.
const memoryAddr = "servingtest.invalid:80"

// Listener is an in-memory net.Listener. Each Dial returns one end of a
// net.Pipe and Accept the other: no sockets, no file descriptors, no
// kernel buffers, so a server and a client on a Listener can run inside a
// testing/synctest bubble, where every read and write is a step of the
// bubble and the bubble's fake clock moves only when both sides wait.
//
// Plug it into a client with DialContext:
//
//	&http.Transport{DialContext: l.DialContext}
//
// A Listener is safe for concurrent use.
type Listener struct {
	conns chan net.Conn
	quit  chan struct{}
	once  sync.Once
}

// NewListener returns an open in-memory listener.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), quit: make(chan struct{})}
}

var _ net.Listener = (*Listener)(nil)

// Accept waits for the next Dial and returns the server's end of the
// connection; after Close it returns net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.quit:
		return nil, &net.OpError{Op: "accept", Net: "memory", Addr: l.Addr(), Err: net.ErrClosed}
	}
}

// Close stops Accept and makes later dials fail with "connection refused".
// Connections already accepted are not closed. Close is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.quit) })
	return nil
}

// Addr is "servingtest.invalid:80" on network "memory".
func (l *Listener) Addr() net.Addr { return memoryAddress{} }

// Dial connects to the listener; it waits for Accept.
func (l *Listener) Dial() (net.Conn, error) {
	return l.DialContext(context.Background(), "memory", memoryAddr)
}

// DialContext connects to the listener whatever network and address it is
// given, so that it can serve as http.Transport.DialContext. It waits for
// Accept until ctx is done; once the listener is closed it fails with an
// error that matches syscall.ECONNREFUSED.
func (l *Listener) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.quit:
		server.Close()
		client.Close()
		return nil, &net.OpError{Op: "dial", Net: "memory", Addr: l.Addr(), Err: syscall.ECONNREFUSED}
	case <-ctx.Done():
		server.Close()
		client.Close()
		return nil, &net.OpError{Op: "dial", Net: "memory", Addr: l.Addr(), Err: ctx.Err()}
	}
}

type memoryAddress struct{}

func (memoryAddress) Network() string { return "memory" }
func (memoryAddress) String() string  { return memoryAddr }
