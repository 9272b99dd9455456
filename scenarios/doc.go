// Package scenarios makes the requests of a benchmark: vLLM's datasets
// and ready-made scenarios.
package scenarios
