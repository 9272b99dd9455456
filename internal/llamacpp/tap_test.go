package llamacpp_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// tap is a loopback TCP proxy in front of the server that records the
// bytes of every connection in both directions. It forwards bytes as they
// come and mirrors each side's close, so the client under test sees the
// server's own connection behaviour (llama-server closes the connection
// after every streamed response), with its own transport and connection
// pool; the test then reads the server's raw responses, which
// servingbench does not expose (timings), from the recording.
type tap struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []*tapConn
	wg     sync.WaitGroup
}

// tapConn records one connection: the client's bytes and the server's.
type tapConn struct {
	client, server     net.Conn
	toServer, toClient lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// newTap starts a tap to target ("127.0.0.1:PORT") and stops it, waiting
// for every connection, in t.Cleanup. Its URL is "http://" + t.addr().
func newTap(t testing.TB, target string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tap{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns { // idle keep-alive connections included
			c.client.Close()
			c.server.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *tap) url() string { return "http://" + p.ln.Addr().String() }

func (p *tap) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.relay(c.(*net.TCPConn)) })
	}
}

// relay copies both ways. The recording is written before the bytes are
// forwarded, so it always holds at least what the other side received.
func (p *tap) relay(client *net.TCPConn) {
	defer client.Close()
	sc, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	server := sc.(*net.TCPConn)
	defer server.Close()
	tc := &tapConn{client: client, server: server}
	p.mu.Lock()
	p.conns = append(p.conns, tc)
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(io.MultiWriter(&tc.toServer, server), client)
		_ = server.CloseWrite() // the client is done sending
	})
	_, _ = io.Copy(io.MultiWriter(&tc.toClient, client), server)
	// The server closed (or failed): close the client side as it did, which
	// also ends the other copy.
	client.Close()
	wg.Wait()
}

// streams parses the recording into the server's response bodies, keyed
// by the request's prompt (completions "prompt", or the content of chat's
// last message: the single user message, or a conversation turn's own).
// Requests without a complete response head (never answered: the server
// had closed the connection) are left out; a prompt
// answered twice keeps its last response.
func (p *tap) streams() (map[string][]byte, error) {
	p.mu.Lock()
	conns := append([]*tapConn(nil), p.conns...)
	p.mu.Unlock()
	out := map[string][]byte{}
	for _, c := range conns {
		reqs := bufio.NewReader(bytes.NewReader(c.toServer.bytes()))
		resps := bufio.NewReader(bytes.NewReader(c.toClient.bytes()))
		for {
			req, err := http.ReadRequest(reqs)
			if err != nil {
				break
			}
			body, err := io.ReadAll(req.Body)
			if err != nil {
				break
			}
			resp, err := http.ReadResponse(resps, req)
			if err != nil {
				break
			}
			stream, err := io.ReadAll(resp.Body)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("tap: response to %s %s: %w", req.Method, req.URL, err)
			}
			if req.Method != http.MethodPost {
				continue
			}
			var in struct {
				Prompt   string `json:"prompt"`
				Messages []struct {
					Content string `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, fmt.Errorf("tap: request body %q: %w", body, err)
			}
			key := in.Prompt
			if len(in.Messages) > 0 { // a conversation turn's own message is its last
				key = in.Messages[len(in.Messages)-1].Content
			}
			out[key] = stream
		}
	}
	return out, nil
}

// rawStream is what the test reads from a captured SSE body, independently
// of servingbench's own decoder.
type rawStream struct {
	// Tokens counts chunks with generated text (completions "text" or chat
	// "delta.content" not empty).
	Tokens int
	// RoleOnly counts chat chunks with a role and no content.
	RoleOnly int
	// FinishReason is the last finish_reason seen.
	FinishReason string
	// UsageInChoicesChunk is true when usage came inside a chunk with
	// choices (llama.cpp completions), false when in a choices-less chunk
	// (llama.cpp chat, vLLM).
	UsageInChoicesChunk bool
	Usage               *usage
	Timings             *timings
	Done                bool
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// timings is llama.cpp's per-request timing report, in milliseconds.
// prompt_ms runs from the start of the request's prompt processing in its
// slot to the sampling of the first token; predicted_ms from then to the
// sampling of the last token; predicted_per_token_ms is
// predicted_ms / (predicted_n - 1).
type timings struct {
	CacheN              int     `json:"cache_n"`
	PromptN             int     `json:"prompt_n"`
	PromptMS            float64 `json:"prompt_ms"`
	PredictedN          int     `json:"predicted_n"`
	PredictedMS         float64 `json:"predicted_ms"`
	PredictedPerTokenMS float64 `json:"predicted_per_token_ms"`
}

func parseStream(b []byte) (*rawStream, error) {
	s := &rawStream{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			s.Done = true
			continue
		}
		var ch struct {
			Choices []struct {
				Text  *string `json:"text"`
				Delta *struct {
					Role    string  `json:"role"`
					Content *string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage   *usage   `json:"usage"`
			Timings *timings `json:"timings"`
		}
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			return nil, fmt.Errorf("chunk %q: %w", data, err)
		}
		for _, c := range ch.Choices {
			switch {
			case c.Text != nil && *c.Text != "":
				s.Tokens++
			case c.Delta != nil && c.Delta.Content != nil && *c.Delta.Content != "":
				s.Tokens++
			case c.Delta != nil && c.Delta.Role != "":
				s.RoleOnly++
			}
			if c.FinishReason != nil {
				s.FinishReason = *c.FinishReason
			}
		}
		if ch.Usage != nil {
			s.Usage, s.UsageInChoicesChunk = ch.Usage, len(ch.Choices) > 0
		}
		if ch.Timings != nil {
			s.Timings = ch.Timings
		}
	}
	return s, sc.Err()
}
