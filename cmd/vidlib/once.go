package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.uber.org/fx"

	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
)

// onceSections are the settings of `vidlib sync --once`: Vimeo and
// PostgreSQL, nothing else (no Kafka, Redis, webhook secret or listener).
var onceSections = []config.Section{config.SectionCore, config.SectionSync, config.SectionPostgres, config.SectionVimeo}

// onceOptions is the fx graph of one reconciliation: the store, the Vimeo
// client and the mirror of a sync process, and a scheduler for the
// reconciliation lock; no bus, no servers, no loops. The changes it makes
// wait in the outbox for the relay of a running `vidlib sync`.
func onceOptions(cfg *config.Config) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		ops.LoggerModule, ops.MetricsModule, ops.TracingModule, ops.HealthModule, ops.FxLogger,
		fx.StopTimeout(cfg.ShutdownTimeout+5*time.Second),
		fx.Provide(providePostgres, provideVimeo, provideMirror, provideVersions,
			func(b backend) tree.Store { return b },
			func(m syncworker.Mirror, b backend) (*syncworker.Scheduler, error) {
				return syncworker.NewScheduler(m, b, nil)
			}),
	)
}

// reconcileOnce runs one reconciliation under the reconciliation lock and
// exits: the scheduled-task form of `sync`.
func reconcileOnce(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	var sched *syncworker.Scheduler
	app := fx.New(onceOptions(cfg), fx.Populate(&sched))
	if err := startApp(ctx, app); err != nil {
		return err
	}
	rep, runErr := sched.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerSchedule})
	stopErr := stopApp(app)
	if runErr != nil {
		return fmt.Errorf("reconcile: %w", runErr)
	}
	fmt.Fprintf(stdout, "reconciled: run %d, %d changes applied, %d held, %d API calls, content version %d\n",
		rep.Run.ID, len(rep.Applied), len(rep.Held), rep.Run.APICalls, rep.Version)
	return stopErr
}
