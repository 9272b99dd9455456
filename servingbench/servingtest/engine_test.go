package servingtest

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simSeq is a request submitted to an engine under synctest's fake clock.
type simSeq struct {
	at                        time.Duration // submission offset
	promptTokens, max, target int
	cancelAfter               int // tokens after which the reader cancels; 0: never
	admitted                  time.Duration
	tokens                    []time.Duration // offset of each token
}

// simulate runs the engine for m on seqs inside a synctest bubble, where
// time is exact, and fills in each simSeq's admission and token offsets.
func simulate(t *testing.T, m Model, seqs []*simSeq) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		m := m.withDefaults()
		quit := make(chan struct{})
		e := newEngine(&m, quit)
		start := time.Now()
		done := make(chan struct{})
		for _, ss := range seqs {
			target := ss.target
			if target == 0 {
				target = ss.max
			}
			s := newSeq(ss.promptTokens, ss.max, target)
			if ss.at == 0 {
				e.submit(s) // all together, before the scheduler starts
			}
			go func() {
				defer func() { done <- struct{}{} }()
				if ss.at > 0 {
					time.Sleep(ss.at)
					e.submit(s)
				}
				for {
					p := int(s.produced.Load())
					for len(ss.tokens) < p {
						ss.tokens = append(ss.tokens, time.Since(start))
					}
					if p >= target {
						break
					}
					if ss.cancelAfter > 0 && p >= ss.cancelAfter {
						s.cancelled.Store(true)
						break
					}
					<-s.notify
				}
				if a := s.admitted.Load(); a != nil {
					ss.admitted = a.Sub(start)
				}
			}()
		}
		go e.run()
		for range seqs {
			<-done
		}
		close(quit)
		<-e.done
	})
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func steps(first, every time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = first + time.Duration(i)*every
	}
	return out
}

