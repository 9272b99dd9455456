package llamacpp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// HomeEnv names the environment variable that overrides the install
// directory of .ci/install-llamacpp.
const HomeEnv = "SERVINGBENCH_LLAMACPP_HOME"

// InstallCommand is what a developer runs to install the server; skip
// messages name it.
const InstallCommand = ".ci/install-llamacpp"

// Files of an install directory, relative to it. .ci/install-llamacpp
// writes them; keep the two in step.
const (
	// UnavailableFile holds the reason the last install attempt failed for
	// a cause outside the project (an unresolvable sid package, an
	// unreachable mirror). It is removed by a successful install.
	UnavailableFile = "UNAVAILABLE"
	// ReadyFile is written last by a successful install: "key value"
	// lines (llama.cpp-tools version, models, CPU backend).
	ReadyFile = "READY"
	rootDir   = "root"
	libDir    = "root/usr/lib/x86_64-linux-gnu"
	serverBin = "root/usr/bin/llama-server"
	quantize  = "root/usr/bin/llama-quantize"
	// ModelF16 and ModelQ8 are the tiny Qwen3-vocabulary model and its
	// llama-quantize Q8_0 copy.
	ModelF16 = "models/tiny-qwen3-chain-f16.gguf"
	ModelQ8  = "models/tiny-qwen3-chain-q8_0.gguf"
	// backendFile names the ggml CPU backend plugin chosen for this CPU.
	backendFile = "ggml-backend"
)

// Install is a llama.cpp server installed by .ci/install-llamacpp: Debian
// sid's llama.cpp-tools unpacked under Home and run through sid's own
// dynamic loader, with the models written next to it.
type Install struct {
	// Home is the install directory.
	Home string
	// Version is the llama.cpp-tools package version.
	Version string
	// Backend is the ggml CPU backend plugin (GGML_BACKEND_PATH).
	Backend string
}

// DefaultHome returns the install directory: $SERVINGBENCH_LLAMACPP_HOME,
// else ${XDG_CACHE_HOME:-$HOME/.cache}/servingbench/llamacpp, as in
// .ci/install-llamacpp.
func DefaultHome() (string, error) {
	if h := os.Getenv(HomeEnv); h != "" {
		return h, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("llamacpp: no %s, XDG_CACHE_HOME or HOME: %w", HomeEnv, err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "servingbench", "llamacpp"), nil
}

// ErrNotInstalled is wrapped by Open's error when the directory holds no
// complete install.
var ErrNotInstalled = errors.New("llama.cpp server not installed")

// UnavailableError is Open's error when the last install attempt recorded
// an external reason for failing.
type UnavailableError struct {
	Home   string
	Reason string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("llama.cpp server unavailable for a reason outside servingbench (%s/%s): %s",
		e.Home, UnavailableFile, e.Reason)
}

// Open returns the install in home. It fails with an *UnavailableError
// when the install step recorded an external failure, and with an error
// wrapping ErrNotInstalled when the install is missing or incomplete.
func Open(home string) (*Install, error) {
	if b, err := os.ReadFile(filepath.Join(home, UnavailableFile)); err == nil {
		return nil, &UnavailableError{Home: home, Reason: strings.TrimSpace(string(b))}
	}
	ready, err := os.ReadFile(filepath.Join(home, ReadyFile))
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w in %s (no %s)", ErrNotInstalled, home, ReadyFile)
	}
	in := &Install{Home: home}
	for _, line := range strings.Split(string(ready), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == "llama.cpp-tools" {
			in.Version = v
		}
	}
	b, err := os.ReadFile(filepath.Join(home, backendFile))
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w in %s (no %s)", ErrNotInstalled, home, backendFile)
	}
	in.Backend = strings.TrimSpace(string(b))
	for _, p := range []string{in.loader(), in.path(serverBin), in.path(ModelF16), in.path(ModelQ8), in.Backend} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("llamacpp: %w in %s: %v", ErrNotInstalled, home, err)
		}
	}
	return in, nil
}

// Model returns the path of a model file of the install (ModelF16,
// ModelQ8).
func (in *Install) Model(name string) string { return in.path(name) }

func (in *Install) path(rel string) string { return filepath.Join(in.Home, rel) }

// loader is sid's dynamic loader, which runs sid's binaries against sid's
// libc on an older host.
func (in *Install) loader() string { return in.path(libDir + "/ld-linux-x86-64.so.2") }

// command returns argv running the sid binary bin (relative to Home)
// through sid's loader with sid's libraries.
func (in *Install) command(bin string, args ...string) []string {
	lib := in.path(libDir)
	return append([]string{in.loader(), "--library-path", lib + ":" + lib + "/llama", in.path(bin)}, args...)
}

// environ returns the environment for a sid binary: the host's, minus
// llama.cpp's LLAMA_ARG_* overrides (only our flags configure the server),
// plus GGML_BACKEND_PATH.
func (in *Install) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LLAMA_ARG_") && !strings.HasPrefix(kv, "GGML_BACKEND_PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, "GGML_BACKEND_PATH="+in.Backend)
}
