package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/testpki"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// plantedKey is the API key the CLI gets through OPENAI_API_KEY; no output
// may contain it, nor a part of it.
const plantedKey = "sk-planted-XYZ"

// Bounds on waits for what must happen: far beyond any machine's delay,
// so that reaching one is a hang, never slowness. No test asserts on how
// long the CLI took; each checks what the interrupt did instead (requests
// cancelled in flight, the report written or cut short).
const (
	startupTimeout = 60 * time.Second // from exec to the start of the run
	hangBound      = 60 * time.Second // from a signal to what it must cause
)

// servingbenchBinary builds the CLI into a temporary directory. Signals
// need a real process: their handling lives in main, outside run.
func servingbenchBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the CLI binary")
	}
	bin := filepath.Join(t.TempDir(), "servingbench")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return bin
}

// cliProcess is a running servingbench with its output collected.
type cliProcess struct {
	cmd     *exec.Cmd
	stdout  lockedBuffer
	stderr  lockedBuffer
	started chan struct{} // closed when the run has started ("Maximum request concurrency:")
	resume  chan struct{} // with holdStdout: closed to read stdout on
	read    chan struct{} // closed when stdout is read to its end
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// lockedBuffer collects output and tells waiters when it grows.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	change chan struct{} // closed and replaced on every write
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.change != nil {
		close(l.change)
		l.change = nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until the output contains substr, and reports whether it
// did before timeout.
func (l *lockedBuffer) waitFor(substr string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		if strings.Contains(l.b.String(), substr) {
			l.mu.Unlock()
			return true
		}
		if l.change == nil {
			l.change = make(chan struct{})
		}
		change := l.change
		l.mu.Unlock()
		select {
		case <-change:
		case <-deadline:
			return false
		}
	}
}

// cliOptions adjust startCLI.
type cliOptions struct {
	// holdStdout stops reading stdout once the run has started, until
	// resume is closed: the CLI's writes to stdout then block once the
	// pipe is full.
	holdStdout bool
	// env is added to the process's environment.
	env []string
}

func startCLI(t *testing.T, args ...string) *cliProcess {
	return startCLIWith(t, cliOptions{}, args...)
}

func startCLIWith(t *testing.T, opt cliOptions, args ...string) *cliProcess {
	t.Helper()
	p := &cliProcess{
		cmd:     exec.Command(servingbenchBinary(t), args...),
		started: make(chan struct{}),
		resume:  make(chan struct{}),
		read:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.cmd.Env = append(append(os.Environ(), "OPENAI_API_KEY="+plantedKey), opt.env...)
	p.cmd.Stderr = &p.stderr
	// An *os.File as Stdout: the child writes into the pipe itself, so
	// Wait does not wait for our reads and a held pipe fills up.
	out, w, err := os.Pipe()
	require.NoError(t, err)
	p.cmd.Stdout = w
	err = p.cmd.Start()
	w.Close()
	if err != nil {
		out.Close()
		require.NoError(t, err)
	}
	if !opt.holdStdout {
		close(p.resume)
	}
	go func() {
		defer close(p.read)
		defer out.Close()
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			p.stdout.Write(append(sc.Bytes(), '\n'))
			if strings.HasPrefix(sc.Text(), "Maximum request concurrency:") {
				once.Do(func() { close(p.started) })
				<-p.resume
			}
		}
	}()
	go func() {
		defer close(p.done)
		p.waitErr = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		select {
		case <-p.resume:
		default:
			close(p.resume)
		}
		<-p.read
	})
	return p
}

// waitStarted waits for the benchmark run to start.
func (p *cliProcess) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-p.started:
	case <-p.done:
		t.Fatalf("servingbench exited before the run started: %v\nstdout:\n%s\nstderr:\n%s", p.waitErr, p.stdout.String(), p.stderr.String())
	case <-time.After(startupTimeout):
		t.Fatalf("the run did not start within %v\nstdout:\n%s\nstderr:\n%s", startupTimeout, p.stdout.String(), p.stderr.String())
	}
}

