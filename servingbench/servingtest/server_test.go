package servingtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStreamFormat(t *testing.T) {
	checkNoLeak(t)
	const prompt, maxTokens = "one two three four", 5
	for _, chat := range []bool{false, true} {
		for _, u := range []UsagePosition{UsageSeparate, UsageInline, UsageNone} {
			for _, finishChunk := range []bool{false, true} {
				name := fmt.Sprintf("%s/usage=%v/finishchunk=%v", path(chat), u, finishChunk)
				t.Run(name, func(t *testing.T) {
					srv := NewServer(Model{Name: "m", Usage: u, FinishChunk: finishChunk})
					defer srv.Close()
					s := stream(t, srv.URL+path(chat), body(chat, prompt, maxTokens, map[string]any{"ignore_eos": true}))
					require.True(t, s.Done, "stream ends with [DONE]")

					wantObject := "text_completion"
					if chat {
						wantObject = "chat.completion.chunk"
					}
					for i, c := range s.Chunks {
						assert.Equal(t, wantObject, c.Object, "chunk %d object", i)
						assert.Equal(t, "m", c.Model, "chunk %d model", i)
						assert.Equal(t, s.Chunks[0].ID, c.ID, "chunk %d id", i)
					}
					tok := s.tokenEvents()
					require.Len(t, tok, maxTokens, "token events")
					assert.Equal(t, maxTokens, CountWords(s.text()), "words in text %q", s.text())

					next := 0
					if chat {
						role := s.Chunks[0]
						require.Len(t, role.Choices, 1)
						require.NotNil(t, role.Choices[0].Delta)
						require.NotNil(t, role.Choices[0].Delta.Role, "first chat chunk is role-only")
						assert.Equal(t, "assistant", *role.Choices[0].Delta.Role)
						assert.Empty(t, role.content())
						next = 1
					}
					assert.Equal(t, next, tok[0], "first token chunk")
					last := tok[len(tok)-1]
					inline := u == UsageInline
					if finishChunk || inline {
						assert.Empty(t, s.Chunks[last].finish(), "last token chunk has no finish_reason")
						fc := s.Chunks[last+1]
						require.Len(t, fc.Choices, 1, "finish chunk")
						assert.Empty(t, fc.content())
						assert.Equal(t, "length", fc.finish())
						last++
					} else {
						assert.Equal(t, "length", s.Chunks[last].finish(), "finish_reason on the last token chunk")
					}
					wantChunks := last + 1
					switch u {
					case UsageSeparate:
						uc := s.Chunks[last+1]
						assert.Empty(t, uc.Choices, "usage chunk has no choices")
						require.NotNil(t, uc.Usage)
						assert.Equal(t, 4, uc.Usage.PromptTokens)
						assert.Equal(t, maxTokens, uc.Usage.CompletionTokens)
						assert.Equal(t, 4+maxTokens, uc.Usage.TotalTokens)
						wantChunks++
					case UsageInline:
						require.NotNil(t, s.Chunks[last].Usage, "usage inline in the finish chunk")
						assert.Equal(t, maxTokens, s.Chunks[last].Usage.CompletionTokens)
					}
					assert.Len(t, s.Chunks, wantChunks, "chunks")
					for i, c := range s.Chunks {
						if !(u == UsageSeparate && i == len(s.Chunks)-1) && !(inline && i == last) {
							assert.Nil(t, c.Usage, "chunk %d usage", i)
						}
					}

					truth := srv.Truth()
					require.Len(t, truth, 1)
					rec := truth[0]
					assert.Equal(t, 1, rec.Index)
					assert.Equal(t, path(chat), rec.Endpoint)
					assert.Equal(t, prompt, rec.Prompt)
					assert.Equal(t, 4, rec.PromptTokens)
					assert.Equal(t, maxTokens, rec.OutputTokens)
					assert.Equal(t, http.StatusOK, rec.Status)
					assert.Equal(t, "length", rec.FinishReason)
					assert.Equal(t, FaultNone, rec.Fault)
					assert.Len(t, rec.Chunks, maxTokens)
					assert.Equal(t, []int{1, 1, 1, 1, 1}, rec.ChunkTokens)
					assert.False(t, rec.Admitted.Before(rec.Received), "Admitted %v before Received %v", rec.Admitted, rec.Received)
				})
			}
		}
	}
}

