package servingtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden response bodies under testdata/golden")

// goldenCase is one response whose bytes are pinned in testdata/golden.
type goldenCase struct {
	name  string
	path  string
	model Model
	body  any
}

// openAIGoldenCases are the OpenAI layouts and the faults whose bodies are
// complete (not cut by a reset or a stall). Their golden files were
// written before the server spoke other protocols, so they pin the OpenAI
// output byte for byte.
func openAIGoldenCases() []goldenCase {
	var cases []goldenCase
	for _, chat := range []bool{false, true} {
		kind := "completions"
		if chat {
			kind = "chat"
		}
		add := func(name string, m Model, extra map[string]any) {
			m.Name, m.DecodeBase = "m", time.Millisecond
			cases = append(cases, goldenCase{name: kind + "-" + name, path: path(chat), model: m,
				body: body(chat, "one two three", 5, extra)})
		}
		add("separate", Model{}, map[string]any{"ignore_eos": true})
		add("inline", Model{Usage: UsageInline}, map[string]any{"ignore_eos": true})
		add("none", Model{Usage: UsageNone}, map[string]any{"ignore_eos": true})
		add("finish-chunk", Model{FinishChunk: true}, map[string]any{"ignore_eos": true})
		add("no-usage-asked", Model{}, map[string]any{"stream_options": nil})
		add("three-a-chunk", Model{TokensPerChunk: 3}, nil)
		add("early-stop", Model{EOSFraction: 1, Seed: 3}, nil)
		add("non-streamed", Model{}, map[string]any{"stream": false})
		for _, f := range []Fault{
			{Kind: FaultPings}, {Kind: FaultMalformedJSON, After: 1}, {Kind: FaultMalformedJSON},
			{Kind: FaultNoDone}, {Kind: FaultTruncate, After: 2}, {Kind: FaultInvalidUTF8, After: 1},
			{Kind: FaultHugeLine, After: 1}, {Kind: FaultTrickle}, {Kind: FaultWrongContentType},
			{Kind: FaultInternal}, {Kind: FaultRateLimit, RetryAfter: time.Second},
		} {
			m := Model{Faults: []Fault{f}}
			if f.Kind == FaultPings {
				m.Usage = UsageInline // pings before the finish chunk too
			}
			add(fmt.Sprintf("%v-after-%d", f.Kind, f.After), m, map[string]any{"ignore_eos": true})
		}
	}
	return cases
}

// nativeGoldenFaults are the faults pinned on every native protocol: those
// whose bytes differ from a normal stream, and FaultNoDone, which shows
// the protocols it does not apply to stream normally.
var nativeGoldenFaults = []Fault{
	{Kind: FaultPings}, {Kind: FaultMalformedJSON, After: 1}, {Kind: FaultErrorEvent, After: 1},
	{Kind: FaultTruncate, After: 2}, {Kind: FaultInvalidUTF8, After: 1}, {Kind: FaultHugeLine, After: 1},
	{Kind: FaultWrongContentType}, {Kind: FaultRateLimit, RetryAfter: time.Second}, {Kind: FaultInternal},
	{Kind: FaultNoDone},
}