func TestEngineStepTime(t *testing.T) {
	base := Model{DecodeBase: ms(10), DecodePerSeq: ms(1), PrefillPerToken: ms(0.5)}
	for _, tc := range []struct {
		name         string
		m            Model
		seqs         []*simSeq
		wantAdmitted []time.Duration
		wantTokens   [][]time.Duration
	}{
		{
			name:         "batch 1",
			m:            base,
			seqs:         []*simSeq{{max: 3}},
			wantAdmitted: []time.Duration{0},
			wantTokens:   [][]time.Duration{steps(ms(11), ms(11), 3)},
		},
		{
			name:         "prefill in the first step",
			m:            base,
			seqs:         []*simSeq{{promptTokens: 10, max: 3}},
			wantAdmitted: []time.Duration{0},
			wantTokens:   [][]time.Duration{{ms(16), ms(27), ms(38)}},
		},
		{
			name:         "batch 4: step grows with the batch",
			m:            base,
			seqs:         []*simSeq{{max: 2}, {max: 2}, {max: 2}, {max: 2}},
			wantAdmitted: []time.Duration{0, 0, 0, 0},
			wantTokens:   [][]time.Duration{steps(ms(14), ms(14), 2), steps(ms(14), ms(14), 2), steps(ms(14), ms(14), 2), steps(ms(14), ms(14), 2)},
		},
		{
			name: "joining mid-run waits for the next step",
			m:    base,
			seqs: []*simSeq{{max: 4}, {at: ms(5), max: 2, promptTokens: 4}},
			// Steps: [0,11] alone; [11,11+10+2+2=25] both (with prefill); [25,37]; [37,48] alone.
			wantAdmitted: []time.Duration{0, ms(11)},
			wantTokens:   [][]time.Duration{{ms(11), ms(25), ms(37), ms(48)}, {ms(25), ms(37)}},
		},
		{
			name:         "MaxRunning 2: later requests wait for a slot",
			m:            Model{DecodeBase: ms(10), MaxRunning: 2},
			seqs:         []*simSeq{{max: 3}, {max: 3}, {max: 3}, {max: 1}},
			wantAdmitted: []time.Duration{0, 0, ms(30), ms(30)},
			wantTokens:   [][]time.Duration{steps(ms(10), ms(10), 3), steps(ms(10), ms(10), 3), steps(ms(40), ms(10), 3), {ms(40)}},
		},
		{
			name: "KV capacity limits admission, first come first served",
			// 5+10 tokens each: two fit in 32; the third waits, and so does
			// the fourth (1+1) although it would fit.
			m:            Model{DecodeBase: ms(10), KVCacheTokens: 32},
			seqs:         []*simSeq{{promptTokens: 5, max: 10, target: 2}, {promptTokens: 5, max: 10, target: 3}, {at: ms(1), promptTokens: 5, max: 10, target: 1}, {at: ms(2), promptTokens: 1, max: 1}},
			wantAdmitted: []time.Duration{0, 0, ms(20), ms(20)},
			wantTokens:   [][]time.Duration{{ms(10), ms(20)}, {ms(10), ms(20), ms(30)}, {ms(30)}, {ms(30)}},
		},
		{
			name:         "Speed 5 runs five times faster",
			m:            Model{DecodeBase: ms(10), DecodePerSeq: ms(5), Speed: 5},
			seqs:         []*simSeq{{max: 3}},
			wantAdmitted: []time.Duration{0},
			wantTokens:   [][]time.Duration{steps(ms(3), ms(3), 3)},
		},
		{
			name:         "a cancelled request leaves the batch",
			m:            base,
			seqs:         []*simSeq{{max: 4}, {max: 4, cancelAfter: 1}},
			wantAdmitted: []time.Duration{0, 0},
			// [0,12] both; the second is dropped at the next step's end, so
			// [12,24] still has two; then steps of 11.
			wantTokens: [][]time.Duration{{ms(12), ms(24), ms(35), ms(46)}, {ms(12)}},
		},
		{
			name: "FirstTokenDelay: own prefill, the batch keeps its pace",
			m:    Model{DecodeBase: ms(10), FirstTokenDelay: ms(25)},
			// The first two are due at 25: the step ending at 30 gives
			// their first token. The third, admitted at 30, is due at 55:
			// its first token ends the step at 60, and the others'
			// tokens stay 10 ms apart meanwhile.
			seqs:         []*simSeq{{max: 4}, {max: 2}, {at: ms(22), max: 2}},
			wantAdmitted: []time.Duration{0, 0, ms(30)},
			wantTokens:   [][]time.Duration{steps(ms(30), ms(10), 4), steps(ms(30), ms(10), 2), steps(ms(60), ms(10), 2)},
		},
		{
			name:         "FirstTokenDelay on a step boundary is due at that boundary",
			m:            Model{DecodeBase: ms(10), FirstTokenDelay: ms(20), Speed: 2},
			seqs:         []*simSeq{{max: 3}},
			wantAdmitted: []time.Duration{0},
			wantTokens:   [][]time.Duration{steps(ms(10), ms(5), 3)},
		},
		{
			name:         "zero cost is instant",
			m:            Model{},
			seqs:         []*simSeq{{max: 5}, {max: 5}},
			wantAdmitted: []time.Duration{0, 0},
			wantTokens:   [][]time.Duration{make([]time.Duration, 5), make([]time.Duration, 5)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			simulate(t, tc.m, tc.seqs)
			for i, s := range tc.seqs {
				assert.Equal(t, tc.wantAdmitted[i], s.admitted, "request %d admitted", i)
				assert.Equal(t, tc.wantTokens[i], s.tokens, "request %d tokens", i)
			}
		})
	}
}

func TestEngineNoDrift(t *testing.T) {
	// 1000 steps of 1ms end at exactly 1s on the fake clock: deadlines are
	// absolute.
	s := &simSeq{max: 1000}
	simulate(t, Model{DecodeBase: ms(1)}, []*simSeq{s})
	require.Len(t, s.tokens, 1000)
	assert.Equal(t, time.Second, s.tokens[999])
}
