package scenarios

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

func ptr[T any](v T) *T { return &v }

func TestScenarioString(t *testing.T) {
	tests := []struct {
		s    Scenario
		want string
	}{
		{Scenario{Dataset: Random{}, NumPrompts: 10},
			"dataset=random/in=1024/out=128/n=10/rate=inf"},
		{Scenario{Name: "x", Dataset: Random{InputLen: 256, OutputLen: 128}, NumPrompts: 640, RequestRate: math.Inf(1), Warmup: true},
			"scenario=x/dataset=random/in=256/out=128/n=640/rate=inf/warmup=true"},
		{Scenario{Dataset: Random{}, NumPrompts: 1, RequestRate: 8, Burstiness: 1},
			"dataset=random/in=1024/out=128/n=1/rate=8"},
		{Scenario{Dataset: Random{}, NumPrompts: 1, RequestRate: 2.5, Burstiness: 0.5, MaxConcurrency: 64, Seed: 7,
			IgnoreEOS: true, Temperature: ptr(0.0), TopP: ptr(0.9), TopK: ptr(20)},
			"dataset=random/in=1024/out=128/n=1/rate=2.5/burstiness=0.5/concurrency=64/seed=7/ignore-eos=true/temperature=0/top-p=0.9/top-k=20"},
		{Scenario{Dataset: BurstGPT{Path: "/data/BurstGPT_1.csv"}, NumPrompts: 3},
			"dataset=burstgpt/file=BurstGPT_1.csv/model=GPT-4/n=3/rate=trace"},
		{Scenario{Dataset: BurstGPT{Path: "b.csv"}, NumPrompts: 3, RequestRate: 4},
			"dataset=burstgpt/file=b.csv/model=GPT-4/n=3/rate=4"},
		{Scenario{}, "dataset=none/n=0/rate=inf"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.s.String(), "%#v.String()", tt.s)
	}
}

func TestScenarioValidate(t *testing.T) {
	ok := Scenario{Dataset: Random{}, NumPrompts: 1}
	require.NoError(t, ok.Validate())
	tests := []struct {
		name  string
		edit  func(*Scenario)
		wants []string
	}{
		{"no dataset", func(s *Scenario) { s.Dataset = nil }, []string{"Scenario.Dataset is nil"}},
		{"bad dataset", func(s *Scenario) { s.Dataset = Random{RangeRatio: 2} }, []string{"Random.RangeRatio"}},
		{"no prompts", func(s *Scenario) { s.NumPrompts = 0 }, []string{"Scenario.NumPrompts must be >= 1, got 0"}},
		{"negative rate", func(s *Scenario) { s.RequestRate = -1 }, []string{"Scenario.RequestRate"}},
		{"NaN rate", func(s *Scenario) { s.RequestRate = math.NaN() }, []string{"Scenario.RequestRate"}},
		{"infinite burstiness", func(s *Scenario) { s.Burstiness = math.Inf(1) }, []string{"Scenario.Burstiness"}},
		{"negative concurrency", func(s *Scenario) { s.MaxConcurrency = -3 }, []string{"Scenario.MaxConcurrency must be >= 0, got -3"}},
		{"negative temperature", func(s *Scenario) { s.Temperature = ptr(-0.5) }, []string{"Scenario.Temperature"}},
		{"top-p 0", func(s *Scenario) { s.TopP = ptr(0.0) }, []string{"Scenario.TopP"}},
		{"top-k -2", func(s *Scenario) { s.TopK = ptr(-2) }, []string{"Scenario.TopK"}},
		{"several", func(s *Scenario) { s.NumPrompts = -1; s.MaxConcurrency = -1; s.TopP = ptr(1.5) },
			[]string{"Scenario.NumPrompts", "Scenario.MaxConcurrency", "Scenario.TopP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			err := s.Validate()
			require.Error(t, err)
			for _, w := range tt.wants {
				assert.ErrorContains(t, err, w)
			}
			_, _, err = s.Prepare(context.Background(), newFakeTok())
			assert.Error(t, err, "Prepare of an invalid scenario")
		})
	}
}

func TestScenarioPrepare(t *testing.T) {
	tok := newFakeTok()
	s := Scenario{Dataset: Random{InputLen: 32, OutputLen: 8}, NumPrompts: 20, RequestRate: 10, Burstiness: 0.5, Seed: 3}
	reqs, arr, err := s.Prepare(context.Background(), tok)
	require.NoError(t, err)
	require.Len(t, reqs, 20)
	assert.Equal(t, servingbench.Gamma{Rate: 10, Burstiness: 0.5, Seed: 3}, arr)
	want, err := s.Dataset.Requests(context.Background(), tok, 20, 3)
	require.NoError(t, err)
	assert.Equal(t, want, reqs, "Prepare requests differ from Dataset.Requests with the scenario's seed")

	s.RequestRate = 0
	_, arr, err = s.Prepare(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, "rate=inf", arr.String())

	bs := Scenario{Dataset: BurstGPT{Path: burstFixture}, NumPrompts: 4}
	reqs, arr, err = bs.Prepare(context.Background(), tok)
	require.NoError(t, err)
	require.Len(t, reqs, 4)
	assert.Equal(t, servingbench.Trace{0, 5 * time.Second, 5 * time.Second, 12 * time.Second}, arr)
	bs.RequestRate = 2
	_, arr, err = bs.Prepare(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, servingbench.Gamma{Rate: 2}, arr)

	_, _, err = Scenario{Dataset: ShareGPT{Path: "testdata/datasets/missing.json"}, NumPrompts: 1}.Prepare(context.Background(), tok)
	var fe *FileError
	assert.ErrorAs(t, err, &fe)
}

func TestScenarioConfig(t *testing.T) {
	tok := newFakeTok()
	s := Scenario{Name: "c", Dataset: Random{InputLen: 16, OutputLen: 4}, NumPrompts: 5, MaxConcurrency: 2, Warmup: true}
	cfg, err := s.Config(context.Background(), tok)
	require.NoError(t, err)
	assert.Len(t, cfg.Requests, 5)
	assert.Equal(t, 2, cfg.MaxConcurrency)
	assert.True(t, cfg.Warmup)
	assert.Equal(t, map[string]string{"scenario": s.String()}, cfg.Metadata)
	assert.NotNil(t, cfg.Arrival)
	_, err = Scenario{}.Config(context.Background(), tok)
	assert.Error(t, err)
}

func TestScenarioClientConfig(t *testing.T) {
	temp, topP, topK := 0.7, 0.9, 40
	sc := Scenario{MaxConcurrency: 16, IgnoreEOS: true, Temperature: &temp, TopP: &topP, TopK: &topK}
	got := sc.ClientConfig(servingbench.OpenAIConfig{BaseURL: "http://127.0.0.1:1", Model: "m", KeepText: true})
	assert.Equal(t, servingbench.OpenAIConfig{
		BaseURL: "http://127.0.0.1:1", Model: "m", KeepText: true,
		MaxConcurrency: 16, IgnoreEOS: true, Temperature: &temp, TopP: &topP, TopK: &topK,
	}, got)
}
