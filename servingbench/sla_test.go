package servingbench

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slaReport builds a report whose TTFT samples are 100ms..1000ms, so
// TTFT mean 550ms, median 550ms, p99 991ms, and whose other summaries are
// read-back style (no samples, a few known percentiles).
func slaReport() *Report {
	var ttft []time.Duration
	for i := 1; i <= 10; i++ {
		ttft = append(ttft, time.Duration(i)*100*time.Millisecond)
	}
	return &Report{
		Completed:            99,
		Failed:               1,
		RequestThroughput:    12.5,
		OutputThroughput:     1600,
		TotalTokenThroughput: 4800,
		Goodput:              11,
		GoodputSLO:           SLO{TTFT: time.Second},
		TTFT: Summary{Count: 10, Mean: 550 * time.Millisecond, Median: 550 * time.Millisecond,
			Std: 287 * time.Millisecond, Samples: ttft},
		TPOT: Summary{Count: 99, Mean: 40 * time.Millisecond, Median: 38 * time.Millisecond,
			Std: 5 * time.Millisecond, Percentiles: map[float64]time.Duration{99: 61 * time.Millisecond}},
		ITL: Summary{Count: 500, Mean: 39 * time.Millisecond, Median: 35 * time.Millisecond,
			Std: 9 * time.Millisecond, Percentiles: map[float64]time.Duration{99: 80 * time.Millisecond}},
		E2EL: Summary{Count: 99, Mean: 5 * time.Second, Median: 4 * time.Second,
			Std: time.Second, Percentiles: map[float64]time.Duration{99: 9 * time.Second, 99.9: 10 * time.Second}},
		Queue: Summary{Count: 100, Mean: 2 * time.Millisecond, Median: time.Millisecond,
			Std: time.Millisecond, Percentiles: map[float64]time.Duration{99: 7 * time.Millisecond}},
	}
}

func TestParseSLA(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in   string
		want []Limit
	}{
		{"", nil},
		{"ttft.p99<=500ms", []Limit{{Metric: MetricTTFT, Stat: "p99", Op: AtMost, Duration: 500 * ms}}},
		{"tpot.mean<=50ms", []Limit{{Metric: MetricTPOT, Stat: "mean", Duration: 50 * ms}}},
		{"itl.median<=20000us", []Limit{{Metric: MetricITL, Stat: "median", Duration: 20 * ms}}},
		{"itl.std<=1500µs", []Limit{{Metric: MetricITL, Stat: "std", Duration: 1500 * time.Microsecond}}},
		{"e2el.p99.9<=1.5s", []Limit{{Metric: MetricE2EL, Stat: "p99.9", Duration: 1500 * ms}}},
		{"queue.p50<=250000ns", []Limit{{Metric: MetricQueue, Stat: "p50", Duration: 250 * time.Microsecond}}},
		{"ttft.p0>=1ms", []Limit{{Metric: MetricTTFT, Stat: "p0", Op: AtLeast, Duration: ms}}},
		{"throughput>=10", []Limit{{Metric: MetricThroughput, Op: AtLeast, Value: 10}}},
		{"output_throughput>=1e3", []Limit{{Metric: MetricOutputThroughput, Op: AtLeast, Value: 1000}}},
		{"total_throughput>=2500.5", []Limit{{Metric: MetricTotalThroughput, Op: AtLeast, Value: 2500.5}}},
		{"goodput>=10", []Limit{{Metric: MetricGoodput, Op: AtLeast, Value: 10}}},
		{"failed<=0", []Limit{{Metric: MetricFailed, Value: 0}}},
		{"failed<=1%", []Limit{{Metric: MetricFailedRate, Value: 0.01}}},
		{"failed_rate<=0.1%", []Limit{{Metric: MetricFailedRate, Value: 0.001}}},
		{"failed_rate<=0.02", []Limit{{Metric: MetricFailedRate, Value: 0.02}}},
		{
			"ttft.p99 <= 500ms, tpot.mean<=50ms\tgoodput >=10,failed<=0",
			[]Limit{
				{Metric: MetricTTFT, Stat: "p99", Duration: 500 * ms},
				{Metric: MetricTPOT, Stat: "mean", Duration: 50 * ms},
				{Metric: MetricGoodput, Op: AtLeast, Value: 10},
				{Metric: MetricFailed},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSLA(tt.in)
			require.NoError(t, err, "ParseSLA(%q)", tt.in)
			assert.Equal(t, tt.want, got.Limits, "ParseSLA(%q) = %v, want %v", tt.in, got, SLA{tt.want})

			// String round-trips.
			again, err := ParseSLA(got.String())
			require.NoError(t, err, "ParseSLA(%q) (from String)", got.String())
			assert.Equal(t, got, again, "ParseSLA(%q) = %v, want %v", got.String(), again, got)
		})
	}
}

