package scenarios

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// otherDataset is a Dataset of another package: Scale sets only its
// NumPrompts.
type otherDataset struct{ name string }

func (d otherDataset) Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error) {
	return make([]servingbench.Request, n), nil
}

func (d otherDataset) String() string { return d.name }

func TestScaled(t *testing.T) {
	tests := []struct {
		name     string
		d        Dataset
		n        int // the scenario's NumPrompts, 100 when 0
		sc       Scale
		want     Dataset
		wantStr  string // the scaled scenario's String
		wantErrs []string
	}{
		{name: "zero scale keeps all", d: Random{InputLen: 256, OutputLen: 128}, sc: Scale{},
			want: Random{InputLen: 256, OutputLen: 128}, wantStr: "dataset=random/in=256/out=128/n=100/rate=inf"},
		{name: "random all", d: Random{InputLen: 256, OutputLen: 128, RangeRatio: 0.5, PrefixLen: 8, ExactLength: true},
			sc:      Scale{NumPrompts: 8, InputLen: 64, OutputLen: 16},
			want:    Random{InputLen: 64, OutputLen: 16, RangeRatio: 0.5, PrefixLen: 8, ExactLength: true},
			wantStr: "dataset=random/in=64/out=16/range=0.5/prefix=8/exact=true/n=8/rate=inf"},
		{name: "random defaults, output only", d: Random{}, sc: Scale{OutputLen: 16},
			want: Random{OutputLen: 16}, wantStr: "dataset=random/in=1024/out=16/n=100/rate=inf"},
		{name: "random prompts only", d: Random{InputLen: 32}, sc: Scale{NumPrompts: 3},
			want: Random{InputLen: 32}, wantStr: "dataset=random/in=32/out=128/n=3/rate=inf"},
		{name: "sonnet input scales the prefix", d: Sonnet{Path: sonnetFixture}, sc: Scale{InputLen: 275, OutputLen: 50},
			want:    Sonnet{Path: sonnetFixture, InputLen: 275, OutputLen: 50, PrefixLen: 100},
			wantStr: "dataset=sonnet/file=sonnet.txt/in=275/out=50/prefix=100/n=100/rate=inf"},
		{name: "sonnet prefix at least 1", d: Sonnet{Path: sonnetFixture, InputLen: 600, PrefixLen: 1}, sc: Scale{InputLen: 60},
			want: Sonnet{Path: sonnetFixture, InputLen: 60, PrefixLen: 1}, wantStr: "dataset=sonnet/file=sonnet.txt/in=60/out=150/prefix=1/n=100/rate=inf"},
		{name: "sonnet output only", d: Sonnet{Path: sonnetFixture}, sc: Scale{OutputLen: 10},
			want: Sonnet{Path: sonnetFixture, OutputLen: 10}, wantStr: "dataset=sonnet/file=sonnet.txt/in=550/out=10/prefix=200/n=100/rate=inf"},
		{name: "prefix repetition halves", d: PrefixRepetition{}, sc: Scale{NumPrompts: 20, InputLen: 128, OutputLen: 32},
			want:    PrefixRepetition{PrefixLen: 64, SuffixLen: 64, OutputLen: 32},
			wantStr: "dataset=prefix-repetition/prefix=64/suffix=64/prefixes=10/out=32/n=20/rate=inf"},
		{name: "prefix repetition proportion", d: PrefixRepetition{PrefixLen: 300, SuffixLen: 100, NumPrefixes: 2}, sc: Scale{InputLen: 41},
			want: PrefixRepetition{PrefixLen: 31, SuffixLen: 10, NumPrefixes: 2}, wantStr: "dataset=prefix-repetition/prefix=31/suffix=10/prefixes=2/out=128/n=100/rate=inf"},
		{name: "prefix repetition two tokens", d: PrefixRepetition{PrefixLen: 500, SuffixLen: 1}, sc: Scale{InputLen: 2},
			want: PrefixRepetition{PrefixLen: 1, SuffixLen: 1}, wantStr: "dataset=prefix-repetition/prefix=1/suffix=1/prefixes=10/out=128/n=100/rate=inf"},
		{name: "prefix repetition one token", d: PrefixRepetition{}, sc: Scale{InputLen: 1},
			wantErrs: []string{"scenarios: Scale.InputLen: dataset prefix-repetition needs at least 2 (a prefix and a suffix token), got 1"}},
		{name: "prefix repetition fewer prompts than prefixes", d: PrefixRepetition{NumPrefixes: 6}, sc: Scale{NumPrompts: 5},
			wantErrs: []string{"scenarios: Scale.NumPrompts: dataset prefix-repetition needs at least its 6 prefixes (NumPrefixes), got 5"}},
		{name: "prefix repetition keeps a small NumPrompts it was not given", d: PrefixRepetition{}, n: 3, sc: Scale{OutputLen: 4},
			want: PrefixRepetition{OutputLen: 4}, wantStr: "dataset=prefix-repetition/prefix=256/suffix=256/prefixes=10/out=4/n=3/rate=inf"},
		{name: "sharegpt output", d: ShareGPT{Path: shareGPTFixture}, sc: Scale{NumPrompts: 2, OutputLen: 64},
			want: ShareGPT{Path: shareGPTFixture, OutputLen: 64}, wantStr: "dataset=sharegpt/file=sharegpt.json/out=64/n=2/rate=inf"},
		{name: "sharegpt input", d: ShareGPT{Path: shareGPTFixture}, sc: Scale{InputLen: 64},
			wantErrs: []string{"scenarios: Scale.InputLen: dataset sharegpt has no input length (its prompts are the conversations' first turns)"}},
		{name: "custom output", d: Custom{Path: customFixture, OutputLen: 100, NoShuffle: true}, sc: Scale{OutputLen: 8},
			want:    Custom{Path: customFixture, OutputLen: 8, NoShuffle: true, IgnoreOutputTokens: true},
			wantStr: "dataset=custom/file=custom.jsonl/out=8/shuffle=false/output-tokens=ignored/n=100/rate=inf"},
		{name: "custom prompts only", d: Custom{Path: customFixture}, sc: Scale{NumPrompts: 4},
			want: Custom{Path: customFixture}, wantStr: "dataset=custom/file=custom.jsonl/out=256/n=4/rate=inf"},
		{name: "custom input", d: Custom{Path: customFixture}, sc: Scale{InputLen: 8, OutputLen: 8},
			wantErrs: []string{"scenarios: Scale.InputLen: dataset custom has no input length (its prompts are the file's)"}},
		{name: "burstgpt prompts", d: BurstGPT{Path: burstFixture}, sc: Scale{NumPrompts: 2},
			want: BurstGPT{Path: burstFixture}, wantStr: "dataset=burstgpt/file=burstgpt.csv/model=GPT-4/n=2/rate=trace"},
		{name: "burstgpt lengths", d: BurstGPT{Path: burstFixture}, sc: Scale{InputLen: 8, OutputLen: 8},
			wantErrs: []string{
				"scenarios: Scale.InputLen: dataset burstgpt has no input length (its lengths are the trace's)",
				"scenarios: Scale.OutputLen: dataset burstgpt has no output length (its lengths are the trace's)"}},
		{name: "other dataset prompts", d: otherDataset{"dataset=mine/k=v"}, sc: Scale{NumPrompts: 7},
			want: otherDataset{"dataset=mine/k=v"}, wantStr: "dataset=mine/k=v/n=7/rate=inf"},
		{name: "other dataset lengths", d: otherDataset{"dataset=mine/k=v"}, sc: Scale{InputLen: 1, OutputLen: 1},
			wantErrs: []string{"scenarios: Scale.InputLen: dataset mine has no input length", "scenarios: Scale.OutputLen: dataset mine has no output length"}},
		{name: "other dataset unnamed", d: otherDataset{"mine"}, sc: Scale{OutputLen: 1},
			wantErrs: []string{"scenarios: Scale.OutputLen: dataset scenarios.otherDataset has no output length"}},
		{name: "no dataset", d: nil, sc: Scale{OutputLen: 1}, wantErrs: []string{"scenarios: Scale: Scenario.Dataset is nil"}},
		{name: "negative", d: Random{}, sc: Scale{NumPrompts: -1, InputLen: -2, OutputLen: -3},
			wantErrs: []string{
				"scenarios: Scale.NumPrompts must be >= 0 (0 keeps the scenario's), got -1",
				"scenarios: Scale.InputLen must be >= 0 (0 keeps the scenario's), got -2",
				"scenarios: Scale.OutputLen must be >= 0 (0 keeps the scenario's), got -3"}},
		{name: "negative with a dataset error", d: ShareGPT{Path: "x"}, sc: Scale{NumPrompts: -1, InputLen: 5},
			wantErrs: []string{"scenarios: Scale.NumPrompts must be >= 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Scenario{Dataset: tt.d, NumPrompts: cmpOr(tt.n, 100)}
			if _, ok := tt.d.(BurstGPT); ok {
				s.RequestRate = 0
			}
			got, err := s.Scaled(tt.sc)
			if tt.wantErrs != nil {
				require.Error(t, err, "Scaled(%+v)", tt.sc)
				for _, w := range tt.wantErrs {
					assert.ErrorContains(t, err, w, "Scaled(%+v)", tt.sc)
				}
				assert.Equal(t, s, got, "Scaled(%+v) on error changed the scenario", tt.sc)
				return
			}
			require.NoError(t, err, "Scaled(%+v)", tt.sc)
			assert.Equal(t, tt.want, got.Dataset, "Scaled(%+v).Dataset", tt.sc)
			assert.Equal(t, cmpOr(tt.sc.NumPrompts, s.NumPrompts), got.NumPrompts, "Scaled(%+v).NumPrompts", tt.sc)
			assert.Equal(t, tt.wantStr, got.String(), "Scaled(%+v).String()", tt.sc)
			assert.Equal(t, tt.d, s.Dataset, "Scaled changed the receiver's dataset")
		})
	}
}

