package servingtest

import (
	"bufio"
	"encoding/binary"
	"hash/fnv"
	"strconv"
	"sync"
)

// chunker is the OpenAI encoder: it renders the SSE chunks of one
// completions or chat response into a bufio.Writer from pre-rendered byte
// slices, with no encoding/json on the token path.
type chunker struct {
	chunkEvents
	sseWriter
	wordGen
	chat      bool
	head      []byte // `data: {"id":...,"model":"..."`
	open      []byte // head + `,"choices":[{"index":0,"text":"`
	closeNull []byte // `","logprobs":null,"finish_reason":null}]}` + "\n\n"
	started   bool   // the chat role-only chunk is written

	// The reasoning phase (Model.Reasoning): the tokens still to stream as
	// reasoning, and reasonOpen, head + `,"choices":[{"index":0,"delta":{"reasoning_content":"`.
	reasoningLeft int
	reasonOpen    []byte

	// The tail: the finish reason, the usage and where they go.
	reason       string
	u            usage
	finishChunk  bool
	usagePos     UsagePosition
	includeUsage bool
	noDone       bool
}

func newChunker(bw *bufio.Writer, chat bool, id, model string, created int64, rngSeed uint64) *chunker {
	c := &chunker{sseWriter: sseWriter{bw: bw}, wordGen: newWordGen(rngSeed), chat: chat}
	object := "text_completion"
	if chat {
		object = "chat.completion.chunk"
	}
	h := []byte(`data: {"id":`)
	h = strconv.AppendQuote(h, id)
	h = append(h, `,"object":"`...)
	h = append(h, object...)
	h = append(h, `","created":`...)
	h = strconv.AppendInt(h, created, 10)
	h = append(h, `,"model":`...)
	h = strconv.AppendQuote(h, model)
	c.head = h
	if chat {
		c.open = append(append([]byte{}, h...), `,"choices":[{"index":0,"delta":{"content":"`...)
		c.closeNull = []byte(`"},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	} else {
		c.open = append(append([]byte{}, h...), `,"choices":[{"index":0,"text":"`...)
		c.closeNull = []byte(`","logprobs":null,"finish_reason":null}]}` + "\n\n")
	}
	return c
}

// wordGen draws the generated words of one response (xorshift64*), from
// a seed of the model's Seed and the prompt: the same text whatever the
// protocol.
type wordGen struct{ rng uint64 }

func newWordGen(seed uint64) wordGen { return wordGen{rng: seed | 1} }

// nextID returns the next generated word's index in words.
func (g *wordGen) nextID() int {
	g.rng ^= g.rng >> 12
	g.rng ^= g.rng << 25
	g.rng ^= g.rng >> 27
	return int((g.rng * 2685821657736338717) >> 32 % uint64(len(words)))
}

// nextWord returns the next generated word.
func (g *wordGen) nextWord() string { return words[g.nextID()] }

// text appends n generated tokens, " word" each, to dst.
func (g *wordGen) text(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, ' ')
		dst = append(dst, g.nextWord()...)
	}
	return dst
}

// think makes the first n tokens of the chat stream reasoning, in the
// delta member field.
func (c *chunker) think(n int, field string) {
	c.reasoningLeft = n
	c.reasonOpen = append(append([]byte{}, c.head...), `,"choices":[{"index":0,"delta":{"`+field+`":"`...)
}

// tokens writes one token chunk of n tokens; the chat stream's role-only
// chunk goes first. The last chunk carries the finish_reason unless the
// finish has a chunk of its own (Model.FinishChunk).
func (c *chunker) tokens(n int, last, pad, badUTF8 bool) {
	if c.chat && !c.started {
		c.pre()
		c.role()
	}
	c.started = true
	c.pre()
	finish := ""
	if last && !c.finishChunk {
		finish = c.reason
	}
	open := c.open
	r := min(n, c.reasoningLeft)
	if r > 0 {
		open = c.reasonOpen
	}
	if pad {
		c.bw.WriteString(`data: {"padding":"`)
		c.bw.Write(padding())
		c.bw.WriteString(`",`)
		c.bw.Write(open[len(`data: {`):])
	} else {
		c.bw.Write(open)
	}
	if r > 0 {
		c.reasoningLeft -= r
		c.writeThought(r, n-r, finish, badUTF8)
		return
	}
	c.writeText(&c.wordGen, n, badUTF8)
	if finish == "" {
		c.bw.Write(c.closeNull)
		return
	}
	c.bw.WriteString(`"`)
	if c.chat {
		c.bw.WriteString(`}`)
	}
	c.bw.WriteString(`,"logprobs":null,"finish_reason":"` + finish + `"}]}` + "\n\n")
}

// writeThought ends a chat chunk opened with reasonOpen: r reasoning
// tokens, then a tokens of content in the same delta when a > 0.
func (c *chunker) writeThought(r, a int, finish string, badUTF8 bool) {
	c.writeText(&c.wordGen, r, badUTF8)
	if a > 0 {
		c.bw.WriteString(`","content":"`)
		c.writeText(&c.wordGen, a, false)
	}
	if finish == "" {
		c.bw.Write(c.closeNull)
		return
	}
	c.bw.WriteString(`"},"logprobs":null,"finish_reason":"` + finish + `"}]}` + "\n\n")
}

// tail writes the finish chunk, the usage and [DONE] as the model and the
// request ask.
func (c *chunker) tail() {
	if c.finishChunk {
		c.pre()
		if c.includeUsage && c.usagePos == UsageInline {
			c.finish(c.reason, &c.u)
		} else {
			c.finish(c.reason, nil)
		}
	}
	if c.includeUsage && c.usagePos == UsageSeparate {
		c.pre()
		c.usageChunk(c.u)
	}
	if !c.noDone {
		c.pre()
		c.done()
	}
}

// role writes the chat role-only first chunk.
func (c *chunker) role() {
	c.bw.Write(c.head)
	c.bw.WriteString(`,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n")
}

// finish writes a finish-only chunk, with usage inline when u is not nil.
func (c *chunker) finish(reason string, u *usage) {
	c.bw.Write(c.head)
	if c.chat {
		c.bw.WriteString(`,"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"` + reason + `"}]`)
	} else {
		c.bw.WriteString(`,"choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"` + reason + `"}]`)
	}
	if u != nil {
		c.bw.Write(u.appendJSON([]byte(`,"usage":`)))
	}
	c.bw.WriteString("}\n\n")
}

// usageChunk writes vLLM's choices-less usage chunk.
func (c *chunker) usageChunk(u usage) {
	c.bw.Write(c.head)
	c.bw.Write(u.appendJSON([]byte(`,"choices":[],"usage":`)))
	c.bw.WriteString("}\n\n")
}

func (c *chunker) done()      { c.bw.WriteString("data: [DONE]\n\n") }
func (c *chunker) malformed() { c.bw.Write(c.open); c.bw.WriteString("broken\n\n") }

// errorEvent writes vLLM's mid-stream error: a data event holding an
// OpenAI error object.
func (c *chunker) errorEvent(message string) {
	c.bw.WriteString(`data: {"error":{"message":`)
	c.bw.Write(jsonString(message))
	c.bw.WriteString(`,"type":"InternalServerError","param":null,"code":500}}` + "\n\n")
}

// usage is the OpenAI usage object; with details it carries
// completion_tokens_details.reasoning_tokens (OpenAI's CompletionUsage).
type usage struct {
	prompt, completion, reasoning int
	details                       bool
}

func (u usage) appendJSON(b []byte) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.prompt+u.completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.completion), 10)
	if u.details {
		b = append(b, `,"completion_tokens_details":{"reasoning_tokens":`...)
		b = strconv.AppendInt(b, int64(u.reasoning), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

var padding = sync.OnceValue(func() []byte {
	b := make([]byte, HugeLineSize)
	for i := range b {
		b[i] = 'x'
	}
	return b
})

// hash64 mixes the seed, a string and a number into 64 well-spread bits.
func hash64(seed uint64, s string, n int) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	h.Write(b[:])
	h.Write([]byte(s))
	x := h.Sum64()
	// splitmix64 finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// outputLength is the number of tokens to generate and the finish reason:
// max_tokens with "length", or for an EOSFraction of the requests without
// ignore_eos an earlier stop with "stop".
func (m *Model) outputLength(prompt string, maxTokens int, ignoreEOS bool) (int, string) {
	if ignoreEOS || maxTokens <= 1 || m.EOSFraction == 0 {
		return maxTokens, "length"
	}
	h := hash64(m.Seed, prompt, maxTokens)
	if float64(h>>11)/(1<<53) >= m.EOSFraction {
		return maxTokens, "length"
	}
	h = hash64(h, "", 1)
	return 1 + int(h%uint64(maxTokens-1)), "stop"
}
