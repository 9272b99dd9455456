package servingbench

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// clientLagText prints, inside the result block after Run Details, a
// "Client Lag" section when some successful request had kernel receive
// timestamps (r.ClientLag.KernelRequests > 0): where the event times came
// from ("kernel", or for a mixed run "kernel 600, read 40", the requests
// of each source), the client lag's P50, P99 and Max in milliseconds and,
// when the P99 exceeds ClientLagThreshold, the warning of
// ClientLag.Warning wrapped to the block's 50 columns. A run with read
// times only prints nothing, so its block stays vLLM's.
func clientLagText(b *strings.Builder, r *Report) {
	c := r.ClientLag
	if c.KernelRequests == 0 {
		return
	}
	b.WriteString(centre("Client Lag", '-') + "\n")
	source := ArrivalKernel.String()
	if c.ReadRequests > 0 {
		source = fmt.Sprintf("%s %d, %s %d", ArrivalKernel, c.KernelRequests, ArrivalRead, c.ReadRequests)
	}
	valueLine(b, "Event times from:", source)
	floatLine(b, "P50 client lag (ms):", durationMS(c.P50))
	floatLine(b, "P99 client lag (ms):", durationMS(c.P99))
	floatLine(b, "Max client lag (ms):", durationMS(c.Max))
	if w := c.Warning(); w != nil {
		for _, line := range wrapWords("Warning: "+strings.TrimPrefix(w.Error(), "servingbench: "), 50) {
			b.WriteString(line + "\n")
		}
	}
}

// wrapWords breaks s at spaces into lines of at most width code points
// (a longer word gets a line of its own).
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
