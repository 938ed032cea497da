package syncworker

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo"

	"github.com/vidlib/vidlib/internal/clock"
)

// Config gathers the options of every part the module builds. The zero value
// is valid: every part with its defaults.
type Config struct {
	Intake     IntakeOptions
	Normalizer ConsumerOptions
	Applier    ApplierOptions  // NeedsReconcile defaults to Scheduler.Request
	Commands   CommandsOptions // LockName defaults to the Scheduler's
	Poll       PollLoopOptions // Locker defaults to the Store, NeedsReconcile to Scheduler.Request
	Scheduler  SchedulerOptions
	Relay      events.RelayOptions
	// Redrive is run every RedriveInterval (0: 1 min) over the Store.
	Redrive         RedriveOptions
	RedriveInterval time.Duration
	// Disable* leave a part out of the worker's loops (it is still built and
	// provided). DisableRelay suits a process that runs the outbox relay
	// elsewhere (vidlib all with one relay).
	DisablePoll, DisableScheduler, DisableRelay, DisableConsumers, DisableRedrive bool
}

// Params are the module's inputs.
type Params struct {
	fx.In

	// Mirror is a *tree.Mirror, or a wrapper of one. When it is also a
	// CommandMirror the admin's commands are consumed (Commands).
	Mirror Mirror
	Store  Store // *pgstore.Store or *memstore.Store
	// Verifier checks webhook signatures; nil (no secret configured): the
	// Intake refuses every delivery and the caller leaves it unmounted.
	Verifier   *vimeo.WebhookVerifier `optional:"true"`
	Publisher  events.Publisher
	Subscriber events.Subscriber
	Config     Config      `optional:"true"`
	Logger     *zap.Logger `optional:"true"`
}

// Result is what the module provides.
type Result struct {
	fx.Out

	Intake     *Intake // the webhook handler; mount it at WebhookPath
	Scheduler  *Scheduler
	PollLoop   *PollLoop
	Normalizer *Normalizer
	Applier    *Applier
	Commands   *Commands // nil when the Mirror is not a CommandMirror
	Relay      *events.Relay
	Worker     *Worker
}

// Module is the sync process's fx module: it builds the webhook intake, the
// consumers, the poll loop, the reconciliation scheduler and the outbox relay
// from the Params, and runs the loops between OnStart and OnStop (OnStop
// drains within its context's deadline). The caller mounts Intake on its
// HTTP server and may hand Scheduler to the admin API.
var Module = fx.Module("syncworker",
	fx.Provide(Provide),
	fx.Invoke(func(lc fx.Lifecycle, w *Worker) {
		lc.Append(fx.Hook{OnStart: w.Start, OnStop: w.Stop})
	}),
)

// Provide builds every part from p, as Module does; it is usable without fx
// (run Result.Worker yourself).
func Provide(p Params) (Result, error) {
	c := p.Config
	log := p.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("syncworker")
	setLogger := func(l **zap.Logger) {
		if *l == nil {
			*l = log
		}
	}
	setLogger(&c.Intake.Logger)
	setLogger(&c.Normalizer.Logger)
	setLogger(&c.Applier.Logger)
	setLogger(&c.Commands.Logger)
	setLogger(&c.Poll.Logger)
	setLogger(&c.Scheduler.Logger)
	setLogger(&c.Relay.Logger)
	if c.Poll.Locker == nil {
		c.Poll.Locker = p.Store
	}
	if c.Scheduler.IsEmpty == nil {
		if ts, ok := p.Store.(tree.Store); ok {
			c.Scheduler.IsEmpty = EmptyMirror(ts)
		}
	}
	var r Result
	var err error
	if r.Scheduler, err = NewScheduler(p.Mirror, p.Store, &c.Scheduler); err != nil {
		return r, err
	}
	if c.Poll.NeedsReconcile == nil {
		c.Poll.NeedsReconcile = r.Scheduler.Request
	}
	if c.Applier.NeedsReconcile == nil {
		c.Applier.NeedsReconcile = r.Scheduler.Request
	}
	if r.Intake, err = NewIntake(p.Verifier, p.Store, p.Publisher, &c.Intake); err != nil {
		return r, err
	}
	if r.Normalizer, err = NewNormalizer(p.Publisher, p.Store, &c.Normalizer); err != nil {
		return r, err
	}
	if r.Applier, err = NewApplier(p.Mirror, p.Publisher, p.Store, &c.Applier); err != nil {
		return r, err
	}
	if cm, ok := p.Mirror.(CommandMirror); ok {
		if c.Commands.LockName == "" {
			c.Commands.LockName = c.Scheduler.LockName
		}
		if r.Commands, err = NewCommands(cm, p.Store, p.Publisher, p.Store, &c.Commands); err != nil {
			return r, err
		}
	}
	if r.PollLoop, err = NewPollLoop(p.Mirror, &c.Poll); err != nil {
		return r, err
	}
	if r.Relay, err = events.NewRelay(p.Store, p.Publisher, &c.Relay); err != nil {
		return r, fmt.Errorf("syncworker: relay: %w", err)
	}
	parts := WorkerParts{Subscriber: p.Subscriber}
	if !c.DisableConsumers {
		parts.Normalizer, parts.Applier, parts.Commands = r.Normalizer, r.Applier, r.Commands
	}
	if !c.DisablePoll {
		parts.PollLoop = r.PollLoop
	}
	if !c.DisableScheduler {
		parts.Scheduler = r.Scheduler
	}
	if !c.DisableRelay {
		parts.Relay = r.Relay
	}
	if !c.DisableRedrive {
		every := c.RedriveInterval
		if every <= 0 {
			every = time.Minute
		}
		intake, store, ro := r.Intake, p.Store, c.Redrive
		parts.Extra = append(parts.Extra, Loop{Name: "webhook_redrive", Run: func(ctx context.Context) error {
			for clock.Sleep(ctx, jitter(every, DefaultJitter)) == nil {
				if _, err := intake.Redrive(ctx, store, &ro); err != nil && ctx.Err() == nil {
					log.Warn("webhook redrive failed", zap.Error(err))
				}
			}
			return nil
		}})
	}
	if r.Worker, err = NewWorker(parts, log); err != nil {
		return r, err
	}
	return r, nil
}