// waitExit waits for the process to exit and returns its exit status and
// the time it took since from. Unless stdout is held, its output has then
// been read to the end.
func (p *cliProcess) waitExit(t *testing.T, from time.Time) (int, time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(hangBound):
		t.Fatalf("servingbench still running %v after SIGINT\nstdout:\n%s\nstderr:\n%s", time.Since(from), p.stdout.String(), p.stderr.String())
	}
	took := time.Since(from)
	select {
	case <-p.resume:
		<-p.read
	default:
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.ExitCode(), took
	}
	require.NoError(t, p.waitErr)
	return 0, took
}

// interruptModel is the server of the interrupt tests: a request of 64
// tokens takes 6.4 s, so a request seen in flight is still in flight when
// the SIGINT that follows arrives.
func interruptModel() servingtest.Model {
	return servingtest.Model{Name: "sim-interrupt", DecodeBase: 100 * time.Millisecond}
}

// waitInFlight waits until srv has received a request that is still
// running: the run is dispatching, past its connection prewarm.
func waitInFlight(t *testing.T, p *cliProcess, srv *servingtest.Server) {
	t.Helper()
	deadline := time.Now().Add(startupTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		for _, r := range srv.Truth() {
			if r.Done.IsZero() {
				return
			}
		}
		select {
		case <-tick.C:
		case <-p.done:
			t.Fatalf("servingbench exited before a request reached the server: %v\nstdout:\n%s\nstderr:\n%s", p.waitErr, p.stdout.String(), p.stderr.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request reached the server within %v\nstdout:\n%s\nstderr:\n%s", startupTimeout, p.stdout.String(), p.stderr.String())
		}
	}
}

// TestInterruptSavesPartialReport: the first SIGINT stops the run, and the
// CLI still prints the result block and writes the result file, both
// marked partial. The SIGINT is sent once the server has a request of the
// run in flight.
func TestInterruptSavesPartialReport(t *testing.T) {
	srv := servingtest.NewServer(interruptModel())
	defer srv.Close()
	dir := t.TempDir()
	p := startCLI(t, "--base-url", srv.URL, "--model", srv.Model().Name, "--no-warmup",
		"--dataset-name", "random", "--num-prompts", "2000", "--request-rate", "50",
		"--random-input-len", "32", "--random-output-len", "64",
		"--save-result", "--save-detailed", "--result-dir", dir, "--disable-tqdm")
	p.waitStarted(t)
	waitInFlight(t, p, srv)
	sent := time.Now()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	code, took := p.waitExit(t, sent)
	stdout, stderr := p.stdout.String(), p.stderr.String()
	t.Logf("exit status %d, %v after SIGINT\nstdout:\n%s\nstderr:\n%s", code, took, stdout, stderr)

	assert.Contains(t, stdout, "============ Serving Benchmark Result ============")
	assert.Regexp(t, `(?m)^Partial:\s+yes \(cancelled\)`, stdout)
	assert.Contains(t, stderr, "interrupted")
	m := regexp.MustCompile(`(?m)^Result saved to (.+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no 'Result saved to' line")
	data, err := os.ReadFile(strings.TrimSpace(m[1]))
	require.NoError(t, err)
	var file struct {
		NumPrompts  int            `json:"num_prompts"`
		Completed   int            `json:"completed"`
		Failed      int            `json:"failed"`
		Partial     bool           `json:"partial"`
		ErrorCounts map[string]int `json:"error_counts"`
		Errors      []string       `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	assert.True(t, file.Partial, "result file partial")
	assert.Equal(t, 2000, file.NumPrompts)
	sentN := file.Completed + file.Failed
	assert.Positive(t, sentN, "requests measured")
	assert.Less(t, sentN, 2000, "requests sent: dispatch must stop at the interrupt")
	assert.Len(t, file.Errors, sentN, "errors, one per request sent")
	total := 0
	for _, n := range file.ErrorCounts {
		total += n
	}
	assert.Equal(t, file.Failed, total, "error_counts = %v", file.ErrorCounts)
	assert.Positive(t, file.ErrorCounts["cancelled"], "requests cancelled in flight, error_counts = %v", file.ErrorCounts)
	// Exit status 0 with a measured success, 1 when none succeeded; never
	// the 130 of an abandoned run.
	if file.Completed > 0 {
		assert.Equal(t, 0, code, "exit status")
	} else {
		assert.Equal(t, 1, code, "exit status")
	}
	for name, out := range map[string]string{"stdout": stdout, "stderr": stderr, "result file": string(data)} {
		assert.NotContains(t, out, plantedKey[:6], "%s contains the API key", name)
	}
}

// manyPercentiles is a --metric-percentiles value that makes the result
// block far longer (about 200 KB with four metrics) than a pipe holds
// (64 KiB on Linux).
func manyPercentiles() string {
	ps := make([]string, 0, 999)
	for i := 1; i < 1000; i++ {
		ps = append(ps, strconv.FormatFloat(float64(i)/10, 'f', -1, 64))
	}
	return strings.Join(ps, ",")
}

// TestSecondInterruptExitsAtOnce: a second SIGINT while the first is being
// handled exits with status 130 without waiting for the report. The test
// stops reading the CLI's stdout once the run starts and asks for a result
// block longer than the pipe holds, so the first SIGINT's handling cannot
// finish: it blocks writing the block until the test reads again, which it
// does only after the process has exited.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	srv := servingtest.NewServer(interruptModel())
	defer srv.Close()
	dir := t.TempDir()
	p := startCLIWith(t, cliOptions{holdStdout: true}, "--base-url", srv.URL, "--model", srv.Model().Name, "--no-warmup",
		"--dataset-name", "random", "--num-prompts", "200", "--request-rate", "inf",
		"--random-input-len", "32", "--random-output-len", "64",
		"--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", manyPercentiles(),
		"--save-result", "--result-dir", dir, "--disable-tqdm")
	p.waitStarted(t)
	// Once a request is in flight the run has started: the first SIGINT
	// leads to the report, not to the one line of a run that did not start.
	waitInFlight(t, p, srv)
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	// Wait for the first SIGINT to be handled: two signals sent before
	// the process takes the first are merged into one by the kernel.
	if !p.stderr.waitFor("interrupted", hangBound) {
		t.Fatalf("the first SIGINT was not acknowledged within %v\nstderr:\n%s", hangBound, p.stderr.String())
	}
	second := time.Now()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt), "the first SIGINT's handling cannot end while stdout is held")
	code, took := p.waitExit(t, second)
	close(p.resume)
	<-p.read
	t.Logf("exit status %d, %v after the second SIGINT\nstderr:\n%s", code, took, p.stderr.String())
	assert.Equal(t, 130, code, "exit status")
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok {
		assert.False(t, ws.Signaled(), "killed by a signal instead of exiting")
	}
	assert.NotContains(t, p.stdout.String(), "Result saved to", "the report was cut short")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	assert.Empty(t, files, "result files")
}

