package hftok

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

const testdata = "testdata"

type referenceCase struct {
	Kind    string  `json:"kind"`
	Text    string  `json:"text"`
	IDs     []int   `json:"ids"`
	Decoded *string `json:"decoded"` // absent: the text itself (in NFC)
}

type referenceFile struct {
	Cases []referenceCase `json:"cases"`
}

func loadReference(t testing.TB, family string) []referenceCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, family, "reference_ids.json"))
	require.NoError(t, err)
	var ref referenceFile
	require.NoError(t, json.Unmarshal(data, &ref))
	require.NotEmpty(t, ref.Cases)
	return ref.Cases
}

// loadFamily loads testdata/FAMILY/tokenizer.json[.gz].
func loadFamily(t testing.TB, family string) *Tokenizer {
	t.Helper()
	data := readFamilyJSON(t, family)
	tok, err := Parse(data)
	require.NoError(t, err)
	return tok
}

func readFamilyJSON(t testing.TB, family string) []byte {
	t.Helper()
	dir := filepath.Join(testdata, family)
	if data, err := os.ReadFile(filepath.Join(dir, "tokenizer.json")); err == nil {
		return data
	}
	gz, err := os.ReadFile(filepath.Join(dir, "tokenizer.json.gz"))
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	return data
}

// TestReference checks every reference case of each family: the ids
// HuggingFace produces, and decoding back.
func TestReference(t *testing.T) {
	for _, family := range []string{"qwen3", "llama3", "llama2"} {
		t.Run("family="+family, func(t *testing.T) {
			tok := loadFamily(t, family)
			cases := loadReference(t, family)
			encFailed, decFailed := 0, 0
			for i, c := range cases {
				got := tok.Encode(c.Text, false)
				if !equalInts(got, c.IDs) {
					if encFailed++; encFailed <= 5 {
						t.Errorf("case %d (%s): Encode(%q) =\n %v, want\n %v", i, c.Kind, c.Text, got, c.IDs)
					}
				}
				want := norm.NFC.String(c.Text)
				if c.Decoded != nil {
					want = *c.Decoded
				}
				if got := tok.Decode(c.IDs); got != want {
					if decFailed++; decFailed <= 5 {
						t.Errorf("case %d (%s): Decode(%v) = %q, want %q", i, c.Kind, c.IDs, got, want)
					}
				}
			}
			t.Logf("%s: encode %d/%d cases match, decode %d/%d", family,
				len(cases)-encFailed, len(cases), len(cases)-decFailed, len(cases))
		})
	}
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
