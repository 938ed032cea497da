package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/provider"
)

// fakeClock sleeps no real time and records each sleep.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

// countingLimiter counts Wait, Observe and Cancel.
type countingLimiter struct{ waits, observed, cancelled atomic.Int32 }

func (l *countingLimiter) Wait(context.Context) error { l.waits.Add(1); return nil }
func (l *countingLimiter) Observe(int, http.Header) time.Time {
	l.observed.Add(1)
	return time.Time{}
}
func (l *countingLimiter) Cancel() { l.cancelled.Add(1) }

// TestEveryAttemptGoesThroughTheSteps: a broken connection, a 503 and a 200
// are three attempts, each rate-limited and counted; the policy's waits are
// slept on the clock; the limiter hears of every answer and every failure.
func TestEveryAttemptGoesThroughTheSteps(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1: // on a fresh connection, which net/http does not retry by itself
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	lim := &countingLimiter{}
	brk := provider.NewBreaker(provider.BreakerOptions{Threshold: 10})
	c, err := provider.New(&provider.Options{Clock: clk, Limiter: lim, Breaker: brk})
	require.NoError(t, err)

	var sent, retries int
	policy := func(a *provider.Attempt) provider.Verdict {
		if a.Err != nil || a.Status >= 500 {
			return provider.Verdict{Retry: true, Wait: time.Duration(a.N) * time.Second, Health: provider.Unhealthy}
		}
		return provider.Verdict{Health: provider.Healthy}
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	a, err := c.Do(t.Context(), req, &provider.Call{Policy: policy, OnAttempt: func(retry bool) {
		sent++
		if retry {
			retries++
		}
	}})
	require.NoError(t, err)
	require.Equal(t, 3, a.N)
	require.Equal(t, "ok", string(a.Body))
	require.Equal(t, 3, sent)
	require.Equal(t, 2, retries)
	require.EqualValues(t, 3, lim.waits.Load(), "every attempt waited for the limiter")
	require.EqualValues(t, 2, lim.observed.Load(), "two answers")
	require.EqualValues(t, 1, lim.cancelled.Load(), "one broken connection")
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, clk.sleeps, "the policy's waits, on the clock")
	require.EqualValues(t, 3, calls.Load())
}

// TestPolicyErrorEndsTheCall: the policy's error is the call's error, and an
// open circuit stops attempts before they reach the server or the limiter.
func TestPolicyErrorEndsTheCall(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	lim := &countingLimiter{}
	c, err := provider.New(&provider.Options{Clock: clk, Limiter: lim, Breaker: provider.NewBreaker(provider.BreakerOptions{Threshold: 2})})
	require.NoError(t, err)
	errDown := errors.New("down")
	var open *provider.CircuitOpenError
	policy := func(a *provider.Attempt) provider.Verdict {
		if errors.As(a.Err, &open) {
			return provider.Verdict{Err: a.Err}
		}
		if a.N < 2 {
			return provider.Verdict{Retry: true, Health: provider.Unhealthy}
		}
		return provider.Verdict{Err: errDown, Health: provider.Unhealthy}
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	_, err = c.Do(t.Context(), req, &provider.Call{Policy: policy})
	require.ErrorIs(t, err, errDown)
	_, err = c.Do(t.Context(), req, &provider.Call{Policy: policy})
	require.ErrorAs(t, err, &open, "two failures opened the circuit")
	require.EqualValues(t, 2, calls.Load())
	require.EqualValues(t, 2, lim.waits.Load(), "a refused attempt takes no limiter slot")
}