// TestCLIKeyNeverWritten runs the CLI against a server over mutual TLS
// that checks the Authorization header and a secret header given with
// --header, and echoes the request headers in its errors: the key and
// the header must reach the server, and neither, nor the client key's
// PEM, appear in any output; nor does the key when its file is refused.
func TestCLIKeyNeverWritten(t *testing.T) {
	const headerKey = "hk-planted-QRS"
	pki, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	var n, all, authorized atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all.Add(1)
		if r.Header.Get("Authorization") == "Bearer "+plantedKey && r.Header.Get("X-Api-Key") == headerKey {
			authorized.Add(1)
		}
		echo := fmt.Sprintf("your headers: %q", r.Header)
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"message":%q}}`, echo)
			return
		}
		switch i := n.Add(1); {
		case i%3 == 0:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"message":%q}}`, echo)
		case i%3 == 2:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"error\":{\"message\":%q}}\n\n", echo)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, `data: {"choices":[{"index":0,"text":" w"}]}`+"\n\n"+
				`data: {"choices":[{"index":0,"text":" w"}]}`+"\n\ndata: [DONE]\n\n")
		}
	}))
	srv.TLS = pki.ServerConfig(true)
	srv.StartTLS()
	defer srv.Close()

	// What of the client key could leak: its base64 lines.
	var keyLines []string
	for _, line := range strings.Split(string(pki.Client.KeyPEM), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") {
			keyLines = append(keyLines, line)
		}
	}
	require.NotEmpty(t, keyLines)
	assertClean := func(t *testing.T, outputs map[string]string) {
		t.Helper()
		for name, out := range outputs {
			assert.NotContains(t, out, plantedKey[:6], "%s contains the API key:\n%s", name, out)
			assert.NotContains(t, out, headerKey[:6], "%s contains the --header secret:\n%s", name, out)
			for _, line := range keyLines {
				assert.NotContains(t, out, line[:16], "%s contains the client key:\n%s", name, out)
			}
		}
	}

	dir := t.TempDir()
	tlsFlags := []string{"--ca-cert", pki.CAFile, "--client-cert", pki.ClientCertFile, "--client-key", pki.ClientKeyFile}
	p := startCLI(t, append([]string{"--base-url", srv.URL, "--model", "m", "--dataset-name", "random", "--num-prompts", "30",
		"--random-input-len", "8", "--random-output-len", "2", "--save-result", "--save-detailed",
		"--result-dir", dir, "--disable-tqdm", "--header", "X-Api-Key=" + headerKey, "x-request-tag=visible-tag"}, tlsFlags...)...)
	code, _ := p.waitExit(t, time.Now())
	stdout, stderr := p.stdout.String(), p.stderr.String()
	require.Equal(t, 0, code, "exit status\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Positive(t, authorized.Load(), "requests with Authorization: Bearer %s and X-Api-Key", plantedKey)
	assert.Equal(t, all.Load(), authorized.Load(), "requests authorized, of all the server received")

	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1, "result files")
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Contains(t, string(data), "your headers", "the result file keeps the echoed errors")
	assert.Contains(t, string(data), "visible-tag", "a header that is no secret is echoed as is")
	assertClean(t, map[string]string{"stdout": stdout, "stderr": stderr, "result file": string(data)})

	// A key file refused, and a key given as the certificate: the
	// errors name the files, not what is in them.
	for _, flags := range [][]string{
		{"--ca-cert", pki.CAFile, "--client-cert", pki.ClientKeyFile, "--client-key", pki.ClientKeyFile},
		{"--ca-cert", pki.ClientKeyFile},
	} {
		p := startCLI(t, append([]string{"--base-url", srv.URL, "--model", "m", "--num-prompts", "2", "--disable-tqdm"}, flags...)...)
		code, _ := p.waitExit(t, time.Now())
		assert.Equal(t, 2, code, "exit status of a usage error")
		assert.Contains(t, p.stderr.String(), pki.ClientKeyFile, "the error names the file")
		assertClean(t, map[string]string{"stdout": p.stdout.String(), "stderr": p.stderr.String()})
	}
}

