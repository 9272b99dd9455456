package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/hftok/builtin"
	"golang.org/x/text/unicode/norm"
)

const tokenizerTestdata = "testdata"

type tokenizerCase struct {
	Kind    string  `json:"kind"`
	Text    string  `json:"text"`
	IDs     []int   `json:"ids"`
	Decoded *string `json:"decoded"`
}

func tokenizerCases(t testing.TB, family string) []tokenizerCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tokenizerTestdata, family, "reference_ids.json"))
	require.NoError(t, err)
	var ref struct{ Cases []tokenizerCase }
	require.NoError(t, json.Unmarshal(data, &ref))
	require.NotEmpty(t, ref.Cases)
	return ref.Cases
}

var testTokenizers sync.Map // family -> *Tokenizer

// testTokenizer loads testdata/FAMILY once per test binary.
func testTokenizer(t testing.TB, family string) *Tokenizer {
	t.Helper()
	if tok, ok := testTokenizers.Load(family); ok {
		return tok.(*Tokenizer)
	}
	tok, err := Load(filepath.Join(tokenizerTestdata, family))
	require.NoError(t, err)
	testTokenizers.Store(family, tok)
	return tok
}

// checkReference requires every reference case of family: ids and decoding.
func checkReference(t *testing.T, tok *Tokenizer, family string) {
	t.Helper()
	cases := tokenizerCases(t, family)
	bad := 0
	for i, c := range cases {
		want := norm.NFC.String(c.Text)
		if c.Decoded != nil {
			want = *c.Decoded
		}
		got := tok.Encode(c.Text)
		dec := tok.Decode(c.IDs)
		if !assert.Equal(t, c.IDs, got, "case %d: Encode(%q)", i, c.Text) ||
			!assert.Equal(t, want, dec, "case %d: Decode(%v)", i, c.IDs) {
			if bad++; bad > 5 {
				t.FailNow()
			}
		}
	}
	t.Logf("%s: %d/%d reference cases match", family, len(cases)-bad, len(cases))
}

func TestTokenizerReference(t *testing.T) {
	for _, family := range []string{"qwen3", "llama3", "llama2"} {
		t.Run("family="+family, func(t *testing.T) {
			checkReference(t, testTokenizer(t, family), family)
		})
	}
}

func TestDefaultTokenizer(t *testing.T) {
	tok, err := Default()
	require.NoError(t, err)
	again, err := Default()
	require.NoError(t, err)
	assert.Same(t, tok, again, "Default() loads once")
	assert.Equal(t, "builtin:qwen3", tok.Name())
	assert.Equal(t, 151643, tok.VocabSize())
	checkReference(t, tok, "qwen3")
}

func TestTokenizerConfig(t *testing.T) {
	tests := []struct {
		family       string
		bos, eos     SpecialToken
		hasBOS       bool
		addsBOS      bool
		templateFrag string
	}{
		{"qwen3", SpecialToken{}, SpecialToken{"<|im_end|>", 151645}, false, false, "<|im_start|>"},
		{"llama3", SpecialToken{"<|begin_of_text|>", 128000}, SpecialToken{"<|end_of_text|>", 128001}, true, false, "<|start_header_id|>"},
		{"llama2", SpecialToken{"<s>", 1}, SpecialToken{"</s>", 2}, true, true, ""},
	}
	for _, tt := range tests {
		t.Run("family="+tt.family, func(t *testing.T) {
			tok := testTokenizer(t, tt.family)
			bos, ok := tok.BOS()
			assert.Equal(t, tt.hasBOS, ok, "BOS() ok")
			assert.Equal(t, tt.bos, bos, "BOS()")
			eos, ok := tok.EOS()
			assert.True(t, ok, "EOS() ok")
			assert.Equal(t, tt.eos, eos, "EOS()")
			assert.Equal(t, tt.addsBOS, tok.AddsBOS(), "AddsBOS()")
			if tt.templateFrag == "" {
				assert.Empty(t, tok.ChatTemplate())
			} else {
				assert.Contains(t, tok.ChatTemplate(), tt.templateFrag)
			}
			assert.Empty(t, tok.Encode(""), "Encode(\"\")")
			assert.Equal(t, "", tok.Decode(nil), "Decode(nil)")
			assert.Equal(t, "", tok.Decode([]int{}), "Decode([])")
			assert.Equal(t, "", tok.Decode([]int{-1, 1 << 30}), "Decode(out-of-range ids)")
		})
	}
}

