package servingbench

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// FileLimit is this process's limit on open file descriptors
// (RLIMIT_NOFILE, what "ulimit -n" shows) and how many it has open. Every
// request in flight holds at least one descriptor, its connection, so the
// limit bounds the concurrency a client machine can benchmark at. The zero
// value means nothing is known: Check then passes.
type FileLimit struct {
	// Soft is the limit in force; 0 when unknown (a system without
	// RLIMIT_NOFILE).
	Soft uint64
	// Hard is the ceiling an unprivileged process may raise Soft to; 0
	// when unknown.
	Hard uint64
	// Open is the number of descriptors that were open when the limit was
	// read (counted in /proc/self/fd or /dev/fd); 0 when unknown.
	Open int
}

func (l FileLimit) String() string {
	if l.Soft == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%d (hard limit %d, %d open)", l.Soft, l.Hard, l.Open)
}

// RaiseFileLimit raises the soft limit on open files to the hard limit, as
// SGLang's bench_serving does, and returns the limit then in force. The Go
// runtime already does this at start on most Unix systems (Go 1.19 and
// later); calling it again is cheap and idempotent, and covers a process
// that lowered its own limit. It never raises the hard limit. On a system
// without RLIMIT_NOFILE it returns the zero FileLimit and nil. When the
// raise fails the error says why and the FileLimit is the unchanged one.
func RaiseFileLimit() (FileLimit, error) { return raiseFileLimit() }

// CurrentFileLimit returns the limit in force without changing it (the
// zero FileLimit and nil on a system without RLIMIT_NOFILE).
func CurrentFileLimit() (FileLimit, error) { return currentFileLimit() }

// DefaultSpareFiles is FileBudget.Spare's default: descriptors kept for
// what a run opens beside its connections (DNS lookups, the result file,
// the tokenizer, the runtime's poller).
const DefaultSpareFiles = 32

// FileBudget estimates the file descriptors a run holds at its peak:
// InFlight*PerRequest connections plus the descriptors already open plus
// Spare. Its zero value needs nothing beyond what is open.
type FileBudget struct {
	// InFlight is the peak number of requests in flight; see PeakInFlight.
	InFlight int
	// PerRequest is the descriptors one request in flight holds: 1, its
	// connection, for a server in another process; 2 when the server runs
	// in this process (servingtest.Server), whose accepted socket counts
	// against the same limit. 0 means 1.
	PerRequest int
	// Spare is kept free for everything else; 0 means DefaultSpareFiles.
	Spare int
}

// PeakInFlight returns the most requests a run of n requests can have in
// flight: n, or maxConcurrency when that is set (> 0) and smaller. It is
// reached when the requests arrive faster than the server answers them
// (always, at an infinite request rate).
func PeakInFlight(n, maxConcurrency int) int {
	if maxConcurrency > 0 && maxConcurrency < n {
		return maxConcurrency
	}
	return max(n, 0)
}

func (b FileBudget) perRequest() int { return max(b.PerRequest, 1) }

func (b FileBudget) spare() int {
	if b.Spare <= 0 {
		return DefaultSpareFiles
	}
	return b.Spare
}

// Need returns the descriptors the run needs when open are already open.
func (b FileBudget) Need(open int) uint64 {
	return uint64(max(b.InFlight, 0))*uint64(b.perRequest()) + uint64(max(open, 0)) + uint64(b.spare())
}

// Check returns a *FileLimitError when the budget does not fit l.Soft,
// nil when it fits or l.Soft is unknown (0).
func (b FileBudget) Check(l FileLimit) error {
	need := b.Need(l.Open)
	if l.Soft == 0 || need <= l.Soft {
		return nil
	}
	fit := 0
	if room := int64(l.Soft) - int64(max(l.Open, 0)) - int64(b.spare()); room > 0 {
		fit = int(room / int64(b.perRequest()))
	}
	return &FileLimitError{Limit: l, Budget: b, Need: need, Fit: fit}
}

// FileLimitError is a run that cannot fit the open-file limit: found
// before anything is sent (FileBudget.Check), it is a limit of the client
// machine, not a failure of the server.
type FileLimitError struct {
	Limit  FileLimit
	Budget FileBudget
	// Need is the descriptors the run needs (FileBudget.Need).
	Need uint64
	// Fit is the most requests in flight that fit Limit; 0 when none do.
	Fit int
}

func (e *FileLimitError) Error() string {
	return fmt.Sprintf("servingbench: %d requests in flight need about %d open files (%d per request, %d open now, %d spare), over this process's open-file limit of %d (hard limit %d); at most %d fit",
		e.Budget.InFlight, e.Need, e.Budget.perRequest(), e.Limit.Open, e.Budget.spare(), e.Limit.Soft, e.Limit.Hard, e.Fit)
}

// clientLimitReason is ClientLimitError's Reason.
const clientLimitReason = "client: too many open files"

// ClientLimitError is a request that failed because this process, the
// benchmark client, ran out of file descriptors (EMFILE; ENFILE when the
// whole system's table is full) while dialling or opening a file. It is a
// limit of the client machine, never the server's failure: raise
// "ulimit -n" or lower the concurrency.
type ClientLimitError struct {
	// Limit is the soft RLIMIT_NOFILE when the error was classified; 0
	// when unknown.
	Limit uint64
	// System is true for ENFILE, the system-wide limit.
	System bool
	// Err is the cause.
	Err error
}

func (e *ClientLimitError) Error() string {
	s := clientLimitReason
	if e.System {
		s += " in system"
	}
	if e.Limit > 0 {
		s += fmt.Sprintf(" (limit %d)", e.Limit)
	}
	return s
}

func (e *ClientLimitError) Unwrap() error { return e.Err }

// Reason is "client: too many open files", for EMFILE and ENFILE alike.
func (e *ClientLimitError) Reason() string { return clientLimitReason }

// ClientLimitOf returns err as a *ClientLimitError when it is one or its
// cause is EMFILE or ENFILE (an errno in its chain, or, for errors that
// carry the cause only as text such as *net.DNSError, the errno's
// message), else nil.
func ClientLimitOf(err error) *ClientLimitError {
	if err == nil {
		return nil
	}
	var cl *ClientLimitError
	if errors.As(err, &cl) {
		return cl
	}
	system := false
	switch {
	case errors.Is(err, syscall.EMFILE):
	case errors.Is(err, syscall.ENFILE):
		system = true
	default:
		msg := err.Error()
		switch {
		case strings.Contains(msg, syscall.ENFILE.Error()):
			system = true
		case strings.Contains(msg, syscall.EMFILE.Error()):
		default:
			return nil
		}
	}
	l, _ := currentFileLimit()
	return &ClientLimitError{Limit: l.Soft, System: system, Err: err}
}