func TestParseSLAErrors(t *testing.T) {
	tests := []struct {
		in, token, want string
	}{
		{"ttft.p99<500ms", "ttft.p99<500ms", "want operator <= or >="},
		{"ttft.p99==500ms", "ttft.p99==500ms", "want operator <= or >="},
		{"goodput", "goodput", "want NAME<=VALUE or NAME>=VALUE"},
		{"ttft.p99<=500ms latency.p99<=1s", "latency.p99<=1s", `unknown metric "latency"`},
		{"ttft<=500ms", "ttft<=500ms", "needs a statistic"},
		{"ttft.p999.9<=1s", "ttft.p999.9<=1s", `unknown statistic "p999.9"`},
		{"tpot.avg<=1s", "tpot.avg<=1s", `unknown statistic "avg"`},
		{"ttft.p<=1s", "ttft.p<=1s", `unknown statistic "p"`},
		{"ttft.p99<=500", "ttft.p99<=500", `value "500" needs a unit`},
		{"ttft.p99<=fast", "ttft.p99<=fast", `value "fast" is not a duration`},
		{"ttft.p99<=-5ms", "ttft.p99<=-5ms", `value "-5ms" is not a duration >= 0`},
		{"ttft.p99<=", "ttft.p99<=", "missing value after <="},
		{"<=5ms", "<=5ms", "missing metric name"},
		{"goodput.mean>=10", "goodput.mean>=10", `takes no statistic, got "mean"`},
		{"goodput>=10ms", "goodput>=10ms", `value "10ms" is not a number`},
		{"goodput>=-1", "goodput>=-1", `value "-1" is not a number >= 0`},
		{"throughput>=5%", "throughput>=5%", "percentage is only valid for failed"},
		{"failed<=0.5", "failed<=0.5", "failed is a count"},
		{"failed<=150%", "failed<=150%", "fraction in [0,1]"},
		{"failed_rate<=2", "failed_rate<=2", "fraction in [0,1]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSLA(tt.in)
			require.Error(t, err, "ParseSLA(%q) = %v, want error", tt.in, got)
			assert.Contains(t, err.Error(), `"`+tt.token+`"`, "ParseSLA(%q) error does not name the token", tt.in)
			assert.Contains(t, err.Error(), tt.want, "ParseSLA(%q) error", tt.in)
			assert.Empty(t, got.Limits, "ParseSLA(%q) limits on error", tt.in)
		})
	}
}

func TestMustParseSLA(t *testing.T) {
	assert.Equal(t, "ttft.p99<=500ms", MustParseSLA("ttft.p99 <= 500ms").String())
	assert.Panics(t, func() { MustParseSLA("ttft<500ms") })
}

