package ops_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidlib/vidlib/servers/ops"
)

// A loop that returns before its context ends is restarted (after the
// first pause, 1 s) and the failure logged with its name; KeepRunning
// returns once the context ends.
func TestKeepRunningRestartsAFailedLoop(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	ctx, cancel := context.WithCancel(context.Background())
	boom := errors.New("boom")
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		ops.KeepRunning(ctx, zap.New(core), "consumer", "audit", func(ctx context.Context) error {
			calls++
			if calls == 1 {
				return boom
			}
			cancel()
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	<-done
	require.Equal(t, 2, calls)
	entries := logs.All()
	require.Len(t, entries, 1, "the return after the context ended is not a failure")
	require.Equal(t, "consumer failed; restarting", entries[0].Message)
	fields := entries[0].ContextMap()
	require.Equal(t, "audit", fields["consumer"])
	require.Equal(t, "boom", fields["error"])
}

// A context that ends during the pause ends KeepRunning without a restart.
func TestKeepRunningStopsDuringThePause(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// The context ends as the failure is logged, just before the pause.
	core, _ := observer.New(zap.ErrorLevel)
	log := zap.New(core, zap.Hooks(func(zapcore.Entry) error { cancel(); return nil }))
	calls := 0
	ops.KeepRunning(ctx, log, "loop", "poll_loop", func(context.Context) error {
		calls++
		return nil
	})
	require.Equal(t, 1, calls)
}

func TestWait(t *testing.T) {
	var wg sync.WaitGroup
	require.NoError(t, ops.Wait(context.Background(), &wg), "nothing to wait for")

	wg.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, ops.Wait(ctx, &wg), context.Canceled, "still running when ctx ends")
	wg.Done()
	require.NoError(t, ops.Wait(context.Background(), &wg))
}
