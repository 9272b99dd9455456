package servingtest

import "slices"

// prefixCache models automatic prefix caching (vLLM's
// --enable-prefix-caching, llama.cpp's per-slot prompt cache): the engine
// looks each admitted prompt's tokens up in it, and the tokens of the
// longest cached prefix skip their prefill cost.
//
// It holds whole prompts (token ids as Model.Tokenizer encodes them), least
// recently used first. Capacity counts the tokens of the prompts held. A
// prompt is inserted when it is admitted; one that extends a cached prompt
// replaces it (a conversation's turn k+1 holds turn k's prompt as its
// prefix, so a conversation occupies the length of its latest prompt), one
// that a cached prompt already extends only refreshes that prompt, and the
// least recently used prompts are evicted until the rest fit. A prompt
// longer than the capacity is looked up but not held. Generated tokens are
// not cached: the next turn prefills the reply again (vLLM also caches the
// full blocks of generated tokens; this model is coarser and says so).
//
// A lookup hits at most len(prompt)-1 tokens, as vLLM's scheduler always
// computes a prompt's last token to get its logits, so every request
// prefills at least one token. It is used by the scheduler goroutine only.
type prefixCache struct {
	capacity int
	used     int
	entries  [][]int // least recently used first
}

// admit looks tokens up, inserts them as the type's comment says and
// returns the number of leading tokens served from the cache.
func (c *prefixCache) admit(tokens []int) (hit int) {
	best, bestLen := -1, 0
	for i, e := range c.entries {
		if n := commonPrefix(e, tokens); n > bestLen {
			best, bestLen = i, n
		}
	}
	hit = min(bestLen, max(len(tokens)-1, 0))
	if best >= 0 && (bestLen == len(tokens) || len(tokens) > c.capacity) {
		// A cached prompt already holds every token, or tokens cannot be
		// held: refresh the prompt it matched.
		c.touch(best)
		return hit
	}
	if len(tokens) > c.capacity {
		return hit
	}
	// Drop the cached prompts that tokens extends; they are its prefix.
	kept := c.entries[:0]
	for _, e := range c.entries {
		if len(e) <= len(tokens) && commonPrefix(e, tokens) == len(e) {
			c.used -= len(e)
			continue
		}
		kept = append(kept, e)
	}
	clear(c.entries[len(kept):])
	c.entries = kept
	if best >= 0 && bestLen > 0 {
		// The prompt it shared a prefix with (and diverged from) was used.
		for i, e := range c.entries {
			if commonPrefix(e, tokens) == bestLen {
				c.touch(i)
				break
			}
		}
	}
	c.entries = append(c.entries, slices.Clone(tokens))
	c.used += len(tokens)
	for c.used > c.capacity {
		c.used -= len(c.entries[0])
		c.entries[0] = nil
		c.entries = c.entries[1:]
	}
	return hit
}

// touch makes entry i the most recently used.
func (c *prefixCache) touch(i int) {
	e := c.entries[i]
	c.entries = append(slices.Delete(c.entries, i, i+1), e)
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []int) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
