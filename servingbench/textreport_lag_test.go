package servingbench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lagRunText is the block of a 1-second run of results.
func lagRunText(t *testing.T, results ...*Result) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, Summarize(summarizeT0, runAt(1000), results, SLO{}), TextOptions{}))
	return buf.String()
}

// lagBlockHead is the block of two lagResults up to Run Details' last
// line: what precedes the Client Lag section.
const lagBlockHead = `============ Serving Benchmark Result ============
Successful requests:                     2         
Benchmark duration (s):                  1.00      
Total input tokens:                      16        
Total generated tokens:                  6         
Request throughput (req/s):              2.00      
Output token throughput (tok/s):         6.00      
Total Token throughput (tok/s):          22.00     
---------------Time to First Token----------------
Mean TTFT (ms):                          100.00    
Median TTFT (ms):                        100.00    
P99 TTFT (ms):                           100.00    
-----Time per Output Token (excl. 1st token)------
Mean TPOT (ms):                          10.00     
Median TPOT (ms):                        10.00     
P99 TPOT (ms):                           10.00     
---------------Inter-token Latency----------------
Mean ITL (ms):                           10.00     
Median ITL (ms):                         10.00     
P99 ITL (ms):                            10.00     
-------------------Run Details--------------------
Peak output token throughput (tok/s):    6.00      
Peak concurrent requests:                2.00      
Input token counts from:                 usage     
Output token counts from:                usage     
`

// TestWriteTextClientLag: the Client Lag section follows Run Details in
// a run with kernel times, with the warning wrapped to 50 columns when
// the P99 exceeds ClientLagThreshold and a mixed run's counts of each
// source; a run with read times only prints none (the golden blocks hold
// it byte for byte).
func TestWriteTextClientLag(t *testing.T) {
	rule := strings.Repeat("=", 50) + "\n"
	t.Run("kernel", func(t *testing.T) {
		got := lagRunText(t, lagResult(0, us(300), us(100), us(200)), lagResult(5, us(500), us(400), us(400)))
		assert.Equal(t, lagBlockHead+`--------------------Client Lag--------------------
Event times from:                        kernel    
P50 client lag (ms):                     0.35      
P99 client lag (ms):                     0.49      
Max client lag (ms):                     0.50      
`+rule, got)
	})
	t.Run("mixed above threshold", func(t *testing.T) {
		got := lagRunText(t, lagResult(0, us(1000), us(30000), us(2000)), lagResult(5))
		assert.Equal(t, lagBlockHead+`--------------------Client Lag--------------------
Event times from:                        kernel 1, read 1
P50 client lag (ms):                     2.00      
P99 client lag (ms):                     29.44     
Max client lag (ms):                     30.00     
Warning: client lag P99 29.44 ms (max 30.00 ms) is
above 10.00 ms, longer than a typical server's
step: the client machine was the bottleneck. Event
times are still the kernel's arrival times, but
the requests it sent and the streams it read may
have been late, and the event times of the 1
request without kernel timestamps (read times)
include the lag
`+rule, got)
	})
	t.Run("read", func(t *testing.T) {
		got := lagRunText(t, lagResult(0), lagResult(5))
		assert.Equal(t, lagBlockHead+rule, got)
	})
}

func TestWrapWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one", []string{"one"}},
		{"aa bb cc", []string{"aa bb", "cc"}},
		{"aa  bb", []string{"aa bb"}},
		{"toolongword aa", []string{"toolongword", "aa"}},
		{"ééé ééé", []string{"ééé", "ééé"}}, // code points, not bytes: 7 > 5
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, wrapWords(tt.in, 5), "wrapWords(%q, 5)", tt.in)
	}
}
