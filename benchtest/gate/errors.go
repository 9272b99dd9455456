package gate

import (
	"errors"
	"fmt"
)

// OptionError reports a CompareOptions field the gate could not use, such
// as a Filter query that does not parse. Field is the field's name
// ("Filter", "Ignore"), Value its value as given (Ignore joined by
// commas), so that a command line can name its own flag instead.
type OptionError struct {
	Field, Value string
	Err          error
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("gate: CompareOptions.%s: %v", e.Field, e.Err)
}

func (e *OptionError) Unwrap() error { return e.Err }

// NoMatchError is CompareBaseline's error when no metric of the old input
// matches one of the new: benchmark names, units or file configuration
// differ. Unmatched lists every metric found in one input only.
type NoMatchError struct {
	OldLabel, NewLabel string
	Unmatched          []error
}

func (e *NoMatchError) Error() string {
	return "gate: " + e.Message("CompareOptions.Ignore and Filter")
}

// Message is the error's text without the package prefix, pointing to
// hint ("CompareOptions.Ignore and Filter", or a command's flags) for
// what to change.
func (e *NoMatchError) Message(hint string) string {
	msg := fmt.Sprintf("no metric of %s matches one of %s: benchmark names, units or "+
		"file configuration differ (see %s)", e.OldLabel, e.NewLabel, hint)
	if l := e.Listed(); l != nil {
		msg += ":\n" + l.Error()
	}
	return msg
}

// Listed joins the first few unmatched metrics into one error, one a line,
// and says how many more there are.
func (e *NoMatchError) Listed() error {
	const show = 6
	w := e.Unmatched
	if len(w) > show {
		w = append(w[:show:show], fmt.Errorf("and %d more", len(e.Unmatched)-show))
	}
	return errors.Join(w...)
}
