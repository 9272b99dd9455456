// Package rxtime reads TCP connections with the kernel's receive
// timestamps, so that a client can tell when the bytes it reads arrived
// rather than when it got round to reading them.
//
// Wrap turns on SO_TIMESTAMPNS on a *net.TCPConn: the kernel then stamps
// every received segment with CLOCK_REALTIME as the network stack takes it
// in (software receive timestamps; TCP reports them since Linux 4.13), and
// every Read of the returned Conn is a recvmsg(2) whose control message
// carries the timestamp of the last segment the read consumed. Arrival
// gives that time for the last Read. Where the kernel cannot do it (other
// operating systems, a socket option refused), Conn reads as the
// connection it wraps and Arrival is always 0; Reason says why.
//
// One time covers the bytes queued together. A read that takes several
// segments gets the last one's time, and Linux merges a segment into the
// one queued before it when the reader has not taken that yet
// (tcp_try_coalesce, net/ipv4/tcp_input.c), keeping the newer time: seen
// here on 6.18, even a read of exactly the first segment's bytes then
// returns the second's time. So a time is exact for bytes read before
// more came in behind them, and otherwise an upper bound, between their
// arrival and the arrival of the last bytes queued with them; never later
// than the read. A client keeps its lag (read time minus arrival) below
// the gap between a stream's chunks to keep every chunk's time exact.
//
// The timestamp is CLOCK_REALTIME, the wall clock, while a client measures
// with Go's monotonic clock. A client relates the two at each read: taken
// right after the read returns, time.Now carries both clocks, and the lag
// (wall now minus the timestamp) is the difference of two wall-clock
// readings microseconds to milliseconds apart, subtracted from the
// monotonic reading. Only a wall-clock step that falls between a segment's
// arrival and its read distorts that one lag; see servingbench's stream
// reader for how it bounds the damage.
package rxtime

import (
	"crypto/tls"
	"net"
)

var _ net.Conn = (*Conn)(nil)

// NetConn returns the connection c wraps.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Kernel reports whether c's reads carry kernel receive timestamps.
func (c *Conn) Kernel() bool { return c.reason == nil }

// Reason is why c's reads carry no kernel receive timestamps; nil when
// they do.
func (c *Conn) Reason() error { return c.reason }

// Of returns the *Conn that c is or wraps: c itself, or the connection
// under a *tls.Conn (or any connection with a NetConn method), nil when
// there is none.
func Of(c net.Conn) *Conn {
	for c != nil {
		switch v := c.(type) {
		case *Conn:
			return v
		case *tls.Conn:
			c = v.NetConn()
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
