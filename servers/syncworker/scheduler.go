package syncworker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/tree"
)

// Reconciler is the mirror's reconciliation interface.
type Reconciler interface {
	Reconcile(ctx context.Context, opts tree.ReconcileOptions) (*tree.Report, error)
}

// SchedulerOptions configure a Scheduler. The zero value is valid.
type SchedulerOptions struct {
	// Interval between scheduled reconciliations (0: 6 h), each moved by up to
	// ±Jitter of itself (0: 0.1; negative: none).
	Interval time.Duration
	Jitter   float64
	// LockName is the lock that keeps two workers from reconciling at once
	// (0: LockReconcile).
	LockName string
	// IsEmpty reports whether the mirror is empty; when it is, Run reconciles
	// at once (trigger "startup") instead of waiting an interval. Nil: no
	// startup run. EmptyMirror builds one from a tree.Store.
	IsEmpty func(ctx context.Context) (bool, error)
	// OnRun, if set, is called after every attempt of Run and Reconcile
	// (metrics, tests); report is nil when the attempt failed or was skipped
	// (err ErrBusy).
	OnRun func(trigger string, report *tree.Report, err error)
	// MinRequestGap is the least time between the end of a reconciliation
	// and a run asked for with Request (0: 10 min; negative: none), so that a
	// poll that keeps asking does not make reconciliation continuous.
	MinRequestGap time.Duration
	Logger        *zap.Logger
}

// Scheduler runs reconciliations: on a jittered interval, once at start-up
// when the mirror is empty, and when an admin asks (Reconcile). Every run
// first takes a lock (a PostgreSQL advisory lock with pgstore), so two workers
// never reconcile at once; a run that finds the lock held is skipped
// (scheduled) or refused with ErrBusy (admin).
type Scheduler struct {
	m      Reconciler
	locker Locker
	opts   SchedulerOptions
	log    *zap.Logger

	requests chan struct{} // Request → Run, coalesced

	mu      sync.Mutex
	running string    // trigger of the run this scheduler is doing, "" when idle
	lastEnd time.Time // when the last run of this scheduler ended
}

// NewScheduler returns a scheduler of m's reconciliations, excluding
// concurrent runs with locker.
func NewScheduler(m Reconciler, locker Locker, opts *SchedulerOptions) (*Scheduler, error) {
	if m == nil || locker == nil {
		return nil, fmt.Errorf("%w: scheduler needs a mirror and a locker", ErrInvalid)
	}
	var o SchedulerOptions
	if opts != nil {
		o = *opts
	}
	var err error
	if o.Interval, o.Jitter, err = loopTiming("reconcile", o.Interval, DefaultReconcileInterval, o.Jitter); err != nil {
		return nil, err
	}
	if o.MinRequestGap == 0 {
		o.MinRequestGap = 10 * time.Minute
	}
	if o.LockName == "" {
		o.LockName = LockReconcile
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Scheduler{m: m, locker: locker, opts: o, log: log.Named("reconcile_scheduler"),
		requests: make(chan struct{}, 1)}, nil
}

// EmptyMirror returns an IsEmpty function for a tree.Store: the mirror is
// empty when it holds no live folder.
func EmptyMirror(store tree.Store) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		snap, err := store.LoadSnapshot(ctx, tree.LoadOptions{})
		if err != nil {
			return false, err
		}
		folders, _ := snap.Len()
		return folders == 0, nil
	}
}

// Run reconciles once at start when the mirror is empty, then every
// interval, until ctx ends; it returns nil then. Failures are logged; the next
// tick tries again.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.opts.IsEmpty != nil {
		empty, err := s.opts.IsEmpty(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Warn("could not tell whether the mirror is empty; no start-up reconciliation", zap.Error(err))
		case empty:
			s.tick(ctx, tree.TriggerStartup)
		}
	}
	next := time.Now().Add(jitter(s.opts.Interval, s.opts.Jitter))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	requested := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.requests:
			requested = true
			s.mu.Lock()
			earliest := s.lastEnd.Add(s.opts.MinRequestGap)
			s.mu.Unlock()
			if wait := time.Until(earliest); wait > 0 && s.opts.MinRequestGap > 0 {
				if earliest.Before(next) {
					next = earliest
					timer.Reset(wait)
				}
				continue
			}
		case <-timer.C:
		}
		if !requested && time.Now().Before(next) {
			continue
		}
		requested = false
		s.tick(ctx, tree.TriggerSchedule)
		next = time.Now().Add(jitter(s.opts.Interval, s.opts.Jitter))
		timer.Reset(time.Until(next))
	}
}

// Request asks Run for a reconciliation soon (a poll or a refresh saw more
// than it could apply): at once, or MinRequestGap after the last run ended.
// It never blocks; requests made before the run starts coalesce.
func (s *Scheduler) Request() {
	select {
	case s.requests <- struct{}{}:
	default:
	}
}

func (s *Scheduler) tick(ctx context.Context, trigger string) {
	_, err := s.Reconcile(ctx, tree.ReconcileOptions{Trigger: trigger})
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, ErrBusy):
		s.log.Info("reconciliation skipped: another one is running", zap.String("trigger", trigger))
	case err != nil:
		s.log.Error("reconciliation failed", zap.String("trigger", trigger), zap.Error(err))
	}
}

// Reconcile runs one reconciliation now, under the lock: the admin's entry
// point (opts.Trigger tree.TriggerAdmin; opts.AllowMassDelete to apply
// deletions a run held). It returns ErrBusy at once when a reconciliation is
// running here or in another worker. It blocks until the run ends; cancel
// ctx to stop it (a partial walk never deletes).
func (s *Scheduler) Reconcile(ctx context.Context, opts tree.ReconcileOptions) (rep *tree.Report, err error) {
	if opts.Trigger == "" {
		opts.Trigger = tree.TriggerSchedule
	}
	defer func() {
		if s.opts.OnRun != nil {
			s.opts.OnRun(opts.Trigger, rep, err)
		}
	}()
	s.mu.Lock()
	if s.running != "" {
		s.mu.Unlock()
		return nil, ErrBusy
	}
	s.running = opts.Trigger
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = ""
		s.lastEnd = time.Now()
		s.mu.Unlock()
	}()

	release, ok, err := s.locker.TryLock(ctx, s.opts.LockName)
	if err != nil {
		return nil, fmt.Errorf("syncworker: reconcile lock: %w", err)
	}
	if !ok {
		return nil, ErrBusy
	}
	defer release()
	start := time.Now()
	s.log.Info("reconciliation started", zap.String("trigger", opts.Trigger))
	rep, err = s.m.Reconcile(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("syncworker: reconcile (%s): %w", opts.Trigger, err)
	}
	s.log.Info("reconciliation finished", zap.String("trigger", opts.Trigger),
		zap.Duration("duration", time.Since(start)), zap.Int("applied", len(rep.Applied)),
		zap.Int("held", len(rep.Held)), zap.Bool("complete", rep.Run.Complete))
	return rep, nil
}

// Running returns the trigger of the reconciliation this scheduler is
// running, or "" (a run in another worker is not seen here).
func (s *Scheduler) Running() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}
