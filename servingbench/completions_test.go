package servingbench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spaceTokenizer counts whitespace-separated words.
type spaceTokenizer struct{}

func (spaceTokenizer) Encode(text string) []int { return make([]int, len(strings.Fields(text))) }
func (spaceTokenizer) Decode(ids []int) string  { return strings.Repeat("w ", len(ids)) }
func (spaceTokenizer) VocabSize() int           { return 1 }

func TestClientsCannedStreams(t *testing.T) {
	tests := []struct {
		stream        string
		kind          payloadKind
		events        int
		text          string
		input, output int
	}{
		{"vllm-completions.sse", kindCompletions, 8, " The quick brown fox café 😀\n\"q\" end", 12, 8},
		{"llamacpp-completions.sse", kindCompletions, 5, " man which any false value", 4, 5},
		{"vllm-chat.sse", kindChat, 8, " The quick brown fox café 😀\n\"q\" end", 15, 8},
		{"llamacpp-chat.sse", kindChat, 5, "wygl napraw poniew ihtiya chcia", 12, 5},
		{"vllm-chat-reasoning.sse", kindChat, 5, "Let me thinkYes.", 9, 5},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			srv := newStreamServer(t, serveEvents(cannedStream(t, tt.stream)))
			cfg := testConfig(srv.URL)
			cfg.KeepText = true
			res := sendOne(t, tt.kind, cfg, Request{Prompt: "hi", MaxTokens: 8})
			require.NoError(t, res.Err)
			assert.Len(t, res.Events, tt.events)
			assert.Equal(t, tt.text, res.Text)
			assert.Equal(t, tt.input, res.InputTokens)
			assert.Equal(t, SourceUsage, res.InputSource)
			assert.Equal(t, tt.output, res.OutputTokens)
			assert.Equal(t, SourceUsage, res.OutputSource)
			assert.True(t, res.OK())
			checkTimes(t, res)
			want := "/v1/completions"
			if tt.kind == kindChat {
				want = "/v1/chat/completions"
			}
			assert.Equal(t, want, srv.last(t).Path)
		})
	}
}

// tokenChunk renders one vLLM-style completions chunk.
func tokenChunk(text string) string {
	return fmt.Sprintf(`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":%q,"logprobs":null,"finish_reason":null}],"usage":null}`, text)
}

func TestClientsStreamVariants(t *testing.T) {
	usage := `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":7}}` + "\n\n"
	done := "data: [DONE]\n\n"
	big := strings.Repeat("y", 2<<20)
	tests := []struct {
		name   string
		stream string
		cfg    func(*OpenAIConfig)
		events int
		output int
		source CountSource
		text   string
	}{
		{"crlf", strings.ReplaceAll("data: "+tokenChunk("a")+"\n\ndata: "+tokenChunk(" b")+"\n\n"+usage+done, "\n", "\r\n"),
			nil, 2, 7, SourceUsage, "a b"},
		{"comment pings", ": ping\n\ndata: " + tokenChunk("a") + "\n: keep-alive\n\n: ping\n\ndata: " + tokenChunk(" b") + "\n\n" + usage + done,
			nil, 2, 7, SourceUsage, "a b"},
		{"no space after data colon", "data:" + tokenChunk("a") + "\n\ndata:[DONE]\n\n",
			nil, 1, 1, SourceEvents, "a"},
		{"multi-token chunks count one event each", "data: " + tokenChunk("one two three") + "\n\ndata: " + tokenChunk(" four five") + "\n\n" + usage + done,
			nil, 2, 7, SourceUsage, "one two three four five"},
		{"no usage counts events", "data: " + tokenChunk("one two") + "\n\ndata: " + tokenChunk(" three") + "\n\n" + done,
			nil, 2, 2, SourceEvents, "one two three"},
		{"no usage counts with tokenizer", "data: " + tokenChunk("one two") + "\n\ndata: " + tokenChunk(" three") + "\n\n" + done,
			func(c *OpenAIConfig) { c.Tokenizer = spaceTokenizer{} }, 2, 3, SourceTokenizer, "one two three"},
		{"2 MiB data line", "data: " + tokenChunk(big) + "\n\n" + usage + done,
			nil, 1, 7, SourceUsage, big},
		{"empty and finish-only chunks are not events", "data: " + tokenChunk("") + "\n\ndata: " + tokenChunk("a") +
			"\n\ndata: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"length\"}]}\n\n" + done,
			nil, 1, 1, SourceEvents, "a"},
		{"empty data event skipped", "data:\n\ndata: " + tokenChunk("a") + "\n\n" + done,
			nil, 1, 1, SourceEvents, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, serveEvents([]byte(tt.stream)))
			cfg := testConfig(srv.URL)
			cfg.KeepText = true
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			res := sendOne(t, kindCompletions, cfg, Request{Prompt: "p", MaxTokens: 4})
			require.NoError(t, res.Err)
			assert.Len(t, res.Events, tt.events)
			assert.Equal(t, tt.output, res.OutputTokens)
			assert.Equal(t, tt.source, res.OutputSource)
			assert.Equal(t, len(tt.text), len(res.Text))
			assert.True(t, tt.text == res.Text, "Text = %.40q..., want %.40q...", res.Text, tt.text)
			checkTimes(t, res)
		})
	}
}

