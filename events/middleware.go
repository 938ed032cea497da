package events

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/vidlib/vidlib/internal/clock"
)

// PanicError is what Recover turns a handler panic into.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("events: handler panicked: %v", e.Value) }

// Recover turns a panic in the handler into a *PanicError, so that one bad
// message cannot crash the consumer. Buses also recover panics as a last
// resort; put Recover inside Retry so a panicking message is retried and then
// dead-lettered like any failure.
func Recover() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = &PanicError{Value: v, Stack: debug.Stack()}
				}
			}()
			return next(ctx, m)
		}
	}
}

// RetryPolicy is bounded retrying with exponential backoff and jitter. The zero
// value is usable: 5 attempts, 100 ms doubling up to 10 s, jitter 0.5.
type RetryPolicy struct {
	MaxAttempts    int           // attempts in all, the first included (0: 5; 1: no retry)
	InitialBackoff time.Duration // pause after the first failure (0: 100 ms)
	MaxBackoff     time.Duration // cap on a pause (0: 10 s)
	Multiplier     float64       // growth per attempt (0: 2)
	// Jitter in [0, 1]: each pause is shortened by a random share of up to
	// Jitter of itself, so that many consumers failing together do not retry
	// in lock-step (0: 0.5; use a tiny value such as 1e-9 for almost none).
	Jitter float64

	// sleep replaces the timer in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = 100 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 10 * time.Second
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
	if p.Multiplier < 1 {
		p.Multiplier = 2
	}
	if p.Jitter <= 0 {
		p.Jitter = 0.5
	}
	if p.Jitter > 1 {
		p.Jitter = 1
	}
	if p.sleep == nil {
		p.sleep = clock.Sleep
	}
	return p
}

// Backoff returns the pause after failed attempt n (1-based) for a uniform
// random u in [0, 1): the exponential delay, capped, then shortened by
// u × Jitter of itself.
func (p RetryPolicy) Backoff(n int, u float64) time.Duration {
	p = p.withDefaults()
	d := float64(p.InitialBackoff)
	for i := 1; i < n && d < float64(p.MaxBackoff); i++ {
		d *= p.Multiplier
	}
	d = min(d, float64(p.MaxBackoff))
	return time.Duration(d * (1 - p.Jitter*u))
}

// HandlerError is the error of a handler that failed every attempt Retry
// allowed. DeadLetterQueue records its attempts and failure times.
type HandlerError struct {
	Err          error // the last attempt's error
	Attempts     int
	FirstFailure time.Time
	LastFailure  time.Time
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("failed %d attempt(s): %v", e.Attempts, e.Err)
}

func (e *HandlerError) Unwrap() error { return e.Err }

// Retry calls the handler again after a failure, with the policy's backoff,
// until it succeeds, the error is permanent (IsPermanent), the attempts run out
// or ctx is done. It then returns a *HandlerError wrapping the last error (or,
// when ctx is done, the context's error, so that nothing is dead-lettered
// because of a shutdown). While it waits, later messages with the same key wait
// too: order per key is kept.
func Retry(p RetryPolicy) Middleware {
	p = p.withDefaults()
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			var first time.Time
			for attempt := 1; ; attempt++ {
				err := next(ctx, m)
				if err == nil {
					return nil
				}
				now := time.Now()
				if first.IsZero() {
					first = now
				}
				if ctx.Err() != nil {
					return errors.Join(ctx.Err(), err)
				}
				if attempt >= p.MaxAttempts || IsPermanent(err) {
					return &HandlerError{Err: err, Attempts: attempt, FirstFailure: first, LastFailure: now}
				}
				if serr := p.sleep(ctx, p.Backoff(attempt, rand.Float64())); serr != nil {
					return errors.Join(serr, err)
				}
			}
		}
	}
}

// Observation is one handled message, for metrics.
type Observation struct {
	Topic     string
	Partition int
	Key       string
	EventType string // "" when Value is not an event
	Delivery  int
	Outcome   Outcome
	Duration  time.Duration // of the whole wrapped handler, retries included
	Err       error         // the error returned to the bus, if any
	Lag       time.Duration // from the broker timestamp to the end of handling
}

// Observe calls fn after each message with what happened to it: the metrics
// hook (count by topic and outcome, a histogram of Duration and Lag). Put it
// outermost so that it sees the final outcome. fn must be fast and safe for
// concurrent use.
func Observe(fn func(Observation)) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			m.outcome = ""
			start := time.Now()
			err := next(ctx, m)
			end := time.Now()
			o := Observation{
				Topic: m.Topic, Partition: m.Partition, Key: m.Key, Delivery: m.Delivery,
				Outcome: m.outcome, Duration: end.Sub(start), Err: err,
			}
			if e, derr := m.Event(); derr == nil {
				o.EventType = e.Type
			}
			if !m.Time.IsZero() {
				o.Lag = end.Sub(m.Time)
			}
			switch {
			case err != nil:
				o.Outcome = OutcomeFailed
			case o.Outcome == "":
				o.Outcome = OutcomeHandled
			}
			fn(o)
			return err
		}
	}
}

// OnlyTypes lets through only the messages whose event type is one of
// types. Any other message is done at once (nil, OutcomeSkipped), before the
// middleware inside it runs: no dedup check or record, no retry, no dead
// letter, no span. A consumer that shares a topic with events it does not
// handle puts it right inside Observe, so that those events cost it a decode
// and nothing else. The type is read from the envelope (Message.Event, which
// the handler then reuses), not from the headers; a message that does not
// decode is let through, so that the dead-letter middleware sets it aside
// with the reason.
func OnlyTypes(types ...string) Middleware {
	want := make(map[string]bool, len(types))
	for _, t := range types {
		want[t] = true
	}
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			if e, err := m.Event(); err == nil && !want[e.Type] {
				m.outcome = OutcomeSkipped
				return nil
			}
			return next(ctx, m)
		}
	}
}
