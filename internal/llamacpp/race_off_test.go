//go:build !race

package llamacpp_test

const raceEnabled = false
