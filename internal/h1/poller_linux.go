//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package h1

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/servingbench/servingbench/internal/rxtime"
)

// recvBufferSize is the poller's receive buffer, shared by all its
// connections: a read's bytes are decoded and handed on before the next
// connection is read.
const recvBufferSize = 64 << 10

// maxEvents bounds the readiness events taken per epoll_wait.
const maxEvents = 256

// poller reads the connections registered with it on one goroutine. Its
// epoll instance is edge-triggered on the connections: a readiness is
// reported once, when bytes (or the peer's close) arrive, so that a
// connection read to empty costs no second poll of its socket; conn.ready
// reads on until it knows the socket is empty. The instance is itself
// watched by the Go runtime's poller (as a non-blocking os.File), so that
// the goroutine parks in the runtime, not in a system call, when nothing
// is ready.
type poller struct {
	epfd   int
	file   *os.File
	raw    syscall.RawConn
	evs    []unix.EpollEvent
	n      int
	waitFn func(uintptr) bool
	buf    []byte
	rcv    rxtime.Receiver
	batch  []*conn
	flags  []uint32 // of batch's events

	mu    sync.Mutex
	conns []*conn // by descriptor
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(epfd), "h1-epoll")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("h1: epoll descriptor: %w", err)
	}
	p := &poller{
		epfd:  epfd,
		file:  f,
		raw:   raw,
		evs:   make([]unix.EpollEvent, maxEvents),
		buf:   make([]byte, recvBufferSize),
		batch: make([]*conn, 0, maxEvents),
		flags: make([]uint32, 0, maxEvents),
	}
	p.waitFn = p.wait
	go p.loop()
	return p, nil
}

// wait is the RawConn read function: the ready connections without
// blocking, false (park until the epoll instance is readable) when none.
//
// The call never blocks, so it is made as a raw system call, outside the
// runtime's syscall accounting: a syscall the runtime is told of wakes
// its sysmon thread when that sleeps, for the whole machine being idle,
// and sysmon then wakes every 20 us until it has seen 1 ms without work.
// In the paced regime the client idles between a stream's chunks, and
// those wake-ups, context switches on the client's core, cost as much
// as the reads.
func (p *poller) wait(uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd),
			uintptr(unsafe.Pointer(&p.evs[0])), uintptr(len(p.evs)), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 || n == 0 {
			return false
		}
		p.n = int(n)
		return true
	}
}

func (p *poller) loop() {
	for {
		if err := p.raw.Read(p.waitFn); err != nil {
			return // stopped
		}
		p.mu.Lock()
		for _, ev := range p.evs[:p.n] {
			if fd := int(ev.Fd); fd < len(p.conns) && p.conns[fd] != nil {
				p.batch = append(p.batch, p.conns[fd])
				p.flags = append(p.flags, ev.Events)
			}
		}
		p.mu.Unlock()
		for i, c := range p.batch {
			c.ready(p, p.flags[i])
			p.batch[i] = nil
		}
		p.batch, p.flags = p.batch[:0], p.flags[:0]
	}
}

// add registers c's descriptor.
func (p *poller) add(c *conn) error {
	p.mu.Lock()
	for c.fd >= len(p.conns) {
		p.conns = append(p.conns, nil)
	}
	p.conns[c.fd] = c
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(c.fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.forget(c)
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// remove deregisters c's descriptor, which is still open.
func (p *poller) remove(c *conn) {
	unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	p.forget(c)
}

func (p *poller) forget(c *conn) {
	p.mu.Lock()
	if c.fd < len(p.conns) && p.conns[c.fd] == c {
		p.conns[c.fd] = nil
	}
	p.mu.Unlock()
}

// stop ends the poller's goroutine and closes its epoll instance; no
// connection may be registered.
func (p *poller) stop() { p.file.Close() }
