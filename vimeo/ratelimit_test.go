package vimeo

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func rateHeaders(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	if !reset.IsZero() {
		h.Set("X-RateLimit-Reset", reset.UTC().Format("2006-01-02T15:04:05+00:00"))
	}
	return h
}

func TestRateLimiterUnknownLimitIsOpen(t *testing.T) {
	clk := vimeotest.NewVirtualClock(t0)
	l := NewRateLimiter(&RateLimiterOptions{Clock: clk, Seed: 1})
	for range 100 {
		require.NoError(t, l.Wait(context.Background()))
	}
	require.Equal(t, t0, clk.Now(), "no waiting before any header was seen")
	require.Equal(t, 100, l.State().InFlight)
}

func TestRateLimiterHonoursRemainingAndReset(t *testing.T) {
	clk := vimeotest.NewVirtualClock(t0)
	l := NewRateLimiter(&RateLimiterOptions{Clock: clk, Seed: 1, Burst: 1})
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx))
	reset := t0.Add(30 * time.Second)
	l.Observe(200, rateHeaders(100, 3, reset))
	require.Equal(t, 3, l.State().Remaining)

	for range 3 {
		require.NoError(t, l.Wait(ctx))
	}
	require.True(t, clk.Now().Before(reset), "three requests fit in what is left")
	require.Equal(t, 3, l.State().InFlight)

	// Nothing is left and nothing came back: the next request waits for the reset.
	require.NoError(t, l.Wait(ctx))
	require.False(t, clk.Now().Before(reset), "waited until the window reset")
	require.Less(t, clk.Now().Sub(reset), 2*time.Second, "plus at most the jitter")
}

func TestRateLimiterCountsRequestsInFlight(t *testing.T) {
	clk := vimeotest.NewVirtualClock(t0)
	l := NewRateLimiter(&RateLimiterOptions{Clock: clk, Seed: 1, Burst: 1})
	ctx := context.Background()
	reset := t0.Add(time.Minute)
	// Five requests out, then an answer says 5 remain: the other four may not
	// be counted yet, so only one more may go.
	for range 5 {
		require.NoError(t, l.Wait(ctx))
	}
	l.Observe(200, rateHeaders(100, 5, reset))
	require.Equal(t, 1, l.State().Remaining)
	require.NoError(t, l.Wait(ctx))
	require.True(t, clk.Now().Before(reset))
	require.NoError(t, l.Wait(ctx))
	require.False(t, clk.Now().Before(reset))
}

func TestRateLimiterAfter429(t *testing.T) {
	tests := []struct {
		name     string
		header   http.Header
		minWait  time.Duration
		maxWait  time.Duration
		repeated bool
	}{
		{name: "reset header", header: rateHeaders(100, 0, t0.Add(40*time.Second)), minWait: 40 * time.Second, maxWait: 41 * time.Second},
		{name: "retry-after wins", header: func() http.Header {
			h := rateHeaders(100, 0, t0.Add(40*time.Second))
			h.Set("Retry-After", "5")
			return h
		}(), minWait: 5 * time.Second, maxWait: 6 * time.Second},
		{name: "no headers: backoff", header: http.Header{}, minWait: time.Second, maxWait: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := vimeotest.NewVirtualClock(t0)
			l := NewRateLimiter(&RateLimiterOptions{Clock: clk, Seed: 3})
			require.NoError(t, l.Wait(context.Background()))
			until := l.Observe(http.StatusTooManyRequests, tt.header)
			require.False(t, until.IsZero())
			require.NoError(t, l.Wait(context.Background()))
			waited := clk.Now().Sub(t0)
			require.GreaterOrEqual(t, waited, tt.minWait)
			require.LessOrEqual(t, waited, tt.maxWait)
		})
	}

	// Consecutive 429s without headers back off exponentially, up to the cap.
	clk := vimeotest.NewVirtualClock(t0)
	l := NewRateLimiter(&RateLimiterOptions{Clock: clk, Seed: 3, BackoffBase: time.Second, BackoffMax: 8 * time.Second})
	var waits []time.Duration
	for range 6 {
		require.NoError(t, l.Wait(context.Background()))
		start := clk.Now()
		l.Observe(http.StatusTooManyRequests, http.Header{})
		require.NoError(t, l.Wait(context.Background()))
		waits = append(waits, clk.Now().Sub(start))
		l.Cancel()
	}
	for i, w := range waits {
		ceiling := min(time.Second<<(i), 8*time.Second) + time.Second // + jitter of the wait
		require.LessOrEqual(t, w, ceiling, "wait %d", i)
		require.GreaterOrEqual(t, w, min(time.Second<<(i), 8*time.Second)/2, "wait %d", i)
	}
}

