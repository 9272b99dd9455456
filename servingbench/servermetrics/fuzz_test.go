package servermetrics_test

import (
	"os"
	"strings"
	"testing"

	"github.com/servingbench/servingbench/internal/promtext"
)

// FuzzParse feeds the parser of the scrapes (internal/promtext's
// ParseKinds, over expfmt) real pages (a llama-server's, vLLM-, SGLang-
// and TGI-shaped ones from testdata) and malformed ones: it never panics,
// an error is promtext's and names what was wrong, and a page it accepts
// has a kind for every series.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"llamacpp.txt", "vllm.txt", "sglang.txt", "tgi.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, bad := range []string{
		"", "x", "x 1 2 3", "# TYPE x counter\nx -1\n", "x{a=\"1\" 3\n", "# TYPE x histogram\nx_bucket 1\n",
		"x 1\nx 2\n", "# TYPE x gauge\n# TYPE x counter\nx 1\n", "x{a=\"\\q\"} 1\n", "x NaN\ny +Inf\n", "\xff 1\n",
	} {
		f.Add(bad)
	}
	f.Fuzz(func(t *testing.T, page string) {
		values, kinds, err := promtext.ParseKinds(strings.NewReader(page))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "promtext: ") || len(err.Error()) <= len("promtext: ") {
				t.Fatalf("error %q: want promtext's, saying what was wrong", err)
			}
			return
		}
		for k := range values {
			if _, ok := kinds[k]; !ok {
				t.Fatalf("series %q has no kind", k)
			}
		}
	})
}