func TestScaledKeepsTheRest(t *testing.T) {
	temp := 0.5
	s := Scenario{Name: "x", Dataset: Random{InputLen: 100, OutputLen: 10}, NumPrompts: 50, RequestRate: 4, Burstiness: 0.5,
		MaxConcurrency: 8, Seed: 9, Warmup: true, IgnoreEOS: true, Temperature: &temp, TopP: ptr(0.9), TopK: ptr(3)}
	got, err := s.Scaled(Scale{NumPrompts: 5, InputLen: 20, OutputLen: 2})
	require.NoError(t, err)
	want := s
	want.NumPrompts, want.Dataset = 5, Random{InputLen: 20, OutputLen: 2}
	assert.Equal(t, want, got)
	assert.Equal(t, "scenario=x/dataset=random/in=20/out=2/n=5/rate=4/burstiness=0.5/concurrency=8/seed=9/ignore-eos=true/temperature=0.5/top-p=0.9/top-k=3/warmup=true", got.String())
}

func TestScaleString(t *testing.T) {
	for sc, want := range map[Scale]string{
		{}:                             "",
		{NumPrompts: 64}:               "n=64",
		{InputLen: 128, OutputLen: 16}: "in=128/out=16",
		{NumPrompts: 8, InputLen: 1, OutputLen: 2}: "n=8/in=1/out=2",
	} {
		assert.Equal(t, want, sc.String(), "%+v.String()", sc)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want Scale
	}{
		{"none", nil, Scale{}},
		{"each", []Option{WithNumPrompts(1), WithInputLen(2), WithOutputLen(3)}, Scale{1, 2, 3}},
		{"later wins", []Option{WithNumPrompts(1), WithNumPrompts(5)}, Scale{NumPrompts: 5}},
		{"zero resets", []Option{WithOutputLen(4), WithOutputLen(0)}, Scale{}},
		{"scale merges its non-zero fields", []Option{WithInputLen(2), WithOutputLen(3), WithScale(Scale{NumPrompts: 9, OutputLen: 7})},
			Scale{NumPrompts: 9, InputLen: 2, OutputLen: 7}},
		{"after a scale", []Option{WithScale(Scale{NumPrompts: 9, OutputLen: 7}), WithNumPrompts(1)}, Scale{NumPrompts: 1, OutputLen: 7}},
		{"nil option skipped", []Option{nil, WithInputLen(2)}, Scale{InputLen: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Scale
			for _, o := range tt.opts {
				if o != nil {
					o(&got)
				}
			}
			assert.Equal(t, tt.want, got)
			// The catalog applies them the same way.
			s := SeedRandom256(tt.opts...)
			require.NoError(t, s.Validate())
			want, err := SeedRandom256().Scaled(tt.want)
			require.NoError(t, err)
			assert.Equal(t, want, s, "SeedRandom256(%s options)", tt.name)
		})
	}
}