func TestRateLimiterContextCancel(t *testing.T) {
	clk := vimeotest.NewVirtualClock(t0)
	l := NewRateLimiter(&RateLimiterOptions{Clock: clk})
	require.NoError(t, l.Wait(context.Background()))
	l.Observe(http.StatusTooManyRequests, rateHeaders(10, 0, t0.Add(time.Hour)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.Wait(ctx), context.Canceled)
}

func TestBudgetPacesCalls(t *testing.T) {
	clk := vimeotest.NewVirtualClock(t0)
	b := newBudget(clk, 60) // one a second, burst 6
	for range 66 {
		require.NoError(t, b.wait(context.Background()))
	}
	require.GreaterOrEqual(t, clk.Now().Sub(t0), 59*time.Second)
	require.Nil(t, newBudget(clk, 0), "no budget when not asked for")
	require.NoError(t, (*bucket)(nil).wait(context.Background()))
}

func TestBreakerStates(t *testing.T) {
	b := newBreaker(BreakerOptions{Threshold: 3, Cooldown: 10 * time.Second})
	now := t0
	for i := range 2 {
		ok, probe, _ := b.allow(now)
		require.True(t, ok)
		require.False(t, probe)
		b.failure(false, now)
		st, _ := b.snapshot()
		require.Equal(t, BreakerClosed, st, "after %d failures", i+1)
	}
	b.success(false)
	for range 3 {
		b.failure(false, now)
	}
	st, opened := b.snapshot()
	require.Equal(t, BreakerOpen, st)
	require.Equal(t, 1, opened)

	ok, _, retryAt := b.allow(now.Add(5 * time.Second))
	require.False(t, ok)
	require.Equal(t, now.Add(10*time.Second), retryAt)

	// Half-open: one probe, the others wait.
	ok, probe, _ := b.allow(now.Add(10 * time.Second))
	require.True(t, ok)
	require.True(t, probe)
	ok, _, _ = b.allow(now.Add(10 * time.Second))
	require.False(t, ok, "only one probe at a time")

	// A failed probe opens the circuit again.
	b.failure(true, now.Add(11*time.Second))
	st, opened = b.snapshot()
	require.Equal(t, BreakerOpen, st)
	require.Equal(t, 2, opened)

	// A good probe closes it.
	ok, probe, _ = b.allow(now.Add(22 * time.Second))
	require.True(t, ok)
	require.True(t, probe)
	b.success(true)
	st, _ = b.snapshot()
	require.Equal(t, BreakerClosed, st)

	// An abandoned probe frees the slot.
	for range 3 {
		b.failure(false, now.Add(30*time.Second))
	}
	ok, probe, _ = b.allow(now.Add(41 * time.Second))
	require.True(t, ok && probe)
	b.abandon(true)
	ok, probe, _ = b.allow(now.Add(41 * time.Second))
	require.True(t, ok && probe)

	d := newBreaker(BreakerOptions{Disabled: true})
	for range 100 {
		d.failure(false, now)
	}
	ok, _, _ = d.allow(now)
	require.True(t, ok)
}

func TestRateLimiterOnWaitReportsEachWait(t *testing.T) {
	clk := vimeotest.NewVirtualClock(t0)
	var mu sync.Mutex
	var waits []time.Duration
	l := NewRateLimiter(&RateLimiterOptions{Clock: clk, Seed: 1, Burst: 1, OnWait: func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
	}})
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx))
	reset := t0.Add(30 * time.Second)
	l.Observe(200, rateHeaders(100, 1, reset))
	require.NoError(t, l.Wait(ctx)) // the last request of the window: no wait
	before := clk.Now()
	require.NoError(t, l.Wait(ctx)) // nothing left: waits for the reset
	waited := clk.Now().Sub(before)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, waits, 3, "one report per successful Wait")
	require.Zero(t, waits[0])
	require.Zero(t, waits[1])
	require.Equal(t, waited, waits[2], "the time spent waiting, on the limiter's clock")
	require.GreaterOrEqual(t, waits[2], reset.Sub(before))

	// A Wait that ends with its context is not reported.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, l.Wait(cctx), context.Canceled)
	require.Len(t, waits, 3)
}
