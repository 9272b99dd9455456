//go:build !race

package servingbench_test

const raceEnabled = false