// nativeGoldenCases are TGI's and llama.cpp's responses: the layouts, the
// errors and the faults that change their bytes. Checked by eye against
// TGI's router (router/src/lib.rs, server.rs, validation.rs) and a
// llama-server b11669 capture (servingbench/testdata/streams).
func nativeGoldenCases() []goldenCase {
	var cases []goldenCase
	tgiBody := func(params map[string]any) map[string]any {
		p := map[string]any{"max_new_tokens": 3, "details": true, "do_sample": true, "temperature": 0.01, "top_p": 0.99}
		for k, v := range params {
			if v == nil {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		return map[string]any{"inputs": "one two three", "parameters": p}
	}
	llamaBody := func(extra map[string]any) map[string]any {
		b := map[string]any{"prompt": "one two three", "n_predict": 3, "ignore_eos": true, "stream": true}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	add := func(name, path string, m Model, body any) {
		m.Name, m.DecodeBase = "m", time.Millisecond
		cases = append(cases, goldenCase{name: name, path: path, model: m, body: body})
	}
	add("tgi-stream", "/generate_stream", Model{}, tgiBody(nil))
	add("tgi-greedy-no-details", "/generate_stream", Model{}, tgiBody(map[string]any{"details": nil, "do_sample": nil, "temperature": nil, "top_p": nil}))
	add("tgi-early-stop", "/generate_stream", Model{EOSFraction: 1, Seed: 3}, tgiBody(map[string]any{"max_new_tokens": 5}))
	add("tgi-three-a-flush", "/generate_stream", Model{TokensPerChunk: 3}, tgiBody(map[string]any{"max_new_tokens": 4}))
	add("tgi-generate", "/generate", Model{}, tgiBody(nil))
	add("tgi-invalid-temperature", "/generate_stream", Model{}, tgiBody(map[string]any{"temperature": 0}))
	add("tgi-invalid-temperature-generate", "/generate", Model{}, tgiBody(map[string]any{"temperature": 0}))
	add("tgi-too-long", "/generate_stream", Model{KVCacheTokens: 4}, tgiBody(nil))
	add("llama-stream", "/completion", Model{}, llamaBody(nil))
	add("llama-three-a-flush", "/completion", Model{TokensPerChunk: 3}, llamaBody(map[string]any{"n_predict": 4}))
	add("llama-early-stop", "/completion", Model{EOSFraction: 1, Seed: 3}, llamaBody(map[string]any{"n_predict": 5, "ignore_eos": false}))
	add("llama-non-streamed", "/completion", Model{}, llamaBody(map[string]any{"stream": false}))
	add("llama-too-long", "/completion", Model{KVCacheTokens: 4}, llamaBody(nil))
	add("llama-no-n-predict", "/completion", Model{}, map[string]any{"prompt": "a", "stream": true})
	for _, f := range nativeGoldenFaults {
		name := fmt.Sprintf("%v-after-%d", f.Kind, f.After)
		add("tgi-"+name, "/generate_stream", Model{Faults: []Fault{f}}, tgiBody(nil))
		add("llama-"+name, "/completion", Model{Faults: []Fault{f}}, llamaBody(nil))
	}
	for _, f := range []Fault{{Kind: FaultErrorEvent, After: 1}} {
		m := Model{Faults: []Fault{f}}
		m.Name, m.DecodeBase = "m", time.Millisecond
		cases = append(cases,
			goldenCase{name: "completions-error-event-after-1", path: "/v1/completions", model: m,
				body: body(false, "one two three", 5, map[string]any{"ignore_eos": true})},
			goldenCase{name: "chat-error-event-after-1", path: "/v1/chat/completions", model: m,
				body: body(true, "one two three", 5, map[string]any{"ignore_eos": true})})
	}
	return cases
}

// TestGoldenBodies pins whole response bodies, in a synctest bubble so that
// "created" and every other time is the bubble's. A body longer than 64 KiB
// (FaultHugeLine's) is pinned by its SHA-256.
func TestGoldenBodies(t *testing.T) {
	for _, gc := range append(append(openAIGoldenCases(), nativeGoldenCases()...), newerGoldenCases()...) {
		t.Run(gc.name, func(t *testing.T) {
			got := goldenBody(t, gc)
			file := filepath.Join("testdata", "golden", gc.name+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
				require.NoError(t, os.WriteFile(file, got, 0o644))
				return
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run go test -update once to write it")
			assert.Equal(t, string(want), string(got), "response to %s %v", gc.path, gc.body)
		})
	}
}

// goldenBody posts gc.body and returns the status line, the Content-Type
// and the body (or its digest when large).
func goldenBody(t *testing.T, gc goldenCase) []byte {
	t.Helper()
	var out []byte
	synctest.Test(t, func(t *testing.T) {
		srv := NewUnstartedServer(gc.model)
		srv.Listener = NewListener()
		srv.Start()
		defer srv.Close()
		b, err := json.Marshal(gc.body)
		require.NoError(t, err)
		resp, err := srv.Client().Post(srv.URL+gc.path, "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "HTTP %d\nContent-Type: %s\n", resp.StatusCode, resp.Header.Get("Content-Type"))
		if h := resp.Header.Get("Retry-After"); h != "" {
			fmt.Fprintf(&buf, "Retry-After: %s\n", h)
		}
		buf.WriteString("\n")
		if len(body) > 64<<10 {
			fmt.Fprintf(&buf, "%d bytes, sha256 %x\n", len(body), sha256.Sum256(body))
		} else {
			buf.Write(body)
		}
		out = buf.Bytes()
	})
	return out
}
