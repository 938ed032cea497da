package consumers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/store/memstore"
)

func TestModuleValidates(t *testing.T) {
	b, err := membus.New(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	in := fx.Supply(
		fx.Annotate(memstore.New(), fx.As(new(consumers.AuditStore))),
		fx.Annotate(b, fx.As(new(events.Publisher)), fx.As(new(events.Subscriber))),
	)
	require.NoError(t, fx.ValidateApp(consumers.Module, in, fx.NopLogger))
	require.Error(t, fx.ValidateApp(consumers.Module, fx.NopLogger), "without its inputs the module does not validate")
}

// TestModuleConsumesAuditEvents: the app started by fx appends what a
// Recorder publishes, in the order of the chain, and stops cleanly.
func TestModuleConsumesAuditEvents(t *testing.T) {
	ctx := context.Background()
	b, err := membus.New(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	s := memstore.New()
	var c *consumers.Audit
	app := fxtest.New(t, consumers.Module, fx.NopLogger, fx.Populate(&c), fx.Supply(
		fx.Annotate(s, fx.As(new(consumers.AuditStore))),
		fx.Annotate(b, fx.As(new(events.Publisher)), fx.As(new(events.Subscriber))),
		// Few records, a short interval: the tail is checkpointed by time.
		consumers.Config{Audit: consumers.AuditOptions{CheckpointEvery: 1000, CheckpointInterval: 50 * time.Millisecond}},
	))
	app.RequireStart()
	require.NotNil(t, c)

	rec, err := audit.NewRecorder(&audit.RecorderOptions{Publisher: b})
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, rec.Record(ctx, record(t, i)))
	}
	require.Eventually(t, func() bool {
		h, err := s.AuditHead(ctx)
		return err == nil && h.Seq == 20
	}, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		cps, err := s.AuditCheckpoints(ctx)
		return err == nil && len(cps) > 0 && cps[len(cps)-1].Seq == 20
	}, 10*time.Second, 10*time.Millisecond, "the head is checkpointed once the interval passed")
	app.RequireStop()
	rep := requireChain(t, s, 20)
	require.NotZero(t, rep.Checkpoints)
}
