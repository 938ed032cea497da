package ops

import (
	"context"

	"go.uber.org/fx"
)

// RunWhileStarted runs run in its own goroutine from the application's start
// until its stop: the context it gets is cancelled on stop, and the stop
// waits for run to return (or for the stop's own deadline). run's error is
// the loop's own business to log; a loop that ends early is not restarted.
func RunWhileStarted(lc fx.Lifecycle, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				_ = run(ctx)
			}()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
			case <-stop.Done():
			}
			return nil
		},
	})
}
