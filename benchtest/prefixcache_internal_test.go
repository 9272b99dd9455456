package benchtest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/servingbench/servingbench/scenarios"
)

func TestSharesNoPrefix(t *testing.T) {
	tests := []struct {
		d    scenarios.Dataset
		want bool
	}{
		{scenarios.Random{}, true},
		{scenarios.Random{InputLen: 256, ExactLength: true}, true},
		{&scenarios.Random{}, true},
		{(*scenarios.Random)(nil), false},
		{scenarios.Random{PrefixLen: 1}, false},
		{&scenarios.Random{PrefixLen: 64}, false},
		{scenarios.BurstGPT{Path: "x.csv"}, true},
		{scenarios.Sonnet{}, false},
		{scenarios.PrefixRepetition{}, false},
		{scenarios.ShareGPT{Path: "x.json"}, false},
		{scenarios.Custom{Path: "x.jsonl"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		got := sharesNoPrefix(tt.d)
		assert.Equal(t, tt.want, got, "sharesNoPrefix(%#v) = %v, want %v", tt.d, got, tt.want)
	}
}
