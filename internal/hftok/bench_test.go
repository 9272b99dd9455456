package hftok

import (
	"strings"
	"testing"
)

// BenchmarkEncode encodes all reference texts of a family per iteration,
// on one goroutine, and reports tokens per second. cache=off disables the
// piece cache, so every piece is merged afresh.
func BenchmarkEncode(b *testing.B) {
	for _, family := range []string{"qwen3", "llama3", "llama2"} {
		for _, cached := range []bool{true, false} {
			name := "family=" + family + "/cache=on"
			if !cached {
				name = "family=" + family + "/cache=off"
			}
			b.Run(name, func(b *testing.B) {
				tok := loadFamily(b, family)
				if !cached {
					tok.model.cache = nil
				}
				cases := loadReference(b, family)
				tokens, bytes := 0, 0
				for _, c := range cases {
					tokens += len(c.IDs)
					bytes += len(c.Text)
				}
				b.SetBytes(int64(bytes))
				b.ResetTimer()
				for b.Loop() {
					for _, c := range cases {
						tok.Encode(c.Text, false)
					}
				}
				b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			})
		}
	}
}

// BenchmarkEncodeLong encodes single long inputs: a prompt of 100k
// Qwen3 tokens (the reference texts joined), and words with no useful
// merges (a run of one letter, a run of spaces) at two sizes, which must
// cost time in proportion to their length.
func BenchmarkEncodeLong(b *testing.B) {
	tok := loadFamily(b, "qwen3")
	cases := loadReference(b, "qwen3")
	var sb strings.Builder
	for n, i := 0, 0; n < 100_000; i++ {
		c := cases[i%len(cases)]
		sb.WriteString(c.Text)
		sb.WriteString("\n")
		n += len(c.IDs) + 1
	}
	prompt := sb.String()
	inputs := []struct{ name, text string }{
		{"text=prompt100k", prompt},
		{"text=letters/bytes=100k", strings.Repeat("a", 100_000)},
		{"text=letters/bytes=400k", strings.Repeat("a", 400_000)},
		{"text=spaces/bytes=100k", strings.Repeat(" ", 100_000)},
		{"text=spaces/bytes=400k", strings.Repeat(" ", 400_000)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			n := len(tok.Encode(in.text, false))
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				tok.Encode(in.text, false)
			}
			b.ReportMetric(float64(n), "tokens")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}

// BenchmarkLoad parses a tokenizer.json already in memory.
func BenchmarkLoad(b *testing.B) {
	for _, family := range []string{"qwen3", "llama3", "llama2"} {
		b.Run("family="+family, func(b *testing.B) {
			data := readFamilyJSON(b, family)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode decodes all reference ids of Qwen3 per iteration.
func BenchmarkDecode(b *testing.B) {
	tok := loadFamily(b, "qwen3")
	cases := loadReference(b, "qwen3")
	tokens := 0
	for _, c := range cases {
		tokens += len(c.IDs)
	}
	for b.Loop() {
		for _, c := range cases {
			tok.Decode(c.IDs)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
