package syncworker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/tree"

	"github.com/vidlib/vidlib/internal/clock"
)

// Defaults of the loops.
const (
	DefaultPollInterval      = 30 * time.Second
	DefaultReconcileInterval = 6 * time.Hour
	DefaultJitter            = 0.1
	// LockReconcile and LockPoll are the names of the locks the scheduler and
	// the poller take.
	LockReconcile = "vidlib.sync.reconcile"
	LockPoll      = "vidlib.sync.poll"
)

// Poller is the mirror's poll interface.
type Poller interface {
	Poll(ctx context.Context) (*tree.Report, error)
}

// PollLoopOptions configure a PollLoop. The zero value is valid.
type PollLoopOptions struct {
	// Interval between polls (0: 30 s), each moved by up to ±Jitter of itself
	// (0: 0.1; negative: none).
	Interval time.Duration
	Jitter   float64
	// Locker, if set, makes each poll take LockPoll first and skip the round
	// when another worker holds it, so that several workers do not spend API
	// calls on the same poll. Nil polls without a lock (the mirror's writes
	// are transactional and a repeated poll is harmless).
	Locker Locker
	// OnPoll, if set, is called after every poll attempt (metrics, tests).
	// report is nil when the round was skipped or failed.
	OnPoll func(report *tree.Report, err error)
	// NeedsReconcile, if set, is called when a poll reports that it saw more
	// than it could apply (Report.NeedsReconcile): the module wires it to
	// Scheduler.Request.
	NeedsReconcile func()
	Logger         *zap.Logger
}

// PollLoop calls Mirror.Poll every Interval: the recent-changes signal. The
// mirror persists its watermark with the changes it applies, so a restarted
// loop resumes where the last applied poll ended. A failed poll is logged
// and retried at the next tick.
type PollLoop struct {
	m    Poller
	opts PollLoopOptions
	log  *zap.Logger
}

// NewPollLoop returns a poll loop over m.
func NewPollLoop(m Poller, opts *PollLoopOptions) (*PollLoop, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: poll loop needs a mirror", ErrInvalid)
	}
	var o PollLoopOptions
	if opts != nil {
		o = *opts
	}
	var err error
	if o.Interval, o.Jitter, err = loopTiming("poll", o.Interval, DefaultPollInterval, o.Jitter); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &PollLoop{m: m, opts: o, log: log.Named("poll_loop")}, nil
}

// Run polls at once, then every interval, until ctx ends; it returns nil then.
func (p *PollLoop) Run(ctx context.Context) error {
	for {
		rep, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if p.opts.OnPoll != nil {
			p.opts.OnPoll(rep, err)
		}
		if err != nil {
			p.log.Warn("poll failed", zap.Error(err))
		}
		if rep != nil && rep.NeedsReconcile && p.opts.NeedsReconcile != nil {
			p.log.Info("poll asks for a reconciliation")
			p.opts.NeedsReconcile()
		}
		if clock.Sleep(ctx, jitter(p.opts.Interval, p.opts.Jitter)) != nil {
			return nil
		}
	}
}

// errSkipped means the round was skipped because another worker holds the
// poll lock.
var errSkipped = errors.New("syncworker: skipped: another worker holds the lock")

// PollOnce runs one poll (taking the lock when configured). It returns a nil
// report and no error when another worker holds the lock.
func (p *PollLoop) PollOnce(ctx context.Context) (*tree.Report, error) {
	if p.opts.Locker != nil {
		release, ok, err := p.opts.Locker.TryLock(ctx, LockPoll)
		if err != nil {
			return nil, fmt.Errorf("syncworker: poll lock: %w", err)
		}
		if !ok {
			p.log.Debug("poll skipped", zap.Error(errSkipped))
			return nil, nil
		}
		defer release()
	}
	rep, err := p.m.Poll(ctx)
	if err != nil {
		return nil, fmt.Errorf("syncworker: poll: %w", err)
	}
	return rep, nil
}
