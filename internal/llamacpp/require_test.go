package llamacpp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeInstall writes the files Open checks, as .ci/install-llamacpp lays
// them out, and returns the directory.
func fakeInstall(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	backend := filepath.Join(home, libDir, "ggml/backends0/libggml-cpu-x64.so")
	for _, rel := range []string{libDir + "/ld-linux-x86-64.so.2", serverBin, ModelF16, ModelQ8, backend} {
		p := rel
		if !filepath.IsAbs(p) {
			p = filepath.Join(home, rel)
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(home, backendFile), []byte(backend+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(home, ReadyFile), []byte("llama.cpp-tools 1:0.7.0+dfsg-2\nbackend "+backend+"\n"), 0o644))
	return home
}

func TestOpen(t *testing.T) {
	home := fakeInstall(t)
	in, err := Open(home)
	require.NoError(t, err)
	assert.Equal(t, "1:0.7.0+dfsg-2", in.Version)
	assert.Equal(t, filepath.Join(home, libDir, "ggml/backends0/libggml-cpu-x64.so"), in.Backend)
	assert.Equal(t, filepath.Join(home, ModelQ8), in.Model(ModelQ8))
	argv := in.command(serverBin, "-m", "x")
	assert.Equal(t, []string{in.loader(), "--library-path", filepath.Join(home, libDir) + ":" + filepath.Join(home, libDir) + "/llama", filepath.Join(home, serverBin), "-m", "x"}, argv)

	t.Run("incomplete", func(t *testing.T) {
		home := fakeInstall(t)
		require.NoError(t, os.Remove(filepath.Join(home, ModelQ8)))
		_, err := Open(home)
		assert.ErrorIs(t, err, ErrNotInstalled)
		assert.ErrorContains(t, err, ModelQ8)
	})
	t.Run("empty", func(t *testing.T) {
		_, err := Open(t.TempDir())
		assert.ErrorIs(t, err, ErrNotInstalled)
	})
	t.Run("unavailable wins over a stale install", func(t *testing.T) {
		home := fakeInstall(t)
		require.NoError(t, os.WriteFile(filepath.Join(home, UnavailableFile), []byte("apt cannot resolve llama.cpp-tools in Debian sid\n"), 0o644))
		_, err := Open(home)
		var un *UnavailableError
		require.ErrorAs(t, err, &un)
		assert.Equal(t, "apt cannot resolve llama.cpp-tools in Debian sid", un.Reason)
	})
}

func TestDecide(t *testing.T) {
	notInstalled := func() error { _, err := Open(t.TempDir()); return err }()
	unavailable := &UnavailableError{Home: "/c", Reason: "apt-get update of Debian sid failed"}
	for _, tc := range []struct {
		name    string
		err     error
		ci      bool
		want    Decision
		message string
	}{
		{"installed", nil, false, Run, ""},
		{"installed in CI", nil, true, Run, ""},
		{"not installed", notInstalled, false, Skip, "llama.cpp server not installed; run .ci/install-llamacpp"},
		{"not installed in CI", notInstalled, true, Fail, "CI is set but llamacpp: llama.cpp server not installed"},
		{"unavailable", unavailable, false, Skip, "!!! SKIPPING the real-server conformance suite: llama.cpp server unavailable for a reason outside servingbench (/c/UNAVAILABLE): apt-get update of Debian sid failed !!!"},
		{"unavailable in CI", unavailable, true, Skip, "reason outside servingbench"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, msg := Decide(tc.err, tc.ci)
			assert.Equal(t, tc.want, d, "Decide(%v, %v)", tc.err, tc.ci)
			assert.Contains(t, msg, tc.message)
			assert.NotContains(t, msg, "\n", "one line")
		})
	}
}

func TestDefaultHome(t *testing.T) {
	t.Setenv(HomeEnv, "/x/llama")
	h, err := DefaultHome()
	require.NoError(t, err)
	assert.Equal(t, "/x/llama", h)
	t.Setenv(HomeEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	h, err = DefaultHome()
	require.NoError(t, err)
	assert.Equal(t, "/xdg/servingbench/llamacpp", h)
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	h, err = DefaultHome()
	require.NoError(t, err)
	assert.Equal(t, "/home/u/.cache/servingbench/llamacpp", h)
}

func TestIsCI(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "TRUE": true, "": false, "false": false, "yes": false} {
		t.Setenv("CI", v)
		assert.Equal(t, want, IsCI(), "IsCI() with CI=%q", v)
	}
}
