package benchtest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/servingbench/servingbench/scenarios"
)

// Environment variables read by ScaleFromEnv: they resize every scenario
// Run runs, to fit a slow server (the seed scenario's 640 prompts of 256
// tokens take minutes a run on a CPU) or to take a quick look.
const (
	EnvNumPrompts = "SERVINGBENCH_NUM_PROMPTS" // scenarios.Scale.NumPrompts
	EnvInputLen   = "SERVINGBENCH_INPUT_LEN"   // scenarios.Scale.InputLen
	EnvOutputLen  = "SERVINGBENCH_OUTPUT_LEN"  // scenarios.Scale.OutputLen
)

// scaleEnv lists the scale variables and the field each sets.
var scaleEnv = []struct {
	name string
	set  func(*scenarios.Scale, int)
}{
	{EnvNumPrompts, func(s *scenarios.Scale, n int) { s.NumPrompts = n }},
	{EnvInputLen, func(s *scenarios.Scale, n int) { s.InputLen = n }},
	{EnvOutputLen, func(s *scenarios.Scale, n int) { s.OutputLen = n }},
}

// ScaleFromEnv returns the scenarios.Scale the environment sets:
// SERVINGBENCH_NUM_PROMPTS, SERVINGBENCH_INPUT_LEN and
// SERVINGBENCH_OUTPUT_LEN, each a whole number >= 1 when set (unset or
// empty keeps the scenario's value). A value that is not is an error
// naming the variable and the value. getenv is os.Getenv in most uses;
// nil means os.Getenv.
func ScaleFromEnv(getenv func(string) string) (scenarios.Scale, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var sc scenarios.Scale
	var errs []error
	for _, v := range scaleEnv {
		s := strings.TrimSpace(getenv(v.name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("benchtest: %s=%q: want a whole number >= 1 (unset keeps each scenario's)", v.name, s))
			continue
		}
		v.set(&sc, n)
	}
	return sc, errors.Join(errs...)
}

// envScale is ScaleFromEnv(os.Getenv), read once per process.
var envScale = sync.OnceValues(func() (scenarios.Scale, error) { return ScaleFromEnv(nil) })

// scaleNames is the variables that set sc's non-zero fields, as they were
// set: "SERVINGBENCH_NUM_PROMPTS=16 SERVINGBENCH_OUTPUT_LEN=32".
func scaleNames(sc scenarios.Scale) string {
	var parts []string
	for _, f := range []struct {
		name string
		v    int
	}{{EnvNumPrompts, sc.NumPrompts}, {EnvInputLen, sc.InputLen}, {EnvOutputLen, sc.OutputLen}} {
		if f.v != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", f.name, f.v))
		}
	}
	return strings.Join(parts, " ")
}

// scaled returns sc resized by the environment's scale (scaledBy).
func scaled(sc scenarios.Scenario) (scenarios.Scenario, error) {
	scale, err := envScale()
	return scaledBy(sc, scale, err)
}

// scaledBy returns sc resized by scale, read from the environment with
// error err, and an error naming the variables when err is not nil or
// sc's dataset cannot take the scale.
func scaledBy(sc scenarios.Scenario, scale scenarios.Scale, err error) (scenarios.Scenario, error) {
	if err != nil {
		return sc, err
	}
	if scale == (scenarios.Scale{}) {
		return sc, nil
	}
	out, err := sc.Scaled(scale)
	if err != nil {
		return sc, fmt.Errorf("benchtest: %s cannot resize scenario %s: %w", scaleNames(scale), sc, err)
	}
	return out, nil
}
