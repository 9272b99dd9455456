package servingtest

import (
	"sync"
	"sync/atomic"
	"time"
)

// seq is one request inside the engine. The scheduler goroutine owns the
// engine's bookkeeping; the handler goroutine reads produced after each
// notification and sets cancelled when it stops listening.
type seq struct {
	promptTokens int
	reserve      int // KV tokens reserved at admission
	target       int // tokens to generate, >= 1
	// tokens are the prompt's ids, kept only with a prefix cache
	// (Model.PrefixCacheTokens); cached is how many of them it served.
	tokens []int
	cached atomic.Int64
	// firstAt is the earliest time of the first token with
	// Model.FirstTokenDelay (scheduler goroutine only; zero without).
	firstAt time.Time

	produced  atomic.Int64
	admitted  atomic.Pointer[time.Time]
	cancelled atomic.Bool
	notify    chan struct{} // capacity 1: "produced changed"
}

func newSeq(promptTokens, maxTokens, target int) *seq {
	return &seq{
		promptTokens: promptTokens,
		reserve:      promptTokens + maxTokens,
		target:       target,
		notify:       make(chan struct{}, 1),
	}
}

func (s *seq) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// engine is the continuous-batching scheduler. One goroutine (run) steps
// the batch: it admits waiting requests first come first served while
// Model.MaxRunning and Model.KVCacheTokens allow, sleeps until the step's
// absolute deadline, then gives every running sequence one token.
type engine struct {
	m    *Model
	quit <-chan struct{}
	done chan struct{}
	wake chan struct{}

	mu      sync.Mutex
	waiting []*seq

	running []*seq       // scheduler goroutine only
	kvUsed  int          // scheduler goroutine only
	cache   *prefixCache // scheduler goroutine only; nil without Model.PrefixCacheTokens

	// Read by /metrics.
	nRunning, nWaiting, kvUsedA atomic.Int64
	promptTotal, genTotal       atomic.Int64
	steps                       atomic.Int64
	// Prefix-cache lookups and hits, in prompt tokens.
	cacheQueries, cacheHits atomic.Int64
}

func newEngine(m *Model, quit <-chan struct{}) *engine {
	e := &engine{m: m, quit: quit, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	if m.PrefixCacheTokens > 0 {
		e.cache = &prefixCache{capacity: m.PrefixCacheTokens}
	}
	return e
}

// submit queues s for admission.
func (e *engine) submit(s *seq) {
	e.mu.Lock()
	e.waiting = append(e.waiting, s)
	e.nWaiting.Store(int64(len(e.waiting)))
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run is the scheduler goroutine; it returns when quit is closed.
func (e *engine) run() {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var next time.Time // absolute deadline of the current step
	for {
		now := time.Now()
		prefill := e.admit(now)
		if len(e.running) == 0 {
			select {
			case <-e.wake:
			case <-e.quit:
				return
			}
			next = time.Time{}
			continue
		}
		step := e.m.scale(time.Duration(prefill)*e.m.PrefillPerToken +
			e.m.DecodeBase + time.Duration(len(e.running))*e.m.DecodePerSeq)
		// Absolute deadlines: an overslept step shortens the next one, so
		// the schedule does not drift; but by at most half a step, so a
		// step never lasts less than half its duration. After idling,
		// start from now.
		if next.IsZero() {
			next = now
		} else if late := now.Add(-step / 2); next.Before(late) {
			next = late
		}
		next = next.Add(step)
		if d := next.Sub(now); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-e.quit:
				timer.Stop()
				return
			}
		} else {
			select {
			case <-e.quit:
				return
			default:
			}
		}
		e.decode(next)
	}
}

// admit moves waiting requests into the batch and returns the number of
// prompt tokens to prefill in this step: those the prefix cache, when
// there is one, did not serve.
func (e *engine) admit(now time.Time) (prefill int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i, prompt := 0, 0
	for ; i < len(e.waiting); i++ {
		s := e.waiting[i]
		if s.cancelled.Load() {
			continue
		}
		if e.m.MaxRunning > 0 && len(e.running) >= e.m.MaxRunning {
			break
		}
		if e.m.KVCacheTokens > 0 && e.kvUsed+s.reserve > e.m.KVCacheTokens {
			break
		}
		t := now
		s.admitted.Store(&t)
		if e.m.FirstTokenDelay > 0 {
			s.firstAt = now.Add(e.m.scale(e.m.FirstTokenDelay))
		}
		e.kvUsed += s.reserve
		e.running = append(e.running, s)
		prompt += s.promptTokens
		prefill += s.promptTokens
		if e.cache != nil {
			hit := e.cache.admit(s.tokens)
			s.cached.Store(int64(hit))
			prefill -= hit
			e.cacheQueries.Add(int64(s.promptTokens))
			e.cacheHits.Add(int64(hit))
		}
	}
	// Keep the rest in order, without cancelled requests.
	rest := e.waiting[:0]
	for _, s := range e.waiting[i:] {
		if !s.cancelled.Load() {
			rest = append(rest, s)
		}
	}
	clear(e.waiting[len(rest):])
	e.waiting = rest
	e.promptTotal.Add(int64(prompt))
	e.nWaiting.Store(int64(len(e.waiting)))
	e.nRunning.Store(int64(len(e.running)))
	e.kvUsedA.Store(int64(e.kvUsed))
	return prefill
}

// decode ends the step due at end: it gives every running sequence one
// token, but those whose first token is not due yet (Model.FirstTokenDelay),
// and retires the finished and the cancelled.
func (e *engine) decode(end time.Time) {
	kept := e.running[:0]
	var gen int64
	for _, s := range e.running {
		if s.cancelled.Load() {
			e.kvUsed -= s.reserve
			continue
		}
		if end.Before(s.firstAt) {
			kept = append(kept, s)
			continue
		}
		p := s.produced.Add(1)
		gen++
		s.signal()
		if int(p) >= s.target {
			e.kvUsed -= s.reserve
			continue
		}
		kept = append(kept, s)
	}
	clear(e.running[len(kept):])
	e.running = kept
	e.genTotal.Add(gen)
	e.steps.Add(1)
	e.nRunning.Store(int64(len(e.running)))
	e.kvUsedA.Store(int64(e.kvUsed))
}
