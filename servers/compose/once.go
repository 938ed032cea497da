package compose

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/fx"

	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
)

// OnceSections are the settings of `vidlib sync --once`: Vimeo and
// PostgreSQL, nothing else (no Kafka, Redis, webhook secret or listener).
var OnceSections = []config.Section{config.SectionCore, config.SectionSync, config.SectionPostgres, config.SectionVimeo}

// OnceOptions is the fx graph of one reconciliation: the store, the Vimeo
// client and the mirror of a sync process, and a scheduler for the
// reconciliation lock; no bus, no servers, no loops. The changes it makes
// wait in the outbox for the relay of a running `vidlib sync`.
func OnceOptions(cfg *config.Config, extra ...fx.Option) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		ops.LoggerModule, ops.MetricsModule, ops.TracingModule, ops.HealthModule, ops.FxLogger,
		fx.StopTimeout(cfg.ShutdownTimeout+5*time.Second),
		fx.Provide(provideVimeo, provideMirror, provideVersions,
			func(b Backend) tree.Store { return b },
			func(m syncworker.Mirror, b Backend) (*syncworker.Scheduler, error) {
				return syncworker.NewScheduler(m, b, nil)
			}),
		storeOptions(cfg),
		fx.Options(extra...),
	)
}

// ReconcileOnce runs one reconciliation under the reconciliation lock and
// stops: the scheduled-task form of the sync server.
func ReconcileOnce(ctx context.Context, cfg *config.Config, extra ...fx.Option) (*tree.Report, error) {
	var sched *syncworker.Scheduler
	app := fx.New(OnceOptions(cfg, extra...), fx.Populate(&sched))
	if err := Start(ctx, app); err != nil {
		return nil, err
	}
	rep, runErr := sched.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerSchedule})
	stopErr := Stop(app)
	if runErr != nil {
		return nil, fmt.Errorf("reconcile: %w", runErr)
	}
	return rep, stopErr
}
