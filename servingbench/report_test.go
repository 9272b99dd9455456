package servingbench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportNoSuccess(t *testing.T) {
	assert.NoError(t, (&Report{Completed: 1, Failed: 9}).NoSuccess())
	err := (&Report{NumPrompts: 4}).NoSuccess()
	require.Error(t, err)
	assert.Equal(t, "servingbench: no request of 4 was sent", err.Error())
	err = (&Report{Failed: 5, Errors: []ErrorCount{{Reason: "HTTP 503", Count: 3}, {Reason: "connection reset", Count: 2}}}).NoSuccess()
	require.Error(t, err)
	assert.Equal(t, "servingbench: all 5 requests failed: 3 x HTTP 503; 2 x connection reset", err.Error())
}