// TestSLACheckEachLimit checks every metric and statistic against
// slaReport on both sides of its measured value.
func TestSLACheckEachLimit(t *testing.T) {
	tests := []struct {
		pass, fail string // a limit just met and one just missed
		violation  string // String of the failing limit's violation
	}{
		{"ttft.mean<=550ms", "ttft.mean<=549ms", "ttft.mean = 550ms, want <= 549ms"},
		{"ttft.median<=550ms", "ttft.median<=549.9ms", "ttft.median = 550ms, want <= 549.9ms"},
		{"ttft.std<=287ms", "ttft.std<=286ms", "ttft.std = 287ms, want <= 286ms"},
		{"ttft.p99<=991ms", "ttft.p99<=990ms", "ttft.p99 = 991ms, want <= 990ms"},
		{"ttft.p50<=550ms", "ttft.p50<=500ms", "ttft.p50 = 550ms, want <= 500ms"},
		{"ttft.p0>=100ms", "ttft.p0>=101ms", "ttft.p0 = 100ms, want >= 101ms"},
		{"tpot.mean<=40ms", "tpot.mean<=39ms", "tpot.mean = 40ms, want <= 39ms"},
		{"tpot.p99<=61ms", "tpot.p99<=60ms", "tpot.p99 = 61ms, want <= 60ms"},
		{"itl.median<=35ms", "itl.median<=34ms", "itl.median = 35ms, want <= 34ms"},
		{"itl.p99<=80ms", "itl.p99<=79ms", "itl.p99 = 80ms, want <= 79ms"},
		{"e2el.p99.9<=10s", "e2el.p99.9<=9.5s", "e2el.p99.9 = 10s, want <= 9.5s"},
		{"e2el.std<=1s", "e2el.std<=999ms", "e2el.std = 1s, want <= 999ms"},
		{"queue.p99<=7ms", "queue.p99<=6ms", "queue.p99 = 7ms, want <= 6ms"},
		{"throughput>=12.5", "throughput>=13", "throughput = 12.5 req/s, want >= 13 req/s"},
		{"output_throughput>=1600", "output_throughput>=1601", "output_throughput = 1600 tok/s, want >= 1601 tok/s"},
		{"total_throughput>=4800", "total_throughput>=5000", "total_throughput = 4800 tok/s, want >= 5000 tok/s"},
		{"goodput>=11", "goodput>=11.5", "goodput = 11 req/s, want >= 11.5 req/s"},
		{"failed<=1", "failed<=0", "failed = 1, want <= 0"},
		{"failed<=1%", "failed<=0.5%", "failed_rate = 0.01, want <= 0.005"},
		{"failed_rate<=0.01", "failed_rate<=0.009", "failed_rate = 0.01, want <= 0.009"},
	}
	r := slaReport()
	for _, tt := range tests {
		t.Run(tt.pass, func(t *testing.T) {
			pass := MustParseSLA(tt.pass)
			assert.NoError(t, pass.Check(r), "SLA(%s).Check", pass)
			assert.Empty(t, pass.Violations(r), "SLA(%s).Violations", pass)

			fail := MustParseSLA(tt.fail)
			got := fail.Violations(r)
			require.Len(t, got, 1, "SLA(%s).Violations = %v, want one", fail, got)
			assert.Equal(t, tt.violation, got[0].String(), "SLA(%s).Violations()[0].String()", fail)
			assert.Equal(t, fail.Limits[0], got[0].Limit)
		})
	}
}

func TestSLACheckListsEveryViolation(t *testing.T) {
	r := slaReport()
	met := MustParseSLA("ttft.p99<=1s tpot.mean<=50ms goodput>=10 failed<=1 throughput>=10")
	require.NoError(t, met.Check(r), "Check(met SLA)")

	sla := MustParseSLA("ttft.p99<=500ms tpot.mean<=50ms goodput>=12 failed<=0 ttft.p99.9<=2s tpot.p99.9<=1s")
	err := sla.Check(r)
	require.Error(t, err)
	var se *SLAError
	require.True(t, errors.As(err, &se), "Check error %T, want *SLAError", err)
	want := []string{
		"ttft.p99 = 991ms, want <= 500ms",
		"goodput = 11 req/s, want >= 12 req/s",
		"failed = 1, want <= 0",
		"tpot.p99.9 unknown: the report has no samples and no p99.9",
	}
	var got []string
	for _, v := range se.Violations {
		got = append(got, v.String())
	}
	assert.Equal(t, want, got, "Check(%s) violations", sla)
	assert.Equal(t, "servingbench: SLA not met, 4 violations:\n\t"+strings.Join(want, "\n\t"), err.Error())
}