func TestUsageOnlyWhenAsked(t *testing.T) {
	srv := NewServer(Model{})
	defer srv.Close()
	s := stream(t, srv.URL+"/v1/completions", body(false, "a b", 3, map[string]any{"stream_options": nil}))
	for i, c := range s.Chunks {
		assert.Nil(t, c.Usage, "chunk %d", i)
	}
	assert.Len(t, s.Chunks, 3)
}

func TestNonStreaming(t *testing.T) {
	srv := NewServer(Model{Name: "m"})
	defer srv.Close()
	for _, chat := range []bool{false, true} {
		t.Run(path(chat), func(t *testing.T) {
			resp := post(t, srv.URL+path(chat), body(chat, "hello there", 6, map[string]any{"stream": false}))
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var got struct {
				Object  string
				Choices []struct {
					Text         string
					FinishReason string `json:"finish_reason"`
					Message      struct{ Role, Content string }
				}
				Usage struct {
					PromptTokens     int `json:"prompt_tokens"`
					CompletionTokens int `json:"completion_tokens"`
				}
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			require.Len(t, got.Choices, 1)
			text := got.Choices[0].Text
			if chat {
				assert.Equal(t, "chat.completion", got.Object)
				assert.Equal(t, "assistant", got.Choices[0].Message.Role)
				text = got.Choices[0].Message.Content
			}
			assert.Equal(t, 6, CountWords(text), "text %q", text)
			assert.Equal(t, "length", got.Choices[0].FinishReason)
			assert.Equal(t, 2, got.Usage.PromptTokens)
			assert.Equal(t, 6, got.Usage.CompletionTokens)

			// The same prompt streamed gives the same text.
			s := stream(t, srv.URL+path(chat), body(chat, "hello there", 6, nil))
			assert.Equal(t, text, s.text())
		})
	}
}

func TestValidation(t *testing.T) {
	srv := NewServer(Model{Name: "m", KVCacheTokens: 100})
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		path   string
		body   string
		status int
		param  string
	}{
		{"bad json", "/v1/completions", `{"prompt": "a",`, 400, ""},
		{"not an object", "/v1/completions", `[1,2]`, 400, ""},
		{"missing prompt", "/v1/completions", `{"max_tokens": 3}`, 400, "prompt"},
		{"prompt number", "/v1/completions", `{"prompt": 3, "max_tokens": 3}`, 400, "prompt"},
		{"missing max_tokens", "/v1/completions", `{"prompt": "a"}`, 400, "max_tokens"},
		{"zero max_tokens", "/v1/completions", `{"prompt": "a", "max_tokens": 0}`, 400, "max_tokens"},
		{"negative max_tokens", "/v1/completions", `{"prompt": "a", "max_tokens": -2}`, 400, "max_tokens"},
		{"too long for the KV cache", "/v1/completions", `{"prompt": "a b", "max_tokens": 99}`, 400, "max_tokens"},
		{"wrong model", "/v1/completions", `{"model": "other", "prompt": "a", "max_tokens": 3}`, 404, "model"},
		{"missing messages", "/v1/chat/completions", `{"max_tokens": 3}`, 400, "messages"},
		{"empty messages", "/v1/chat/completions", `{"messages": [], "max_tokens": 3}`, 400, "messages"},
		{"message without role", "/v1/chat/completions", `{"messages": [{"content": "a"}], "max_tokens": 3}`, 400, "messages[0].role"},
		{"message content number", "/v1/chat/completions", `{"messages": [{"role": "user", "content": 1}], "max_tokens": 3}`, 400, "messages[0].content"},
		{"zero max_completion_tokens", "/v1/chat/completions", `{"messages": [{"role": "user", "content": "a"}], "max_completion_tokens": 0}`, 400, "max_completion_tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv.URL+tc.path, tc.body)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var e struct {
				Error struct {
					Message string
					Type    string
					Param   *string
					Code    int
				}
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
			assert.NotEmpty(t, e.Error.Message)
			assert.NotEmpty(t, e.Error.Type)
			assert.Equal(t, tc.status, e.Error.Code)
			if tc.param == "" {
				assert.Nil(t, e.Error.Param)
			} else if assert.NotNil(t, e.Error.Param) {
				assert.Equal(t, tc.param, *e.Error.Param)
			}
		})
	}
	t.Run("chat content parts and max_tokens", func(t *testing.T) {
		s := stream(t, srv.URL+"/v1/chat/completions",
			`{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi you"}]}],"max_tokens":2,"stream":true}`)
		assert.Len(t, s.tokenEvents(), 2)
	})
	t.Run("truth records the status", func(t *testing.T) {
		var statuses []int
		for _, r := range srv.Truth() {
			statuses = append(statuses, r.Status)
		}
		assert.Contains(t, statuses, 400)
		assert.Contains(t, statuses, 404)
	})
}

