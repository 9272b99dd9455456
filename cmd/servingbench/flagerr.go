package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// flagParseError words an error of the flag package (which the compare and
// tokenize subcommands use) as the user wrote the flag: the flag package
// names --decode as -decode; a flag given with two dashes is named with
// two again. cmd is the subcommand, for the prefix and the -h hint.
func flagParseError(cmd string, err error, args []string) error {
	msg := err.Error()
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "--") || len(a) == 2 {
			continue
		}
		name, _, _ := strings.Cut(a[2:], "=")
		re := regexp.MustCompile(`(^|[\s"(])-` + regexp.QuoteMeta(name) + `($|[\s:"),])`)
		msg = re.ReplaceAllString(msg, "${1}--"+name+"${2}")
	}
	return usageError{fmt.Errorf("%s: %w (see servingbench %s -h)", cmd, errors.New(msg), cmd)}
}
