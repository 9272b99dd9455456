package pyjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNulls(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1.5}`, `{"a": 1.5}`},
		{`{"a": NaN, "b": [Infinity, -Infinity]}`, `{"a": null, "b": [null, null]}`},
		{`{"NaN": "Infinity \"NaN\" \\", "x": NaN}`, `{"NaN": "Infinity \"NaN\" \\", "x": null}`},
		{`{"a": NaN, "b": [Infinity, -Infinity, 1], "s": "NaN and Infinity \" NaN"}`, `{"a": null, "b": [null, null, 1], "s": "NaN and Infinity \" NaN"}`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(Nulls([]byte(tt.in))), "%s", tt.in)
	}
}