func TestSideEndpoints(t *testing.T) {
	srv := NewServer(Model{Name: "m1", KVCacheTokens: 4096})
	defer srv.Close()
	get := func(p string) (int, string, string) {
		resp, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, _, _ := get("/health")
	assert.Equal(t, 200, code)

	code, ct, b := get("/version")
	assert.Equal(t, 200, code)
	assert.Equal(t, "application/json", ct)
	var v struct{ Version string }
	require.NoError(t, json.Unmarshal([]byte(b), &v))
	assert.True(t, strings.HasPrefix(v.Version, "servingtest-"), "version %q", v.Version)

	code, _, b = get("/v1/models")
	assert.Equal(t, 200, code)
	var models struct {
		Object string
		Data   []struct {
			ID          string
			MaxModelLen int `json:"max_model_len"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(b), &models))
	assert.Equal(t, "list", models.Object)
	require.Len(t, models.Data, 1)
	assert.Equal(t, "m1", models.Data[0].ID)
	assert.Equal(t, 4096, models.Data[0].MaxModelLen)

	code, _, _ = get("/v1/completions")
	assert.Equal(t, http.StatusMethodNotAllowed, code, "GET /v1/completions")
}

func TestNewServerInvalidModel(t *testing.T) {
	for _, tc := range []struct {
		m     Model
		field string
	}{
		{Model{DecodeBase: -1}, "DecodeBase"},
		{Model{FirstTokenDelay: -1}, "FirstTokenDelay must be >= 0"},
		{Model{FirstTokenDelay: 1e9}, "FirstTokenDelay (1s) needs a DecodeBase > 0"},
		{Model{MaxRunning: -1}, "MaxRunning"},
		{Model{KVCacheTokens: -1}, "KVCacheTokens"},
		{Model{TokensPerChunk: -1}, "TokensPerChunk"},
		{Model{Usage: 9}, "Usage"},
		{Model{EOSFraction: 1.5}, "EOSFraction"},
		{Model{Speed: -1}, "Speed"},
		{Model{Faults: []Fault{{}}}, "Faults[0]"},
		{Model{Faults: []Fault{{Kind: FaultReset, Every: -1}}}, "Every"},
	} {
		err := tc.m.Validate()
		if assert.Error(t, err, "Validate(%+v)", tc.m) {
			assert.Contains(t, err.Error(), tc.field)
		}
		assert.Panics(t, func() { NewServer(tc.m) })
	}
	assert.NoError(t, Model{}.Validate())
	for _, m := range []Model{ZeroCost(), Sim7BFP16(), Sim7BW8A8(), Realistic(10)} {
		assert.NoError(t, m.Validate(), m.Name)
	}
}
