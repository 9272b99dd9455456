package servingbench

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSLO(t *testing.T) {
	tests := []struct {
		in   string
		want SLO
	}{
		{"", SLO{}},
		{"ttft:100 tpot:50 e2el:3000", SLO{TTFT: 100 * time.Millisecond, TPOT: 50 * time.Millisecond, E2EL: 3 * time.Second}},
		{"ttft:100,tpot:50", SLO{TTFT: 100 * time.Millisecond, TPOT: 50 * time.Millisecond}},
		{" e2el:2500 ,  TTFT:0.5 ", SLO{TTFT: 500 * time.Microsecond, E2EL: 2500 * time.Millisecond}},
		{"tpot:1e2", SLO{TPOT: 100 * time.Millisecond}},
	}
	for _, tt := range tests {
		got, err := ParseSLO(tt.in)
		require.NoError(t, err, "ParseSLO(%q)", tt.in)
		assert.Equal(t, tt.want, got, "ParseSLO(%q) = %v, want %v", tt.in, got, tt.want)
	}
}

func TestParseSLOErrors(t *testing.T) {
	tests := []struct {
		in, token, problem string
	}{
		{"ttft=100", "ttft=100", "missing ':'"},
		{"ttft:100 foo:1", "foo:1", `unknown key "foo"`},
		{"ttft:abc", "ttft:abc", "not a number"},
		{"tpot:-1", "tpot:-1", "> 0"},
		{"tpot:0", "tpot:0", "> 0"},
		{"e2el:NaN", "e2el:NaN", "finite"},
		{"e2el:Inf", "e2el:Inf", "finite"},
		{"ttft:1 ttft:2", "ttft:2", "twice"},
		{"ttft:1:2", "ttft:1:2", "not a number"},
	}
	for _, tt := range tests {
		_, err := ParseSLO(tt.in)
		require.Error(t, err, "ParseSLO(%q) = nil error, want one", tt.in)
		var se *SLOError
		require.True(t, errors.As(err, &se), "ParseSLO(%q) error %T, want *SLOError", tt.in, err)
		assert.Equal(t, tt.token, se.Token, "ParseSLO(%q) bad token", tt.in)
		assert.Contains(t, err.Error(), tt.problem, "ParseSLO(%q) error", tt.in)
		assert.Contains(t, err.Error(), "ttft, tpot, e2el", "ParseSLO(%q) error lists the valid keys", tt.in)
	}
}

func TestParseSLOArgs(t *testing.T) {
	got, err := ParseSLOArgs([]string{"ttft:100", "e2el:3000"})
	require.NoError(t, err)
	assert.Equal(t, SLO{TTFT: 100 * time.Millisecond, E2EL: 3 * time.Second}, got)
	_, err = ParseSLOArgs([]string{"ttft:100", "bogus"})
	assert.ErrorContains(t, err, `"bogus"`)
}

func TestSLOString(t *testing.T) {
	tests := []struct {
		slo  SLO
		want string
	}{
		{SLO{}, ""},
		{SLO{TTFT: 100 * time.Millisecond, TPOT: 50 * time.Millisecond, E2EL: 3 * time.Second}, "ttft:100 tpot:50 e2el:3000"},
		{SLO{E2EL: 1500 * time.Microsecond}, "e2el:1.5"},
	}
	for _, tt := range tests {
		got := tt.slo.String()
		assert.Equal(t, tt.want, got, "%#v.String() = %q, want %q", tt.slo, got, tt.want)
		back, err := ParseSLO(got)
		require.NoError(t, err, "ParseSLO(%q)", got)
		assert.Equal(t, tt.slo, back, "ParseSLO(String()) round trip")
	}
}

func TestSLOGood(t *testing.T) {
	// TTFT 100ms, E2EL 400ms, 4 tokens: TPOT 100ms.
	four := okResult(0, 1, 4, 100, 200, 300, 400)
	// One token: TPOT counts as 0.
	one := okResult(0, 1, 1, 300)
	failed := &Result{Sent: runAt(0), Events: []time.Duration{runAt(10).Sub(runAt(0))}, Err: errors.New("x")}
	tests := []struct {
		name string
		slo  SLO
		r    *Result
		want bool
	}{
		{"zero SLO accepts success", SLO{}, four, true},
		{"zero SLO rejects failure", SLO{}, failed, false},
		{"nil result", SLO{}, nil, false},
		{"ttft equal is good", SLO{TTFT: msDur(100)}, four, true},
		{"ttft above", SLO{TTFT: msDur(99)}, four, false},
		{"tpot equal is good", SLO{TPOT: msDur(100)}, four, true},
		{"tpot above", SLO{TPOT: msDur(99)}, four, false},
		{"tpot of one token is 0", SLO{TPOT: time.Nanosecond}, one, true},
		{"e2el", SLO{E2EL: msDur(399)}, four, false},
		{"all met", SLO{TTFT: msDur(100), TPOT: msDur(100), E2EL: msDur(400)}, four, true},
		{"one of three missed", SLO{TTFT: msDur(1000), TPOT: msDur(1000), E2EL: msDur(300)}, four, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.slo.Good(tt.r)
			assert.Equal(t, tt.want, got, "%v.Good() = %v, want %v", tt.slo, got, tt.want)
		})
	}
}

func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"ttft:100 tpot:50 e2el:3000", "ttft:1,e2el:2", "x", "ttft:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slo, err := ParseSLO(s)
		if err != nil {
			return
		}
		back, err := ParseSLO(slo.String())
		if err != nil {
			t.Fatalf("ParseSLO(%q).String() = %q does not parse: %v", s, slo.String(), err)
		}
		if back != slo {
			t.Fatalf("ParseSLO(String()) = %v, want %v", back, slo)
		}
	})
}
