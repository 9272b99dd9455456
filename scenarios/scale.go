package scenarios

import (
	"errors"
	"fmt"
	"strings"
)

// Scale resizes a scenario, to fit a slow server or to take a quick look:
// the number of prompts and the lengths the dataset asks for. A zero field
// keeps the scenario's value; a negative one is an error.
//
// InputLen and OutputLen set the dataset's own length parameters, the ones
// vLLM's flags name, so a scaled scenario runs the same load as the vLLM
// command line with those flags changed:
//
//   - [Random]: InputLen and OutputLen (--random-input-len,
//     --random-output-len): the centres of the drawn lengths, RangeRatio
//     and the shared PrefixLen (added to each input) kept.
//   - [Sonnet]: InputLen and OutputLen (--sonnet-input-len,
//     --sonnet-output-len). InputLen is the whole prompt, shared prefix
//     included: PrefixLen is scaled with it, keeping its share of the prompt
//     (rounded, at least 1 token).
//   - [PrefixRepetition]: OutputLen (--prefix-repetition-output-len), and
//     InputLen as the whole prompt: split into PrefixLen and SuffixLen in
//     their present proportion (rounded, at least 1 token each; InputLen
//     must be at least 2). NumPrompts must stay at least NumPrefixes.
//   - [ShareGPT]: OutputLen (--sharegpt-output-len), which replaces each
//     conversation's reply length (and so drops vLLM's minimum output
//     length filter); no input length.
//   - [Custom]: OutputLen (--custom-output-len) for every line, the lines'
//     own "output_tokens" ignored (IgnoreOutputTokens); no input length.
//   - [BurstGPT] and datasets of other packages: no lengths (a trace's
//     lengths are its own); NumPrompts only.
//
// A length the dataset cannot take is an error naming the field and the
// dataset. Scale changes no seed, rate, name or other field, so two scaled
// scenarios see the same prompts for the same seed up to their lengths.
type Scale struct {
	NumPrompts int // Scenario.NumPrompts
	InputLen   int // tokens of each prompt, as the dataset counts them
	OutputLen  int // tokens asked of each request
}

// Option sets a field of the Scale a catalog function applies ([SeedRandom256],
// [Chat], ...). Options apply in order, later ones winning.
type Option func(*Scale)

// WithNumPrompts sets Scale.NumPrompts; 0 keeps the scenario's.
func WithNumPrompts(n int) Option { return func(s *Scale) { s.NumPrompts = n } }

// WithInputLen sets Scale.InputLen; 0 keeps the scenario's.
func WithInputLen(n int) Option { return func(s *Scale) { s.InputLen = n } }

// WithOutputLen sets Scale.OutputLen; 0 keeps the scenario's.
func WithOutputLen(n int) Option { return func(s *Scale) { s.OutputLen = n } }

// WithScale sets the non-zero fields of sc, for a Scale built elsewhere (as
// benchtest builds one from the SERVINGBENCH_NUM_PROMPTS, _INPUT_LEN and
// _OUTPUT_LEN environment variables).
func WithScale(sc Scale) Option {
	return func(s *Scale) {
		s.NumPrompts = cmpOr(sc.NumPrompts, s.NumPrompts)
		s.InputLen = cmpOr(sc.InputLen, s.InputLen)
		s.OutputLen = cmpOr(sc.OutputLen, s.OutputLen)
	}
}

// String is "n=N/in=I/out=O" with the zero fields left out ("" for the
// zero Scale).
func (sc Scale) String() string {
	var parts []string
	for _, f := range []struct {
		key string
		v   int
	}{{"n", sc.NumPrompts}, {"in", sc.InputLen}, {"out", sc.OutputLen}} {
		if f.v != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", f.key, f.v))
		}
	}
	return strings.Join(parts, "/")
}

