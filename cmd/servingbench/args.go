package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// argKind says how many values a flag takes, as in Python's argparse.
type argKind uint8

const (
	argValue argKind = iota // --name VALUE or --name=VALUE
	argBool                 // --name (store_true)
	argList                 // --name V1 V2 ... (nargs="+"), up to the next --flag
)

type argSpec struct {
	kind argKind
	help string
	set  func(string) error
}

// argSet is a small argparse-compatible parser: vLLM's command lines use
// --double-dash flags, store_true booleans and nargs="+" lists, which the
// standard flag package cannot read.
type argSet struct {
	specs map[string]*argSpec
	seen  map[string]bool
}

func newArgSet() *argSet {
	return &argSet{specs: map[string]*argSpec{}, seen: map[string]bool{}}
}

func (a *argSet) add(name string, kind argKind, help string, set func(string) error) {
	a.specs[name] = &argSpec{kind: kind, help: help, set: set}
}

func (a *argSet) str(p *string, name, help string) {
	a.add(name, argValue, help, func(v string) error { *p = v; return nil })
}

func (a *argSet) boolean(p *bool, name, help string) {
	a.add(name, argBool, help, func(string) error { *p = true; return nil })
}

func (a *argSet) integer(p *int, name, help string) {
	a.add(name, argValue, help, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("invalid int value %q", v)
		}
		*p = n
		return nil
	})
}

// optInteger sets *p to a new int; nil means "not given".
func (a *argSet) optInteger(p **int, name, help string) {
	a.add(name, argValue, help, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("invalid int value %q", v)
		}
		*p = &n
		return nil
	})
}

func parseFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("invalid float value %q", v)
	}
	return f, nil
}

func (a *argSet) float(p *float64, name, help string) {
	a.add(name, argValue, help, func(v string) error {
		f, err := parseFloat(v)
		*p = f
		return err
	})
}

func (a *argSet) optFloat(p **float64, name, help string) {
	a.add(name, argValue, help, func(v string) error {
		f, err := parseFloat(v)
		*p = &f
		return err
	})
}

func (a *argSet) list(p *[]string, name, help string) {
	a.add(name, argList, help, func(v string) error { *p = append(*p, v); return nil })
}

// given reports whether the flag appeared on the command line.
func (a *argSet) given(name string) bool { return a.seen[name] }

// parse reads args; every error names the flag.
func (a *argSet) parse(args []string) error {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-h" && a.specs["help"] != nil { // argparse's short help flag
			arg = "--help"
		}
		if !strings.HasPrefix(arg, "--") || arg == "--" {
			return fmt.Errorf("unexpected argument %q (flags start with --)", arg)
		}
		name, value, hasValue := strings.Cut(arg[2:], "=")
		spec, ok := a.specs[name]
		if !ok {
			return fmt.Errorf("unknown flag --%s (see --help)", name)
		}
		a.seen[name] = true
		switch spec.kind {
		case argBool:
			if hasValue {
				return fmt.Errorf("flag --%s takes no value", name)
			}
			_ = spec.set("")
		case argValue:
			if !hasValue {
				if i+1 >= len(args) || (strings.HasPrefix(args[i+1], "--") && len(args[i+1]) > 2) {
					return fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if err := spec.set(value); err != nil {
				return fmt.Errorf("flag --%s: %v", name, err)
			}
		case argList:
			n := 0
			if hasValue {
				if err := spec.set(value); err != nil {
					return fmt.Errorf("flag --%s: %v", name, err)
				}
				n++
			}
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				if err := spec.set(args[i]); err != nil {
					return fmt.Errorf("flag --%s: %v", name, err)
				}
				n++
			}
			if n == 0 {
				return fmt.Errorf("flag --%s needs at least one value", name)
			}
		}
	}
	return nil
}

// usage lists the flags, sorted.
func (a *argSet) usage() string {
	names := make([]string, 0, len(a.specs))
	for n := range a.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		s := a.specs[n]
		arg := ""
		switch s.kind {
		case argValue:
			arg = " VALUE"
		case argList:
			arg = " VALUE..."
		}
		fmt.Fprintf(&b, "  --%s%s\n        %s\n", n, arg, s.help)
	}
	return b.String()
}