func TestCatalogOptions(t *testing.T) {
	opts := []Option{WithNumPrompts(20), WithInputLen(64), WithOutputLen(8)}
	tests := []struct {
		s    Scenario
		want string
	}{
		{SeedRandom256(opts...), "scenario=seed-random256/dataset=random/in=64/out=8/n=20/rate=inf/warmup=true"},
		{Chat(opts...), "scenario=chat/dataset=random/in=64/out=8/range=0.5/n=20/rate=8"},
		{PrefillHeavy(opts...), "scenario=prefill-heavy/dataset=random/in=64/out=8/n=20/rate=inf/ignore-eos=true"},
		{DecodeHeavy(opts...), "scenario=decode-heavy/dataset=random/in=64/out=8/n=20/rate=inf/ignore-eos=true"},
		{PrefixCaching(opts...), "scenario=prefix-caching/dataset=prefix-repetition/prefix=32/suffix=32/prefixes=10/out=8/n=20/rate=inf"},
		{ShareGPTChat(shareGPTFixture, WithNumPrompts(20), WithOutputLen(8)), "scenario=sharegpt/dataset=sharegpt/file=sharegpt.json/out=8/n=20/rate=inf"},
		{DecodeHeavy(WithOutputLen(64)), "scenario=decode-heavy/dataset=random/in=128/out=64/n=200/rate=inf/ignore-eos=true"},
		{PrefillHeavy(WithNumPrompts(10)), "scenario=prefill-heavy/dataset=random/in=4096/out=16/n=10/rate=inf/ignore-eos=true"},
	}
	for _, tt := range tests {
		t.Run(tt.s.Name, func(t *testing.T) {
			require.NoError(t, tt.s.Validate())
			assert.Equal(t, tt.want, tt.s.String())
		})
	}
	for i, s := range Catalog(opts...) {
		assert.Equal(t, tests[i].want, s.String(), "Catalog(options)[%d]", i)
		got, ok := Lookup(s.Name, opts...)
		require.True(t, ok, "Lookup(%q, options)", s.Name)
		assert.Equal(t, s.String(), got.String(), "Lookup(%q, options)", s.Name)
	}
}

