package servingtest

import (
	"net/http"
	"testing"
)

func FuzzParseCall(f *testing.F) {
	for _, s := range []string{
		`{"prompt":"a b","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"prompt":["a"],"max_tokens":1,"ignore_eos":true}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":2}`,
		`{"model":"m","prompt":"x","max_tokens":0}`,
		`{"prompt":null}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		c, apiErr := parseCall(body, chat, "m")
		if (c == nil) == (apiErr == nil) {
			t.Fatalf("parseCall(%q) = %v, %v, want exactly one", body, c, apiErr)
		}
		if apiErr != nil {
			if apiErr.status != http.StatusBadRequest && apiErr.status != http.StatusNotFound {
				t.Fatalf("parseCall(%q) status = %d, want 400 or 404", body, apiErr.status)
			}
			return
		}
		if c.maxTokens < 1 {
			t.Fatalf("parseCall(%q).maxTokens = %d, want >= 1", body, c.maxTokens)
		}
		if c.chat != chat {
			t.Fatalf("parseCall(%q).chat = %v, want %v", body, c.chat, chat)
		}
	})
}