func TestSLAUnknownValues(t *testing.T) {
	r := slaReport()
	r.GoodputSLO = SLO{}
	r.TPOT = Summary{}
	sla := SLA{Limits: []Limit{
		{Metric: MetricGoodput, Op: AtLeast, Value: 1},
		{Metric: MetricTPOT, Stat: "mean", Duration: time.Second},
		{Metric: "latency", Value: 1},
		{Metric: MetricTTFT, Stat: "p101", Duration: time.Second},
		{Metric: MetricFailed, Stat: "mean"},
	}}
	got := sla.Violations(r)
	require.Len(t, got, 5)
	assert.Contains(t, got[0].String(), "goodput unknown: the report has no goodput SLO")
	assert.Equal(t, "tpot.mean unknown: no samples", got[1].String())
	assert.Contains(t, got[2].String(), `invalid limit: unknown Metric "latency"`)
	assert.Contains(t, got[3].String(), `invalid limit: ttft.p101: Stat: unknown statistic "p101"`)
	assert.Contains(t, got[4].String(), "Stat must be empty")

	nilReport := MustParseSLA("failed<=0 ttft.mean<=1s").Violations(nil)
	require.Len(t, nilReport, 2)
	assert.Equal(t, "failed unknown: no report", nilReport[0].String())

	assert.NoError(t, SLA{}.Check(r), "zero SLA")
	assert.NoError(t, SLA{}.Check(nil), "zero SLA, nil report")
}

func TestSLAFailedRateWithoutRequests(t *testing.T) {
	r := &Report{}
	assert.NoError(t, MustParseSLA("failed_rate<=0 failed<=0").Check(r))
	r.Failed = 3
	err := MustParseSLA("failed<=5%").Check(r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "failed_rate = 1, want <= 0.05")
}

func TestRound4Digits(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{612345678, 612300000},
		{999, 999},
		{12345, 12350},
		{1234567890123, 1235000000000},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, round4Digits(tt.in), "round4Digits(%d) = %v, want %v", int64(tt.in), round4Digits(tt.in), tt.want)
	}
}

func FuzzParseSLA(f *testing.F) {
	f.Add("ttft.p99<=500ms tpot.mean<=50ms goodput>=10 failed<=0")
	f.Add("failed<=1%, e2el.p99.9 <= 2s")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSLA(in)
		if err != nil {
			return
		}
		again, err := ParseSLA(s.String())
		if err != nil {
			t.Fatalf("ParseSLA(%q) = %v; ParseSLA(String()) error %v", in, s, err)
		}
		if s.String() != again.String() {
			t.Fatalf("ParseSLA(%q).String() = %q, round trip gives %q", in, s, again)
		}
	})
}

func ExampleSLA_Check() {
	sla, err := ParseSLA("ttft.p99<=500ms, tpot.mean<=50ms goodput>=10 failed<=1%")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sla)

	r := &Report{
		Completed: 640, Failed: 0,
		Goodput: 8.25, GoodputSLO: SLO{TTFT: time.Second},
		TTFT: Summary{Count: 3, Mean: 400 * time.Millisecond, Median: 300 * time.Millisecond,
			Samples: []time.Duration{200 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond}},
		TPOT: Summary{Count: 3, Mean: 42 * time.Millisecond, Median: 40 * time.Millisecond,
			Samples: []time.Duration{38 * time.Millisecond, 40 * time.Millisecond, 48 * time.Millisecond}},
	}
	fmt.Println(sla.Check(r))
	// Output:
	// ttft.p99<=500ms tpot.mean<=50ms goodput>=10 failed_rate<=0.01
	// servingbench: SLA not met, 2 violations:
	// 	ttft.p99 = 692ms, want <= 500ms
	// 	goodput = 8.25 req/s, want >= 10 req/s
}
