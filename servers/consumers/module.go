package consumers

import (
	"context"
	"fmt"
	"sync"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/ops"
)

// Config gathers the options of the consumers. The zero value is valid.
type Config struct {
	Audit AuditOptions
	// DisableAudit leaves the audit consumer out of the Runner (it is still
	// built and provided).
	DisableAudit bool
	Analytics    AnalyticsOptions
	// DisableAnalytics leaves the analytics consumer out of the Runner (it
	// is still built and provided when the analytics store is).
	DisableAnalytics bool
	Ranking          RankingOptions
	// DisableRanking leaves the ranking pipeline out of the Runner.
	DisableRanking bool
}

// Params are the module's inputs.
type Params struct {
	fx.In

	Store AuditStore // *pgstore.Store or *memstore.Store
	// AnalyticsStore, when provided, runs the analytics consumer.
	AnalyticsStore AnalyticsStore `optional:"true"`
	Publisher      events.Publisher
	Subscriber     events.Subscriber
	Config         Config      `optional:"true"`
	Logger         *zap.Logger `optional:"true"`

	// RankingStore, when provided, runs the ranking pipeline; FeedCache,
	// when provided too, receives the feeds (store/redisstore).
	RankingStore RankingStore `optional:"true"`
	FeedCache    FeedCache    `optional:"true"`
	// Index, when provided (the library.Service of a process that also
	// serves the library), is what the ranking pipeline ranks over
	// (RankingOptions.Index).
	Index IndexSource `optional:"true"`
	// ProgressVersions, when provided, is bumped by the analytics consumer
	// (store/redisstore; the API's progress caches follow it).
	ProgressVersions ProgressVersions `optional:"true"`
}

// Result is what the module provides.
type Result struct {
	fx.Out

	Audit     *Audit
	Analytics *Analytics // nil without an AnalyticsStore
	Ranking   *Ranking   // nil without a RankingStore
	Runner    *Runner
}

// Module is the consumers' fx module: it builds the audit consumer and, with
// an AnalyticsStore, the analytics consumer, and runs them between OnStart
// and OnStop.
var Module = fx.Module("consumers",
	fx.Provide(Provide),
	fx.Invoke(func(lc fx.Lifecycle, r *Runner) {
		lc.Append(fx.Hook{OnStart: r.Start, OnStop: r.Stop})
	}),
)

// Provide builds the consumers from p, as Module does; it is usable without
// fx (start Result.Runner yourself).
func Provide(p Params) (Result, error) {
	log := p.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("consumers")
	c := p.Config
	if c.Audit.Logger == nil {
		c.Audit.Logger = log
	}
	a, err := NewAudit(p.Store, p.Publisher, &c.Audit)
	if err != nil {
		return Result{}, err
	}
	r := &Runner{sub: p.Subscriber, log: log}
	if !c.DisableAudit {
		if p.Subscriber == nil {
			return Result{}, fmt.Errorf("%w: the audit consumer needs a subscriber", ErrInvalid)
		}
		r.loops = append(r.loops, loop{name: "audit", run: a.Run})
	}
	res := Result{Audit: a, Runner: r}
	if p.AnalyticsStore != nil {
		if c.Analytics.Logger == nil {
			c.Analytics.Logger = log
		}
		if c.Analytics.ProgressVersions == nil && p.ProgressVersions != nil {
			c.Analytics.ProgressVersions = p.ProgressVersions
		}
		an, err := NewAnalytics(p.AnalyticsStore, p.Publisher, &c.Analytics)
		if err != nil {
			return Result{}, err
		}
		res.Analytics = an
		if !c.DisableAnalytics {
			if p.Subscriber == nil {
				return Result{}, fmt.Errorf("%w: the analytics consumer needs a subscriber", ErrInvalid)
			}
			r.loops = append(r.loops, loop{name: "analytics", run: an.Run}, loop{name: "analytics_retention", run: an.RunRetention})
		}
	}
	if p.RankingStore != nil {
		if c.Ranking.Logger == nil {
			c.Ranking.Logger = log
		}
		if c.Ranking.Cache == nil && p.FeedCache != nil {
			c.Ranking.Cache = p.FeedCache
		}
		if c.Ranking.Index == nil && p.Index != nil {
			c.Ranking.Index = p.Index
		}
		rk, err := NewRanking(p.RankingStore, p.Publisher, &c.Ranking)
		if err != nil {
			return Result{}, err
		}
		res.Ranking = rk
		if !c.DisableRanking {
			if p.Subscriber == nil {
				return Result{}, fmt.Errorf("%w: the ranking pipeline needs a subscriber", ErrInvalid)
			}
			r.loops = append(r.loops, loop{name: "ranking", run: rk.Run})
		}
	}
	return res, nil
}

type loop struct {
	name string
	run  func(ctx context.Context, sub events.Subscriber) error
}

// Runner runs consumers until stopped, restarting one that fails (after a
// pause that doubles up to 30 s).
type Runner struct {
	sub   events.Subscriber
	loops []loop
	log   *zap.Logger

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts every consumer in the background.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		return fmt.Errorf("%w: runner already started", ErrInvalid)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	for _, l := range r.loops {
		r.wg.Go(func() { r.keep(rctx, l) })
	}
	return nil
}

func (r *Runner) keep(ctx context.Context, l loop) {
	ops.KeepRunning(ctx, r.log, "consumer", l.name, func(ctx context.Context) error { return l.run(ctx, r.sub) })
}

// Stop stops the consumers (each drains what it holds, as the bus allows)
// and waits for them within ctx.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	if err := ops.Wait(ctx, &r.wg); err != nil {
		return fmt.Errorf("consumers: stop: still draining: %w", err)
	}
	return nil
}
