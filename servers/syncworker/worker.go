package syncworker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/ops"
)

// Loop is one long-running part of the worker: it runs until its context
// ends and then returns (nil on a normal stop).
type Loop struct {
	Name string
	Run  func(ctx context.Context) error
	// Last loops are stopped after all the others have returned (the outbox
	// relay, so that what the others wrote while stopping is still relayed).
	Last bool
}

// WorkerParts are the parts a Worker runs; nil parts are left out.
type WorkerParts struct {
	Subscriber events.Subscriber // required with Normalizer or Applier
	Normalizer *Normalizer
	Applier    *Applier
	Commands   *Commands
	PollLoop   *PollLoop
	Scheduler  *Scheduler
	Relay      *events.Relay
	Extra      []Loop
}

// Worker runs the sync process's loops (consumers, poll loop, scheduler,
// outbox relay) between Start and Stop. A loop that fails (a subscription
// that cannot join, say) is restarted after a growing pause (1 s to 30 s).
type Worker struct {
	loops []Loop
	log   *zap.Logger

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc // of the first-stopped loops
	cancelL context.CancelFunc // of the last-stopped loops
	first   sync.WaitGroup
	last    sync.WaitGroup
}

// NewWorker returns a worker over parts. logger may be nil.
func NewWorker(parts WorkerParts, logger *zap.Logger) (*Worker, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	w := &Worker{log: logger.Named("sync_worker")}
	if (parts.Normalizer != nil || parts.Applier != nil || parts.Commands != nil) && parts.Subscriber == nil {
		return nil, fmt.Errorf("%w: consumers need a subscriber", ErrInvalid)
	}
	if n := parts.Normalizer; n != nil {
		w.loops = append(w.loops, Loop{Name: "normalizer", Run: func(ctx context.Context) error { return n.Run(ctx, parts.Subscriber) }})
	}
	if a := parts.Applier; a != nil {
		w.loops = append(w.loops, Loop{Name: "applier", Run: func(ctx context.Context) error { return a.Run(ctx, parts.Subscriber) }})
	}
	if c := parts.Commands; c != nil {
		w.loops = append(w.loops, Loop{Name: "commands", Run: func(ctx context.Context) error { return c.Run(ctx, parts.Subscriber) }})
	}
	if p := parts.PollLoop; p != nil {
		w.loops = append(w.loops, Loop{Name: "poll_loop", Run: p.Run})
	}
	if s := parts.Scheduler; s != nil {
		w.loops = append(w.loops, Loop{Name: "scheduler", Run: s.Run})
	}
	if r := parts.Relay; r != nil {
		w.loops = append(w.loops, Loop{Name: "outbox_relay", Run: r.Run, Last: true})
	}
	for _, l := range parts.Extra {
		if l.Name == "" || l.Run == nil {
			return nil, fmt.Errorf("%w: a loop needs a name and a Run", ErrInvalid)
		}
		w.loops = append(w.loops, l)
	}
	return w, nil
}

// Start starts every loop in the background and returns at once. The loops
// run until Stop (not until ctx ends: ctx only bounds the start, as with fx's
// OnStart).
func (w *Worker) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return fmt.Errorf("%w: worker already started", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.started = true
	base := context.WithoutCancel(ctx)
	firstCtx, cancel := context.WithCancel(base)
	lastCtx, cancelL := context.WithCancel(base)
	w.cancel, w.cancelL = cancel, cancelL
	for _, l := range w.loops {
		wg, lctx := &w.first, firstCtx
		if l.Last {
			wg, lctx = &w.last, lastCtx
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.keep(lctx, l)
		}()
	}
	return nil
}

// keep runs l until ctx ends, restarting it after failures (a return
// before ctx ends is one).
func (w *Worker) keep(ctx context.Context, l Loop) {
	ops.KeepRunning(ctx, w.log, "loop", l.Name, func(ctx context.Context) error {
		if err := runSafely(ctx, l); err != nil {
			return err
		}
		return errors.New("returned before the worker stopped")
	})
}

func runSafely(ctx context.Context, l Loop) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return l.Run(ctx)
}

// Stop stops the loops and waits for them to drain: first the consumers,
// the poll loop and the scheduler (a reconciliation in progress is
// cancelled; a partial walk never deletes), then the outbox relay. It
// returns ctx's error if they have not all returned when ctx ends.
func (w *Worker) Stop(ctx context.Context) error {
	w.mu.Lock()
	if !w.started {
		w.mu.Unlock()
		return nil
	}
	cancel, cancelL := w.cancel, w.cancelL
	w.mu.Unlock()

	cancel()
	if err := ops.Wait(ctx, &w.first); err != nil {
		cancelL()
		return fmt.Errorf("syncworker: stop: loops still draining: %w", err)
	}
	cancelL()
	if err := ops.Wait(ctx, &w.last); err != nil {
		return fmt.Errorf("syncworker: stop: relay still draining: %w", err)
	}
	return nil
}
