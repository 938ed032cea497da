package syncworker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo"
)

// inputs supplies what the module needs, as cmd/vidlib would.
func inputs(t testing.TB, m syncworker.Mirror, cfg syncworker.Config) fx.Option {
	b, err := membus.New(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	v, err := vimeo.NewWebhookVerifier(secret, nil)
	require.NoError(t, err)
	return fx.Options(
		fx.Supply(
			fx.Annotate(m, fx.As(new(syncworker.Mirror))),
			fx.Annotate(memstore.New(), fx.As(new(syncworker.Store))),
			v,
			fx.Annotate(b, fx.As(new(events.Publisher)), fx.As(new(events.Subscriber))),
			cfg,
		),
		fx.NopLogger,
	)
}

func TestModuleValidates(t *testing.T) {
	require.NoError(t, fx.ValidateApp(syncworker.Module, inputs(t, &fakeMirror{}, syncworker.Config{})))
	// Without its inputs the module does not validate.
	require.Error(t, fx.ValidateApp(syncworker.Module, fx.NopLogger))
}

func TestModuleStartsAndStopsTheLoops(t *testing.T) {
	polled := make(chan struct{}, 1)
	var reconcileCtx context.Context
	reconciling := make(chan struct{})
	m := &fakeMirror{
		poll: func(context.Context) error {
			select {
			case polled <- struct{}{}:
			default:
			}
			return nil
		},
		// The start-up reconciliation (the memstore mirror is empty) blocks
		// until the app stops it.
		reconcile: func(ctx context.Context, _ tree.ReconcileOptions) error {
			reconcileCtx = ctx
			close(reconciling)
			<-ctx.Done()
			return ctx.Err()
		},
	}
	var sched *syncworker.Scheduler
	var intake *syncworker.Intake
	app := fxtest.New(t, syncworker.Module,
		inputs(t, m, syncworker.Config{Poll: syncworker.PollLoopOptions{Interval: time.Millisecond}}),
		fx.Populate(&sched, &intake))
	app.RequireStart()
	<-polled
	<-reconciling
	require.NotNil(t, intake)
	_, err := sched.Reconcile(context.Background(), tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
	require.ErrorIs(t, err, syncworker.ErrBusy, "the start-up run holds the lock")
	app.RequireStop()
	require.Error(t, reconcileCtx.Err(), "stopping cancels the running reconciliation")
}

func TestWorkerStopIsBoundedByItsContext(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	w, err := syncworker.NewWorker(syncworker.WorkerParts{Extra: []syncworker.Loop{{
		Name: "stuck", Run: func(context.Context) error { <-stuck; return nil },
	}}}, nil)
	require.NoError(t, err)
	require.NoError(t, w.Start(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, w.Stop(ctx), context.Canceled)
}