func TestCatalogOptionErrors(t *testing.T) {
	tok := newFakeTok()
	tests := []struct {
		name  string
		s     Scenario
		wants []string
	}{
		{"sharegpt input", ShareGPTChat(shareGPTFixture, WithInputLen(64)),
			[]string{"scenarios: ShareGPTChat options: Scale.InputLen: dataset sharegpt has no input length"}},
		{"prefix caching too few prompts", PrefixCaching(WithNumPrompts(5)),
			[]string{"scenarios: PrefixCaching options: Scale.NumPrompts: dataset prefix-repetition needs at least its 10 prefixes (NumPrefixes), got 5"}},
		{"negative", Chat(WithNumPrompts(-1), WithOutputLen(-2)),
			[]string{"scenarios: Chat options: Scale.NumPrompts must be >= 0", "scenarios: Chat options: Scale.OutputLen must be >= 0"}},
		{"negative from a scale", SeedRandom256(WithScale(Scale{InputLen: -4})),
			[]string{"scenarios: SeedRandom256 options: Scale.InputLen must be >= 0 (0 keeps the scenario's), got -4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := map[string]error{"Validate": tt.s.Validate()}
			_, _, checks["Prepare"] = tt.s.Prepare(context.Background(), tok)
			_, checks["Config"] = tt.s.Config(context.Background(), tok)
			// The error stays with copies and further scaling.
			checks["RateSweep"] = RateSweep(tt.s, 2)[0].Validate()
			scaled, err := tt.s.Scaled(Scale{NumPrompts: 50})
			require.NoError(t, err, "Scaled of a scenario carrying an option error")
			checks["Scaled"] = scaled.Validate()
			for what, err := range checks {
				require.Error(t, err, "%s of %s", what, tt.name)
				for _, w := range tt.wants {
					assert.ErrorContains(t, err, w, "%s of %s", what, tt.name)
				}
			}
		})
	}
	// A catalog scenario of an unusable option is the unscaled one.
	assert.Equal(t, PrefixCaching().String(), PrefixCaching(WithNumPrompts(5)).String())
}

