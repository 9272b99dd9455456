package tokenizer

import (
	"errors"
	"fmt"
)

// Source says which input of Resolve gave the tokenizer.
type Source int

const (
	// FromTokenizer: the tokenizer argument (a path or ORG/NAME).
	FromTokenizer Source = iota + 1
	// FromModel: the model argument, as a path or HuggingFace cache name.
	FromModel
	// FromDefault: neither; the built-in tokenizer (Default).
	FromDefault
)

func (s Source) String() string {
	switch s {
	case FromTokenizer:
		return "tokenizer"
	case FromModel:
		return "model"
	case FromDefault:
		return "default"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Resolution is what Resolve found: the tokenizer, which input gave it and
// where it was read from. It holds no message: callers say it in their own
// words (a CLI in terms of its flags, a benchmark in terms of its
// environment variables).
type Resolution struct {
	Tokenizer *Tokenizer
	// Source is the input that gave Tokenizer.
	Source Source
	// ID names the choice for a report's tokenizer_id: the tokenizer or
	// model argument as given, or DefaultName.
	ID string
	// Path is the tokenizer.json file read, "" for the built-in tokenizer.
	Path string
	// Model is the model argument, kept when the built-in tokenizer stands
	// in for it; ModelErr says why the model gave none: a *NotFoundError
	// (its Tried lists the paths tried) or the error loading what was
	// found. Both are empty unless Source is FromDefault and a model was
	// given.
	Model    string
	ModelErr error
}

// IsDefault reports whether the built-in tokenizer was used.
func (r Resolution) IsDefault() bool { return r.Source == FromDefault }

// Resolve picks the tokenizer for a run as vLLM does: tokenizer when
// non-empty (its Load error is returned as is: a *NotFoundError when
// nothing was found), else model as a path or HuggingFace cache name, else
// the built-in Default. A model that gives no tokenizer is no error: the
// Resolution says so (ModelErr). It never downloads.
func Resolve(tokenizer, model string) (Resolution, error) {
	if tokenizer != "" {
		tok, err := Load(tokenizer)
		if err != nil {
			return Resolution{}, err
		}
		return Resolution{Tokenizer: tok, Source: FromTokenizer, ID: tokenizer, Path: tok.Path()}, nil
	}
	r := Resolution{Source: FromDefault, ID: DefaultName}
	if model != "" {
		tok, err := Load(model)
		if err == nil {
			return Resolution{Tokenizer: tok, Source: FromModel, ID: model, Path: tok.Path()}, nil
		}
		r.Model, r.ModelErr = model, err
	}
	tok, err := Default()
	if err != nil {
		return Resolution{}, err
	}
	r.Tokenizer = tok
	return r, nil
}

// NotFound reports whether err is (or wraps) a *NotFoundError, and returns it.
func NotFound(err error) (*NotFoundError, bool) {
	var nf *NotFoundError
	ok := errors.As(err, &nf)
	return nf, ok
}