// Scaled returns s with sc applied (see [Scale]): NumPrompts set, and the
// dataset replaced by a copy with its lengths set. Its String changes
// accordingly ("n=", the dataset's lengths). On error, naming every field
// that cannot be applied, it returns s unchanged.
//
// A scenario made by a catalog function with an option it cannot take
// carries that error: Scaled keeps it, and Validate (so Prepare) reports it.
func (s Scenario) Scaled(sc Scale) (Scenario, error) {
	out, problems := s.scaled(sc)
	if len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = errors.New("scenarios: " + p)
		}
		return s, errors.Join(errs...)
	}
	return out, nil
}

// scaled is Scaled with its errors as messages without the package prefix.
func (s Scenario) scaled(sc Scale) (Scenario, []string) {
	var problems []string
	for _, f := range []struct {
		name string
		v    int
	}{{"NumPrompts", sc.NumPrompts}, {"InputLen", sc.InputLen}, {"OutputLen", sc.OutputLen}} {
		if f.v < 0 {
			problems = append(problems, fmt.Sprintf("Scale.%s must be >= 0 (0 keeps the scenario's), got %d", f.name, f.v))
		}
	}
	if len(problems) > 0 {
		return s, problems
	}
	if sc.NumPrompts != 0 {
		s.NumPrompts = sc.NumPrompts
	}
	if s.Conversations != nil {
		s.Conversations, problems = scaleConversations(s.Conversations, sc)
		return s, problems
	}
	switch d := s.Dataset.(type) {
	case nil:
		if sc.InputLen != 0 || sc.OutputLen != 0 {
			problems = append(problems, "Scale: Scenario.Dataset is nil")
		}
	case lengthScaler:
		s.Dataset, problems = d.scaled(sc.InputLen, sc.OutputLen, sc.NumPrompts)
	default:
		problems = append(problems, noLengths(d, sc.InputLen, sc.OutputLen, "")...)
	}
	return s, problems
}

// lengthScaler is a Dataset whose lengths Scale sets. scaled returns a copy
// with the non-zero lengths in and out applied, and the problems (messages
// naming the Scale field), checking what depends on n, Scale.NumPrompts
// (0 when kept).
type lengthScaler interface {
	scaled(in, out, n int) (Dataset, []string)
}

// noLengths reports the non-zero lengths of in and out that dataset d
// cannot take; why, when set, follows in parentheses.
func noLengths(d Dataset, in, out int, why string) []string {
	var problems []string
	if why != "" {
		why = " (" + why + ")"
	}
	if in != 0 {
		problems = append(problems, fmt.Sprintf("Scale.InputLen: dataset %s has no input length%s", datasetName(d), why))
	}
	if out != 0 {
		problems = append(problems, fmt.Sprintf("Scale.OutputLen: dataset %s has no output length%s", datasetName(d), why))
	}
	return problems
}

// datasetName is the value of the "dataset=" pair leading d's String, or
// d's Go type.
func datasetName(d Dataset) string {
	name, ok := strings.CutPrefix(d.String(), "dataset=")
	if !ok {
		return fmt.Sprintf("%T", d)
	}
	name, _, _ = strings.Cut(name, "/")
	return name
}

// scaleShare returns part scaled as total is to whole, rounded to the
// nearest integer and kept in [lo, hi].
func scaleShare(part, whole, total, lo, hi int) int {
	v := (2*part*total + whole) / (2 * whole)
	return min(max(v, lo), hi)
}

// catalogScenario applies the options to s, a catalog scenario made by the
// function fn. Options it cannot take are kept as the scenario's error,
// which Validate reports.
func catalogScenario(fn string, s Scenario, opts []Option) Scenario {
	if len(opts) == 0 {
		return s
	}
	var sc Scale
	for _, o := range opts {
		if o != nil {
			o(&sc)
		}
	}
	out, problems := s.scaled(sc)
	if len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = fmt.Errorf("scenarios: %s options: %s", fn, p)
		}
		s.err = errors.Join(errs...)
		return s
	}
	return out
}
