package servingtest

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixedService checks FixedService's known answers in a synctest
// bubble: one step to the first token from an idle engine, O steps of
// service, and a request beyond the slots waiting exactly one service
// time for a slot.
func TestFixedService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const step, o = 10 * time.Millisecond, 6
		srv := newBubbleServer(t, FixedService(1, step))
		assert.Equal(t, 1, srv.Model().MaxRunning)

		concurrently(t, srv, []string{"a"}, o)
		rec := srv.Truth()[0]
		assert.Equal(t, step, rec.TTFT(), "TTFT from an idle engine")
		assert.Equal(t, o*step, rec.E2EL(), "service time O*step")

		srv.Reset()
		concurrently(t, srv, []string{"b", "c"}, o)
		recs := byAdmitted(srv.Truth())
		require.Len(t, recs, 2)
		assert.Equal(t, step, recs[0].TTFT())
		assert.Equal(t, o*step+step, recs[1].TTFT(), "the second waits one service time for the slot")
		assert.Equal(t, recs[0].Chunks[o-1], recs[1].Admitted, "the slot is refilled at the boundary it frees")
	})
}