// TestScaledPrepare checks that a scaled scenario's requests have the
// requested number and lengths, on every dataset type.
func TestScaledPrepare(t *testing.T) {
	tok := newFakeTok()
	tests := []struct {
		name         string
		s            Scenario
		n            int
		outLo, outHi int // MaxTokens range
		in, inDelta  int // PromptTokens within in±inDelta; in 0: not checked
	}{
		{"seed-random256", SeedRandom256(WithNumPrompts(12), WithOutputLen(7)), 12, 7, 7, 0, 0},
		{"seed-random256 exact input", func() Scenario {
			s := SeedRandom256(WithNumPrompts(6), WithInputLen(40), WithOutputLen(3))
			d := s.Dataset.(Random)
			d.ExactLength = true
			s.Dataset = d
			return s
		}(), 6, 3, 3, 40, 1},
		{"chat range", Chat(WithNumPrompts(30), WithInputLen(20), WithOutputLen(8)), 30, 4, 12, 0, 0},
		{"prefill-heavy", PrefillHeavy(WithNumPrompts(3), WithInputLen(64)), 3, 16, 16, 0, 0},
		{"decode-heavy", DecodeHeavy(WithNumPrompts(4), WithOutputLen(32)), 4, 32, 32, 0, 0},
		{"prefix-caching", PrefixCaching(WithNumPrompts(20), WithInputLen(40), WithOutputLen(5)), 20, 5, 5, 40, 3},
		{"sharegpt", ShareGPTChat(shareGPTFixture, WithNumPrompts(5), WithOutputLen(9)), 5, 9, 9, 0, 0},
		{"sonnet", mustScale(t, Scenario{Dataset: Sonnet{Path: sonnetFixture}, NumPrompts: 30}, Scale{NumPrompts: 6, InputLen: 120, OutputLen: 11}), 6, 11, 11, 120, 25},
		{"custom", mustScale(t, Scenario{Dataset: Custom{Path: customFixture}, NumPrompts: 30}, Scale{NumPrompts: 7, OutputLen: 5}), 7, 5, 5, 0, 0},
		{"burstgpt", mustScale(t, Scenario{Dataset: BurstGPT{Path: burstFixture}, NumPrompts: 6}, Scale{NumPrompts: 2}), 2, 40, 110, 0, 0}, // the first two GPT-4 rows
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, arr, err := tt.s.Prepare(context.Background(), tok)
			require.NoError(t, err)
			require.Len(t, reqs, tt.n, "Prepare of %s", tt.s)
			assert.Len(t, arr.Offsets(tt.n), tt.n)
			for i, r := range reqs {
				assert.GreaterOrEqual(t, r.MaxTokens, tt.outLo, "Prepare()[%d].MaxTokens", i)
				assert.LessOrEqual(t, r.MaxTokens, tt.outHi, "Prepare()[%d].MaxTokens", i)
				if tt.in != 0 {
					assert.InDelta(t, tt.in, r.PromptTokens, float64(tt.inDelta), "Prepare()[%d].PromptTokens", i)
				}
			}
		})
	}
}

func mustScale(t *testing.T, s Scenario, sc Scale) Scenario {
	t.Helper()
	out, err := s.Scaled(sc)
	require.NoError(t, err)
	return out
}

// TestRecommendedScales prepares the scales the catalog documents for slow
// servers.
func TestRecommendedScales(t *testing.T) {
	tok := newFakeTok()
	for _, tt := range []struct {
		s      Scenario
		n, out int
		minIn  int // the shortest prompt asked for
		maxIn  int // the longest
	}{
		{SeedRandom256(WithNumPrompts(64)), 64, 128, 256, 256},
		{Chat(WithNumPrompts(24)), 24, 0, 128, 384},
		{PrefillHeavy(WithNumPrompts(100), WithInputLen(1024)), 100, 16, 1024, 1024},
		{DecodeHeavy(WithNumPrompts(4)), 4, 1024, 128, 128},
		{PrefixCaching(WithNumPrompts(50)), 50, 128, 512, 512},
	} {
		t.Run(tt.s.Name, func(t *testing.T) {
			require.NoError(t, tt.s.Validate())
			reqs, _, err := tt.s.Prepare(context.Background(), tok)
			require.NoError(t, err)
			require.Len(t, reqs, tt.n)
			if tt.out != 0 {
				for i, r := range reqs {
					require.Equal(t, tt.out, r.MaxTokens, "Prepare()[%d].MaxTokens", i)
				}
			}
			switch d := tt.s.Dataset.(type) {
			case Random:
				lo, hi := d.bounds(d.inputLen(), false)
				assert.Equal(t, []int{tt.minIn, tt.maxIn}, []int{lo, hi}, "%s input bounds", tt.s.Name)
			case PrefixRepetition:
				p, s, _, _ := d.params()
				assert.Equal(t, tt.maxIn, p+s, "%s prefix+suffix", tt.s.Name)
			}
		})
	}
}
