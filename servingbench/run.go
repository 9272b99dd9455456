package servingbench

import (
	"context"
	"errors"
)

// Run sends cfg.Requests through cfg.Client on cfg.Arrival's schedule and
// returns the report. It is synchronous: every goroutine it starts has ended
// when it returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	return nil, errors.New("servingbench: Run: not yet implemented") // replaced by the load generator
}
