//go:build linux

package servingbench

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRaiseFileLimit lowers this process's soft limit and raises it back
// to the hard limit.
func TestRaiseFileLimit(t *testing.T) {
	before, err := CurrentFileLimit()
	require.NoError(t, err)
	lowered := syscall.Rlimit{Max: before.Hard}
	lowered.Cur = lowered.Max - 1
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered))
	t.Cleanup(func() {
		restore := syscall.Rlimit{Max: before.Hard}
		restore.Cur = restore.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &restore)
	})
	l, err := CurrentFileLimit()
	require.NoError(t, err)
	require.Equal(t, before.Hard-1, l.Soft)

	l, err = RaiseFileLimit()
	require.NoError(t, err)
	assert.Equal(t, before.Hard, l.Soft, "RaiseFileLimit() soft = %d, want the hard limit %d", l.Soft, before.Hard)
	assert.Equal(t, before.Hard, l.Hard, "the hard limit is never changed")
	assert.Positive(t, l.Open, "stdin, stdout and stderr at least are open")
	again, err := RaiseFileLimit()
	require.NoError(t, err)
	assert.Equal(t, l.Soft, again.Soft, "idempotent")
}
