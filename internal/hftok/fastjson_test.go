package hftok

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFastJSONMatchesEncodingJSON reads each testdata file both ways.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	for _, family := range []string{"qwen3", "llama3", "llama2"} {
		t.Run("family="+family, func(t *testing.T) {
			data := readFamilyJSON(t, family)
			var want struct {
				Model struct {
					Vocab  map[string]int32 `json:"vocab"`
					Merges json.RawMessage  `json:"merges"`
				} `json:"model"`
			}
			require.NoError(t, json.Unmarshal(data, &want))
			cfg, err := parseConfig(data)
			require.NoError(t, err)
			assert.Equal(t, want.Model.Vocab, cfg.Model.Vocab, "parseVocab")
			got, err := parseMergesFast(cfg.Model.Merges)
			require.NoError(t, err)
			var pairs [][2]string
			if json.Unmarshal(want.Model.Merges, &pairs) != nil {
				pairs = nil
				var lines []string
				require.NoError(t, json.Unmarshal(want.Model.Merges, &lines))
				for _, l := range lines {
					p, err := splitMerge(l)
					require.NoError(t, err)
					pairs = append(pairs, p)
				}
			}
			assert.Equal(t, pairs, got, "parseMergesFast")
		})
	}
}

func TestFastJSONErrors(t *testing.T) {
	bad := []string{
		`{"model":`, `{"model":{"vocab":{"a":}}}`, `{"model":{"vocab":{"a":1,}}}`,
		`{"model":{"vocab":{"a" 1}}}`, `{"model":{"vocab":{"a":1},"merges":["a"]}}`,
		`{"model":{"vocab":{"a":1},"merges":[["a"]]}}`, `{"model":{"vocab":{"a\":1}}}`,
		`[]`, ``, `{"model":{"vocab":{"a":99999999999}}}`,
	}
	for _, in := range bad {
		_, err := Parse([]byte(in))
		assert.Error(t, err, "Parse(%s)", in)
	}
}

func FuzzParseVocab(f *testing.F) {
	f.Add(`{"a":1,"b\"c":2, "\u00e9" : 3}`)
	f.Add(`{}`)
	f.Add(`{"\ud83d\ude00":-1}`)
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseVocab([]byte(in))
		var want map[string]int32
		werr := json.Unmarshal([]byte(in), &want)
		// Where both accept the input they must agree. (encoding/json
		// accepts a little more, such as ids written 1e0, and the fast
		// reader is laxer on raw control characters in strings.)
		if err == nil && werr == nil {
			require.Equal(t, fmt.Sprint(want), fmt.Sprint(got), "parseVocab(%q)", in)
		}
	})
}
