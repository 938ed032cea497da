package main

import (
	"context"
	"io"

	"github.com/vidlib/vidlib/internal/bench"
)

// benchSelf starts the benchmark's API process (nil: this executable; tests
// replace it, as their binary is not vidlib).
var benchSelf bench.SelfCommand

func benchCommand() command {
	return command{"bench", "load-test the read API, composed as deployed, on a generated library (or --url)",
		func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return bench.Run(ctx, args, stdout, stderr, &bench.Options{Parse: parse, Self: benchSelf})
		}}
}
