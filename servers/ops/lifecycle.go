package ops

import (
	"context"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/internal/clock"
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

// KeepRunning runs run until ctx ends, restarting it after each return
// before then, after a pause that starts at 1 s and doubles up to 30 s: the
// supervision of a server's background loops (servers/consumers.Runner,
// servers/syncworker.Worker). Each restart is logged as an error, "<kind>
// failed; restarting" with the loop's name under the key kind.
func KeepRunning(ctx context.Context, log *zap.Logger, kind, name string, run func(context.Context) error) {
	pause := time.Second
	for {
		err := run(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Error(kind+" failed; restarting", zap.String(kind, name), zap.Duration("pause", pause), zap.Error(err))
		if clock.Sleep(ctx, pause) != nil {
			return
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// Wait waits for wg within ctx: nil once wg is done, ctx's error if ctx
// ends first (the goroutines go on).
func Wait(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