func TestClientsTextNotKept(t *testing.T) {
	srv := newStreamServer(t, serveEvents(cannedStream(t, "vllm-completions.sse")))
	for _, tok := range []Tokenizer{nil, spaceTokenizer{}} {
		cfg := testConfig(srv.URL)
		cfg.Tokenizer = tok
		res := sendOne(t, kindCompletions, cfg, Request{Prompt: "p", MaxTokens: 8})
		require.NoError(t, res.Err)
		assert.Empty(t, res.Text, "Text without KeepText (tokenizer %v)", tok)
		assert.Equal(t, SourceUsage, res.OutputSource, "usage wins over the tokenizer")
	}
}

func TestClientsOneByteWrites(t *testing.T) {
	stream := cannedStream(t, "vllm-chat.sse")
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range stream {
			w.Write(stream[i : i+1])
			w.(http.Flusher).Flush()
		}
	})
	cfg := testConfig(srv.URL)
	cfg.KeepText = true
	res := sendOne(t, kindChat, cfg, Request{Prompt: "p", MaxTokens: 8})
	require.NoError(t, res.Err)
	assert.Len(t, res.Events, 8)
	assert.Equal(t, " The quick brown fox café 😀\n\"q\" end", res.Text)
	checkTimes(t, res)
}

func TestClientsEventsShareReadTime(t *testing.T) {
	// The whole stream arrives in one write: every event has the same time.
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(cannedStream(t, "vllm-completions.sse"))
	})
	res := sendOne(t, kindCompletions, testConfig(srv.URL), Request{Prompt: "p", MaxTokens: 8})
	require.NoError(t, res.Err)
	require.Len(t, res.Events, 8)
	for i := range res.Events {
		assert.Equal(t, res.Events[0], res.Events[i], "Events[%d]", i)
	}
	assert.Equal(t, 8, cap(res.Events), "Events: no capacity beyond the events")
}

func TestClientsKeepAlive(t *testing.T) {
	conns := make(map[string]int)
	mu := make(chan struct{}, 1)
	stream := cannedStream(t, "vllm-completions.sse")
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu <- struct{}{}
		conns[r.RemoteAddr]++
		<-mu
		serveEvents(stream)(w, r)
	})
	countConns := func() int {
		mu <- struct{}{}
		defer func() { <-mu }()
		return len(conns)
	}
	cfg := testConfig(srv.URL)
	cfg.MaxConcurrency = 4
	c := newClient(t, kindCompletions, cfg)
	ctx := context.Background()

	// Sequential requests: every body is read to its end, so the one
	// connection is reused (the transport pools it before the reader sees
	// EOF).
	for range 5 {
		res := &Result{}
		c.Send(ctx, &Request{Prompt: "p", MaxTokens: 8}, res)
		require.NoError(t, res.Err)
	}
	assert.Equal(t, 1, countConns(), "connections used by 5 sequential requests")

	// Concurrent requests: correct results under -race; connections are
	// reused (the transport may dial a few extra while others finish).
	const rounds, width = 3, 4
	for range rounds {
		done := make(chan *Result, width)
		for range width {
			go func() {
				res := &Result{}
				c.Send(ctx, &Request{Prompt: "p", MaxTokens: 8}, res)
				done <- res
			}()
		}
		for range width {
			res := <-done
			require.NoError(t, res.Err)
			assert.Len(t, res.Events, 8)
		}
	}
	assert.Less(t, countConns(), rounds*width, "connections used by %d requests", rounds*width)
}

