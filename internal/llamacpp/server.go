package llamacpp

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures a llama-server. The zero value serves the F16 model
// with 4 slots of 2048 tokens, 1 thread and no host prompt cache.
type Options struct {
	// Model is a model file of the install (ModelF16, ModelQ8) or any
	// other GGUF path; "" means ModelF16.
	Model string
	// Alias is the model name the server answers to; "" means "tiny-qwen3".
	Alias string
	// Parallel is the number of slots (-np); 0 means 4.
	Parallel int
	// Threads is -t; 0 means 1.
	Threads int
	// Context is the total context (-c), shared by the slots; 0 means 2048
	// per slot.
	Context int
	// CacheRAM is --cache-ram in MiB, the host prompt cache that lets a
	// repeated prompt skip its prefill; 0 turns it off.
	CacheRAM int
	// LogDir receives the server's log file; "" means os.TempDir().
	LogDir string
	// StartTimeout bounds the wait for /health; 0 means 60 s.
	StartTimeout time.Duration
	// Args are extra llama-server arguments, appended last (llama.cpp takes
	// the last value of a repeated flag). --host and --port are refused:
	// the server listens on 127.0.0.1 only.
	Args []string
}

// Server is a running llama-server on 127.0.0.1.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:PORT".
	URL string
	// Alias is the model name to send.
	Alias string
	// Log is the server's combined stdout and stderr.
	Log string

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Start launches llama-server on a free 127.0.0.1 port with --metrics and
// waits until /health answers 200. The caller must Close it. A port taken
// between choosing and binding is retried on another port.
func (in *Install) Start(ctx context.Context, opt Options) (*Server, error) {
	for _, a := range opt.Args {
		if a == "--host" || a == "--port" || strings.HasPrefix(a, "--host=") || strings.HasPrefix(a, "--port=") {
			return nil, fmt.Errorf("llamacpp: Options.Args: %s is not allowed (the server listens on 127.0.0.1 only)", a)
		}
	}
	var err error
	for range 3 {
		var s *Server
		if s, err = in.start(ctx, opt); err == nil || !errors.Is(err, errPortTaken) {
			return s, err
		}
	}
	return nil, err
}

var errPortTaken = errors.New("port taken")

func (in *Install) start(ctx context.Context, opt Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	model := cmp.Or(opt.Model, ModelF16)
	if !filepath.IsAbs(model) {
		model = in.path(model)
	}
	np := cmp.Or(opt.Parallel, 4)
	s := &Server{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		Alias:  cmp.Or(opt.Alias, "tiny-qwen3"),
		exited: make(chan struct{}),
	}
	args := []string{
		"-m", model, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"-t", strconv.Itoa(cmp.Or(opt.Threads, 1)), "-np", strconv.Itoa(np),
		"-c", strconv.Itoa(cmp.Or(opt.Context, 2048*np)), "-a", s.Alias,
		"--metrics", "--cache-ram", strconv.Itoa(opt.CacheRAM),
	}
	argv := in.command(serverBin, append(args, opt.Args...)...)
	log, err := os.CreateTemp(opt.LogDir, "llama-server-*.log")
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	defer log.Close()
	s.Log = log.Name()
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Env = in.environ()
	s.cmd.Stdout, s.cmd.Stderr = log, log
	killWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("llamacpp: starting %s: %w", argv[0], err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	if err := s.waitHealthy(ctx, cmp.Or(opt.StartTimeout, 60*time.Second)); err != nil {
		s.Close()
		if bytes.Contains(s.tail(), []byte("couldn't bind")) {
			return nil, fmt.Errorf("llamacpp: %w: %v", errPortTaken, err)
		}
		return nil, fmt.Errorf("llamacpp: %v; log %s ends:\n%s", err, s.Log, s.tail())
	}
	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/health", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("llama-server exited during startup: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("llama-server not healthy at %s after %v", s.URL, timeout)
		case <-tick.C:
		}
	}
}

// Close stops the server: SIGTERM, then SIGKILL after 10 s. It keeps the
// log file. Safe to call more than once.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return nil
}

// Metrics scrapes GET /metrics.
func (s *Server) Metrics(ctx context.Context) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("llamacpp: GET /metrics: HTTP %d (started without --metrics?)", resp.StatusCode)
	}
	return ParseMetrics(resp.Body)
}

// tail returns the last lines of the server log.
func (s *Server) tail() []byte {
	b, _ := os.ReadFile(s.Log)
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	return bytes.Join(lines[max(0, len(lines)-20):], []byte("\n"))
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("llamacpp: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