// TestCLITimeoutFlags: --stream-idle-timeout and --request-timeout reach
// the client, each with its own reason, against a server whose streams
// stall after one token.
func TestCLITimeoutFlags(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"choices":[{"index":0,"text":" w"}]}`+"\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	tests := []struct {
		flags  []string
		reason string
	}{
		{[]string{"--stream-idle-timeout", "0.3"}, "stream idle timeout"},
		{[]string{"--request-timeout", "0.5"}, "request timeout"},
		// Far apart, so that a first token read late cannot push the idle
		// timeout past the request timeout.
		{[]string{"--request-timeout", "4", "--stream-idle-timeout", "0.3"}, "stream idle timeout"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			args := append([]string{"--base-url", srv.URL, "--model", "m", "--dataset-name", "random",
				"--num-prompts", "4", "--random-input-len", "8", "--random-output-len", "4",
				"--no-warmup", "--disable-tqdm"}, tt.flags...)
			p := startCLI(t, args...)
			p.waitStarted(t)
			code, _ := p.waitExit(t, time.Now())
			stdout := p.stdout.String()
			assert.Equal(t, 1, code, "exit status (every request failed)\nstdout:\n%s\nstderr:\n%s", stdout, p.stderr.String())
			assert.Regexp(t, `(?m)^Failed requests:\s+4\b`, stdout)
			assert.Regexp(t, `(?m)^  `+tt.reason+`:\s+4\b`, stdout)
		})
	}
}
