package hftok

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

const testdata = "../../scenarios/testdata/tokenizers"

type referenceFile struct {
	Cases []struct {
		Kind    string  `json:"kind"`
		Text    string  `json:"text"`
		IDs     []int   `json:"ids"`
		Decoded *string `json:"decoded"`
	} `json:"cases"`
}

func loadReference(t testing.TB, family string) referenceFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, family, "reference_ids.json"))
	require.NoError(t, err)
	var ref referenceFile
	require.NoError(t, json.Unmarshal(data, &ref))
	return ref
}

func TestQwen3Reference(t *testing.T) {
	tok, err := LoadFile(filepath.Join(testdata, "qwen3", "tokenizer.json"))
	require.NoError(t, err)
	ref := loadReference(t, "qwen3")
	failed := 0
	for i, c := range ref.Cases {
		got := tok.Encode(c.Text, false)
		if !equalInts(got, c.IDs) {
			failed++
			if failed < 10 {
				t.Errorf("case %d (%s): Encode(%q) =\n %v, want\n %v", i, c.Kind, c.Text, got, c.IDs)
			}
		}
		// Decoding gives the text back, in NFC (the normalizer's form).
		if got, want := tok.Decode(c.IDs), norm.NFC.String(c.Text); got != want {
			t.Errorf("case %d (%s): Decode(%v) = %q, want %q", i, c.Kind, c.IDs, got, want)
		}
	}
	t.Logf("Qwen3: %d/%d cases match", len(ref.Cases)-failed, len(ref.Cases))
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
