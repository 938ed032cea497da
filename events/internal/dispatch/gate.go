package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/vidlib/vidlib/events"
)

// Gate is the lifecycle a bus shares with its subscriptions: a subscription
// enters while the bus is open and leaves when it ends; Close closes the
// bus once, and Wait waits for the subscriptions that entered before. Both
// buses (kafkabus, membus) use it. The zero value is not usable: NewGate.
type Gate struct {
	mu     sync.Mutex // orders Enter's subs.Add against Close
	closed chan struct{}
	once   sync.Once
	subs   sync.WaitGroup
}

// NewGate returns an open gate.
func NewGate() *Gate { return &Gate{closed: make(chan struct{})} }

// Closed reports whether Close was called.
func (g *Gate) Closed() bool {
	select {
	case <-g.closed:
		return true
	default:
		return false
	}
}

// Close closes the gate; it reports whether this call closed it (the first
// one). It does not wait: see Wait.
func (g *Gate) Close() bool {
	first := false
	g.once.Do(func() {
		g.mu.Lock()
		close(g.closed)
		g.mu.Unlock()
		first = true
	})
	return first
}

// Wait waits for every subscription that entered to leave.
func (g *Gate) Wait() { g.subs.Wait() }

// Subscribe starts a subscription of a bus: it checks sub (with its
// defaults) and h, enters the gate (events.ErrClosed once closed), and
// returns the subscription, its context (cancelled with cause
// events.ErrClosed when the gate closes; a cause set on ctx, such as
// events.ErrAbort, shows through) and the function to call when the
// subscription ends.
func (g *Gate) Subscribe(ctx context.Context, sub events.Subscription, h events.Handler) (events.Subscription, context.Context, func(), error) {
	sub = sub.WithDefaults()
	if err := sub.Validate(); err != nil {
		return sub, nil, nil, err
	}
	if h == nil {
		return sub, nil, nil, fmt.Errorf("%w: nil handler", events.ErrInvalid)
	}
	g.mu.Lock()
	if g.Closed() {
		g.mu.Unlock()
		return sub, nil, nil, events.ErrClosed
	}
	g.subs.Add(1)
	g.mu.Unlock()

	runCtx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-g.closed:
			cancel(events.ErrClosed)
		case <-runCtx.Done():
		}
	}()
	return sub, runCtx, func() {
		cancel(nil)
		g.subs.Done()
	}, nil
}

// Ended is what a bus's Subscribe returns once the subscription's context
// (from Gate.Subscribe) has ended: the abort a handler asked for
// (events.ErrAbort, naming the bus and the group), events.ErrClosed when
// the bus closed, else nil (the caller's context ended).
func Ended(runCtx context.Context, bus, group string) error {
	switch cause := context.Cause(runCtx); {
	case errors.Is(cause, events.ErrAbort):
		return fmt.Errorf("%s: subscription of %s: %w", bus, group, cause)
	case errors.Is(cause, events.ErrClosed):
		return events.ErrClosed
	}
	return nil
}
