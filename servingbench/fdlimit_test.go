package servingbench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPeakInFlight(t *testing.T) {
	tests := []struct {
		n, maxConcurrency, want int
	}{
		{3000, 0, 3000},
		{3000, 64, 64},
		{10, 64, 10},
		{10, 10, 10},
		{0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d/max=%d", tt.n, tt.maxConcurrency), func(t *testing.T) {
			got := PeakInFlight(tt.n, tt.maxConcurrency)
			assert.Equal(t, tt.want, got, "PeakInFlight(%d, %d) = %d, want %d", tt.n, tt.maxConcurrency, got, tt.want)
		})
	}
}

func TestFileBudgetCheck(t *testing.T) {
	tests := []struct {
		name   string
		budget FileBudget
		limit  FileLimit
		need   uint64
		fit    int // -1: Check passes
		msg    string
	}{
		{name: "embedded server at rate inf over 1024",
			budget: FileBudget{InFlight: 3000, PerRequest: 2}, limit: FileLimit{Soft: 1024, Hard: 1024, Open: 12},
			need: 6044, fit: 490,
			msg: "servingbench: 3000 requests in flight need about 6044 open files (2 per request, 12 open now, 32 spare), over this process's open-file limit of 1024 (hard limit 1024); at most 490 fit"},
		{name: "remote server, zero PerRequest and Spare are 1 and 32",
			budget: FileBudget{InFlight: 1000}, limit: FileLimit{Soft: 1024, Hard: 4096, Open: 10},
			need: 1042, fit: 982,
			msg: "servingbench: 1000 requests in flight need about 1042 open files (1 per request, 10 open now, 32 spare), over this process's open-file limit of 1024 (hard limit 4096); at most 982 fit"},
		{name: "exactly at the limit fits",
			budget: FileBudget{InFlight: 100, PerRequest: 2, Spare: 4}, limit: FileLimit{Soft: 214, Hard: 214, Open: 10},
			need: 214, fit: -1},
		{name: "max concurrency that fits",
			budget: FileBudget{InFlight: PeakInFlight(3000, 256), PerRequest: 2}, limit: FileLimit{Soft: 1024, Hard: 1024, Open: 12},
			need: 556, fit: -1},
		{name: "nothing fits",
			budget: FileBudget{InFlight: 1, Spare: 64}, limit: FileLimit{Soft: 16, Hard: 16, Open: 20},
			need: 85, fit: 0,
			msg: "servingbench: 1 requests in flight need about 85 open files (1 per request, 20 open now, 64 spare), over this process's open-file limit of 16 (hard limit 16); at most 0 fit"},
		{name: "unknown limit passes",
			budget: FileBudget{InFlight: 1 << 20}, limit: FileLimit{},
			need: 1<<20 + 32, fit: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.need, tt.budget.Need(tt.limit.Open), "Need(%d)", tt.limit.Open)
			err := tt.budget.Check(tt.limit)
			if tt.fit < 0 {
				require.NoError(t, err, "Check(%+v)", tt.limit)
				return
			}
			var fe *FileLimitError
			require.ErrorAs(t, err, &fe, "Check(%+v) = %v, want *FileLimitError", tt.limit, err)
			assert.Equal(t, tt.need, fe.Need)
			assert.Equal(t, tt.fit, fe.Fit)
			assert.Equal(t, tt.msg, err.Error())
			if tt.fit > 0 {
				fitting := tt.budget
				fitting.InFlight = fe.Fit
				assert.NoError(t, fitting.Check(tt.limit), "Fit %d must fit", fe.Fit)
				fitting.InFlight++
				assert.Error(t, fitting.Check(tt.limit), "Fit %d must be the most that fits", fe.Fit)
			}
		})
	}
}

// emfileDial is a dial error as the net package returns it when the
// process is out of descriptors.
func emfileDial(errno syscall.Errno) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)}
}

