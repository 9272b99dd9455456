package benchtest

import (
	"io"

	"github.com/servingbench/servingbench/benchtest/gate"
)

// CompareBaseline is gate.CompareBaseline: the regression gate is package
// benchtest/gate, which links neither testing nor testify.
//
// Deprecated: use gate.CompareBaseline.
func CompareBaseline(old, new io.Reader, opt gate.CompareOptions) (*gate.Comparison, error) {
	return gate.CompareBaseline(old, new, opt)
}

// CompareFiles is gate.CompareFiles.
//
// Deprecated: use gate.CompareFiles.
func CompareFiles(oldPath, newPath string, opt gate.CompareOptions) (*gate.Comparison, error) {
	return gate.CompareFiles(oldPath, newPath, opt)
}