func TestEncodeSpecialTokens(t *testing.T) {
	tok, err := Load(filepath.Join(tokenizerTestdata, "qwen3", "tokenizer.json"))
	require.NoError(t, err)
	text := "<|im_start|>user\nhi<|im_end|>"
	assert.Equal(t, []int{151644, 872, 198, 6023, 151645}, tok.Encode(text), "Encode(%q)", text)
	plain := tok.EncodeSpecialAsText(text)
	assert.NotContains(t, plain, 151644, "EncodeSpecialAsText(%q) = %v", text, plain)
	assert.Equal(t, text, tok.Decode(plain), "Decode(EncodeSpecialAsText(%q))", text)
}

// writeTokenizer writes a minimal tokenizer.json with the given model and
// pre-tokenizer.
func writeTokenizer(t *testing.T, dir, model, pre string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	body := fmt.Sprintf(`{"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":%s,"decoder":null,"model":%s}`, pre, model)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(body), 0o644))
}

const tinyBPE = `{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}`

func TestLoadSources(t *testing.T) {
	hub := t.TempDir()
	t.Setenv("HF_HUB_CACHE", hub)
	t.Setenv("HF_HOME", filepath.Join(hub, "unused"))
	repo := filepath.Join(hub, "models--acme--tiny")
	writeTokenizer(t, filepath.Join(repo, "snapshots", "old"), `{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]}`, "null")
	writeTokenizer(t, filepath.Join(repo, "snapshots", "cafe"), tinyBPE, "null")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "refs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "refs", "main"), []byte("cafe\n"), 0o644))

	tok, err := Load("acme/tiny")
	require.NoError(t, err)
	assert.Equal(t, []int{2}, tok.Encode("ab"), "Encode(ab) with the refs/main snapshot")
	assert.Equal(t, "acme/tiny", tok.Name())

	local := filepath.Join(t.TempDir(), "model")
	writeTokenizer(t, local, tinyBPE, "null")
	require.NoError(t, os.WriteFile(filepath.Join(local, "tokenizer_config.json"), []byte(`{"bos_token":{"content":"a"},"eos_token":"zz"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(local, "chat_template.jinja"), []byte("{{ messages }}"), 0o644))
	for _, p := range []string{local, filepath.Join(local, "tokenizer.json")} {
		tok, err := Load(p)
		require.NoError(t, err, "Load(%q)", p)
		assert.Equal(t, []int{2, 0}, tok.Encode("aba"), "Load(%q).Encode(aba)", p)
		bos, _ := tok.BOS()
		assert.Equal(t, SpecialToken{"a", 0}, bos, "BOS() from an AddedToken object")
		eos, ok := tok.EOS()
		assert.Equal(t, SpecialToken{"zz", -1}, eos, "EOS() not in the vocabulary")
		assert.True(t, ok)
		assert.Equal(t, "{{ messages }}", tok.ChatTemplate(), "ChatTemplate() from chat_template.jinja")
	}

	_, err = Load("acme/missing")
	var nf *NotFoundError
	require.True(t, errors.As(err, &nf), "Load(acme/missing) = %v, want *NotFoundError", err)
	assert.Contains(t, nf.Tried, filepath.Join(hub, "models--acme--missing", "snapshots", "*", "tokenizer.json"))
	assert.Contains(t, err.Error(), "acme/missing")

	empty := t.TempDir()
	_, err = Load(empty)
	require.True(t, errors.As(err, &nf), "Load(empty dir) = %v, want *NotFoundError", err)
	assert.Contains(t, nf.Tried, filepath.Join(empty, "tokenizer.json"))
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, model, pre, want string
	}{
		{"wordpiece", `{"type":"WordPiece","vocab":{"a":0}}`, "null", `unsupported component: model "WordPiece"`},
		{"pretokenizer", tinyBPE, `{"type":"BertPreTokenizer"}`, `unsupported component: pre-tokenizer "BertPreTokenizer"`},
		{"lookbehind", tinyBPE, `{"type":"Split","pattern":{"Regex":"(?<=a)b"},"behavior":"Isolated","invert":false}`, "unsupported component: Split regex"},
		{"bad merge", `{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}`, "null", `merged token "ab" not in vocab`},
		{"dropout", `{"type":"BPE","dropout":0.1,"vocab":{"a":0},"merges":[]}`, "null", "unsupported component: model BPE with dropout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTokenizer(t, dir, tt.model, tt.pre)
			_, err := Load(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestResolve(t *testing.T) {
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HOME", t.TempDir())
	qwen := filepath.Join(tokenizerTestdata, "qwen3")
	qwenFile := filepath.Join(qwen, "tokenizer.json")
	tests := []struct {
		name, tokenizer, model string
		want                   Resolution // Tokenizer, ModelErr not compared
		wantModelErr           bool
	}{
		{"tokenizer given", qwen, "ignored/model", Resolution{Source: FromTokenizer, ID: qwen, Path: qwenFile}, false},
		{"model as path", "", qwen, Resolution{Source: FromModel, ID: qwen, Path: qwenFile}, false},
		{"model not found", "", "acme/none", Resolution{Source: FromDefault, ID: DefaultName, Model: "acme/none"}, true},
		{"nothing given", "", "", Resolution{Source: FromDefault, ID: DefaultName}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(tt.tokenizer, tt.model)
			require.NoError(t, err)
			require.NotNil(t, r.Tokenizer)
			assert.Equal(t, tt.want.IsDefault(), r.IsDefault(), "IsDefault()")
			if tt.wantModelErr {
				nf, ok := NotFound(r.ModelErr)
				require.True(t, ok, "Resolve(%q, %q).ModelErr = %v, want *NotFoundError", tt.tokenizer, tt.model, r.ModelErr)
				assert.NotEmpty(t, nf.Tried)
			} else {
				assert.NoError(t, r.ModelErr)
			}
			r.Tokenizer, r.ModelErr = nil, nil
			assert.Equal(t, tt.want, r, "Resolve(%q, %q)", tt.tokenizer, tt.model)
		})
	}
}

func TestResolveTokenizerNotFound(t *testing.T) {
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	_, err := Resolve("acme/none", "ignored")
	nf, ok := NotFound(err)
	require.True(t, ok, "Resolve(acme/none, ...) = %v, want *NotFoundError", err)
	assert.Equal(t, "acme/none", nf.Name)
	assert.NotEmpty(t, nf.Tried)
	assert.NotContains(t, err.Error(), "--tokenizer", "errors speak no CLI flags")
}

// TestEncodeConcurrent encodes from many goroutines at once (run with
// -race) and requires the sequential answers.
func TestEncodeConcurrent(t *testing.T) {
	tok := testTokenizer(t, "qwen3")
	cases := tokenizerCases(t, "qwen3")
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(cases); i += 2 {
				c := cases[i]
				got := tok.Encode(c.Text)
				if fmt.Sprint(got) != fmt.Sprint(c.IDs) {
					errs <- fmt.Sprintf("goroutine %d: Encode(%q) = %v, want %v", g, c.Text, got, c.IDs)
					return
				}
				_ = tok.Decode(got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func ExampleDefault() {
	tok, err := Default()
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("Hello, world!<|im_end|>")
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids))
	// Output:
	// [9707 11 1879 0 151645]
	// "Hello, world!<|im_end|>"
}

// BenchmarkDefaultTokenizerLoad measures what DefaultTokenizer costs on
// first use: decompressing the embedded files and building the tokenizer.
func BenchmarkDefaultTokenizerLoad(b *testing.B) {
	for b.Loop() {
		tj, cj, err := builtin.Qwen3()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := newTokenizer(DefaultName, tj, cj); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenizerEncodeParallel encodes the Qwen3 reference texts from
// GOMAXPROCS goroutines sharing one Tokenizer.
func BenchmarkTokenizerEncodeParallel(b *testing.B) {
	tok := testTokenizer(b, "qwen3")
	cases := tokenizerCases(b, "qwen3")
	tokens := 0
	for _, c := range cases {
		tokens += len(c.IDs)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for _, c := range cases {
				tok.Encode(c.Text)
			}
		}
	})
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