func TestClientLimitOf(t *testing.T) {
	limit, err := CurrentFileLimit()
	require.NoError(t, err)
	tests := []struct {
		name   string
		err    error
		want   bool
		system bool
	}{
		{name: "dial EMFILE inside url.Error", err: &url.Error{Op: "Post", URL: "http://x/v1/completions", Err: emfileDial(syscall.EMFILE)}, want: true},
		{name: "dial ENFILE", err: emfileDial(syscall.ENFILE), want: true, system: true},
		{name: "accept EMFILE", err: &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}, want: true},
		{name: "open EMFILE", err: &os.PathError{Op: "open", Path: "r.json", Err: syscall.EMFILE}, want: true},
		{name: "DNS error carrying the cause as text",
			err:  &net.DNSError{Err: "dial udp 127.0.0.53:53: socket: too many open files", Name: "h"},
			want: true},
		{name: "already classified", err: fmt.Errorf("wrapped: %w", &ClientLimitError{Limit: 7, Err: syscall.EMFILE}), want: true},
		{name: "connection refused is the server's", err: emfileDial(syscall.ECONNREFUSED)},
		{name: "nil", err: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClientLimitOf(tt.err)
			if !tt.want {
				assert.Nil(t, got, "ClientLimitOf(%v) = %v, want nil", tt.err, got)
				return
			}
			require.NotNil(t, got, "ClientLimitOf(%v) = nil, want a *ClientLimitError", tt.err)
			assert.Equal(t, tt.system, got.System)
			assert.Equal(t, "client: too many open files", ErrorReason(got))
			if got.Limit == 7 {
				return
			}
			assert.Equal(t, limit.Soft, got.Limit)
			assert.ErrorIs(t, got, tt.err, "the cause stays in the chain")
			want := "client: too many open files"
			if tt.system {
				want += " in system"
			}
			if limit.Soft > 0 {
				want += fmt.Sprintf(" (limit %d)", limit.Soft)
			}
			assert.Equal(t, want, got.Error())
		})
	}
}

// TestRunReportsEMFILEAsClientLimit runs requests through a transport whose
// every other dial fails with EMFILE: those requests fail with
// *ClientLimitError, are grouped under the client's reason, and nothing
// says "transport error".
func TestRunReportsEMFILEAsClientLimit(t *testing.T) {
	stream := "data: " + tokenChunk("a") + "\n\ndata: " + tokenChunk("b") + "\n\ndata: [DONE]\n\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, stream)
	}))
	defer srv.Close()
	var dials atomic.Int64
	var d net.Dialer
	hc := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1)%2 == 0 {
				return nil, emfileDial(syscall.EMFILE)
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
	cfg := testConfig(srv.URL)
	cfg.HTTPClient = hc
	client, err := NewCompletions(cfg)
	require.NoError(t, err)
	reqs := make([]Request, 12)
	for i := range reqs {
		reqs[i] = Request{Prompt: "p", MaxTokens: 2}
	}
	rep, err := Run(context.Background(), Config{Client: client, Requests: reqs, MaxConcurrency: 1})
	require.NoError(t, err)

	require.Positive(t, rep.Failed, "some dials failed")
	require.Positive(t, rep.Completed, "some dials succeeded")
	require.Len(t, rep.Errors, 1)
	require.Equal(t, ErrorCount{Reason: "client: too many open files", Count: rep.Failed, Example: "client: too many open files (limit 20000)"}, rep.Errors[0])
	for _, r := range rep.Results {
		if r.OK() {
			continue
		}
		var cl *ClientLimitError
		require.ErrorAs(t, r.Err, &cl, "request %d: %v", r.Index, r.Err)
		assert.ErrorIs(t, r.Err, syscall.EMFILE)
		assert.NotContains(t, r.Err.Error(), "transport error")
		if runtime.GOOS == "linux" {
			assert.Regexp(t, `^client: too many open files \(limit \d+\)$`, r.Err.Error())
		}
	}
}