func TestClientsPrewarm(t *testing.T) {
	const n = 4
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	conns := make(chan string, 100)
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		conns <- r.RemoteAddr
		if r.Method == http.MethodGet {
			assert.Equal(t, "/v1/models", r.URL.Path)
			arrived <- struct{}{}
			<-release // hold every prewarm request until all n are in flight
			http.NotFound(w, r)
			return
		}
		serveEvents(cannedStream(t, "vllm-completions.sse"))(w, r)
	})
	c, err := NewCompletions(testConfig(srv.URL))
	require.NoError(t, err)
	defer c.Close()
	go func() {
		for range n {
			<-arrived
		}
		close(release)
	}()
	require.NoError(t, c.Prewarm(context.Background(), n))
	res := &Result{}
	c.Send(context.Background(), &Request{Prompt: "p", MaxTokens: 8}, res)
	require.NoError(t, res.Err)
	close(conns)
	seen := map[string]bool{}
	for a := range conns {
		seen[a] = true
	}
	assert.Len(t, seen, n, "Prewarm(%d) opened %d connections; the request reused one", n, len(seen))
}

func TestClientsPrewarmError(t *testing.T) {
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no key", http.StatusUnauthorized)
	})
	c, err := NewChat(testConfig(srv.URL))
	require.NoError(t, err)
	defer c.Close()
	err = c.Prewarm(context.Background(), 2)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
}

func TestClientsSendAfterCancelledContext(t *testing.T) {
	srv := newStreamServer(t, serveEvents(cannedStream(t, "vllm-completions.sse")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := sendOne(t, kindCompletions, testConfig(srv.URL), Request{Prompt: "p", MaxTokens: 8})
	require.NoError(t, res.Err)
	c := newClient(t, kindCompletions, testConfig(srv.URL))
	res = &Result{}
	c.Send(ctx, &Request{Prompt: "p"}, res)
	require.ErrorIs(t, res.Err, context.Canceled)
	assert.Equal(t, "cancelled", ErrorReason(res.Err))
	assert.False(t, res.Sent.IsZero())
}

func ExampleNewCompletions() {
	// A stand-in server streaming a canned vLLM-style response.
	stream, _ := os.ReadFile("testdata/streams/vllm-completions.sse")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(stream)
	}))
	defer srv.Close()

	client, err := NewCompletions(OpenAIConfig{
		BaseURL:   srv.URL,
		Model:     "Qwen/Qwen3-0.6B",
		IgnoreEOS: true,
		KeepText:  true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	var res Result
	client.Send(context.Background(), &Request{Prompt: "The", MaxTokens: 8}, &res)
	fmt.Println("error:", res.Err)
	fmt.Println("token events:", len(res.Events))
	fmt.Printf("input tokens: %d (%s)\n", res.InputTokens, res.InputSource)
	fmt.Printf("output tokens: %d (%s)\n", res.OutputTokens, res.OutputSource)
	fmt.Printf("text: %q\n", res.Text)
	// Output:
	// error: <nil>
	// token events: 8
	// input tokens: 12 (usage)
	// output tokens: 8 (usage)
	// text: " The quick brown fox café 😀\n\"q\" end"
}

// TestClientsNoAllocationPerToken checks that each client's allocations
// per request do not grow with the tokens streamed: 1008 more tokens cost
// a handful of allocations at most (buffers that grow with the response),
// not one per token.
func TestClientsNoAllocationPerToken(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	for _, tc := range []struct {
		name        string
		newClient   func(OpenAIConfig) (*StreamClient, error)
		contentType string
		stream      func(tokens int) []byte
	}{
		{"completions", NewCompletions, "text/event-stream", ingestStream},
		{"tgi", NewTGI, "text/event-stream", tgiStream},
		{"llama.cpp-native", NewLlamaCppNative, "text/event-stream", llamaStream},
		{"ollama", NewOllama, "application/x-ndjson", ollamaStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocs := func(tokens int) float64 {
				stream := tc.stream(tokens)
				srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", tc.contentType)
					w.Write(stream)
				})
				c, err := tc.newClient(testConfig(srv.URL))
				require.NoError(t, err)
				t.Cleanup(c.Close)
				req := &Request{Prompt: "p", MaxTokens: tokens}
				res := &Result{}
				return testing.AllocsPerRun(20, func() {
					c.Send(context.Background(), req, res)
					if res.Err != nil || len(res.Events) != tokens || res.OutputTokens != tokens {
						t.Fatalf("Send: %v, %d events, %d tokens", res.Err, len(res.Events), res.OutputTokens)
					}
				})
			}
			few, many := allocs(16), allocs(1024)
			t.Logf("allocations per request: %v with 16 tokens, %v with 1024", few, many)
			assert.Less(t, many-few, 16.0, "allocations: %v for 16 tokens, %v for 1024", few, many)
		})
	}
}
