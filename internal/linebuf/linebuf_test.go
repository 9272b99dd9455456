package linebuf

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted returns its reads in order, then io.EOF.
type scripted []struct {
	data string
	err  error
}

func (s *scripted) Read(p []byte) (int, error) {
	if len(*s) == 0 {
		return 0, io.EOF
	}
	r := (*s)[0]
	*s = (*s)[1:]
	return copy(p, r.data), r.err
}

func TestFillPending(t *testing.T) {
	src := &scripted{
		{"ab", ErrPending},
		{"", ErrPending},
		{"c", nil},
		{"", ErrPending},
		{"", io.ErrUnexpectedEOF},
	}
	var b Buffer
	b.Reset(src, 0, "test")
	require.NoError(t, b.Fill(false), "bytes with ErrPending")
	assert.Equal(t, "ab", string(b.Buf[b.Start:b.End]))
	assert.NoError(t, b.Err)
	assert.ErrorIs(t, b.Fill(false), ErrPending)
	assert.NoError(t, b.Err, "ErrPending is not sticky")
	require.NoError(t, b.Fill(false))
	assert.Equal(t, "abc", string(b.Buf[b.Start:b.End]))
	assert.ErrorIs(t, b.Fill(false), ErrPending)
	require.NoError(t, b.Fill(false), "a read error is kept in Err, not returned")
	assert.ErrorIs(t, b.Err, io.ErrUnexpectedEOF)
}

// pendingZero returns (0, nil) while n > 0, then (0, ErrPending) always.
type pendingZero struct{ n int }

func (p *pendingZero) Read([]byte) (int, error) {
	if p.n > 0 {
		p.n--
		return 0, nil
	}
	return 0, ErrPending
}

func TestFillPendingNotEmpty(t *testing.T) {
	var b Buffer
	b.Reset(&pendingZero{n: maxEmptyReads - 1}, 0, "test")
	for range maxEmptyReads - 1 {
		require.NoError(t, b.Fill(false))
	}
	require.NoError(t, b.Err)
	for range 3 * maxEmptyReads {
		require.ErrorIs(t, b.Fill(false), ErrPending)
	}
	assert.NoError(t, b.Err, "reads returning ErrPending are not empty reads")
	b.Reset(&pendingZero{n: maxEmptyReads}, 0, "test")
	for range maxEmptyReads {
		b.Fill(false)
	}
	assert.True(t, errors.Is(b.Err, io.ErrNoProgress))
}
