// Package stats computes the summary statistics of servingbench's latency
// distributions with numpy's conventions, so that numbers agree with vLLM's
// benchmark_serving.py:
//
//   - Mean is the arithmetic mean (numpy.mean).
//   - Median is the 50th percentile (numpy.median).
//   - Std is the population standard deviation, ddof 0 (numpy.std).
//   - Percentile is numpy.percentile with the default "linear" method:
//     rank = p/100 * (n-1), interpolating between the two neighbouring
//     sorted values with numpy's lerp.
//
// Every function returns 0 for an empty input (vLLM passes `values or 0` to
// numpy, which gives 0). The functions are generic over integer and float
// element types so that []time.Duration can be summarised without a copy.
// They are pure and safe for concurrent use.
package stats
