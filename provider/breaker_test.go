package provider_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/provider"
)

// TestBreakerCooldownIsOnTheCallersClock: the circuit opens after Threshold
// failures, stays open until the cool-down has passed on the time the
// caller gives (however little real time passed), then lets one probe
// through; an abandoned probe frees its slot, a good one closes the circuit.
func TestBreakerCooldownIsOnTheCallersClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := provider.NewBreaker(provider.BreakerOptions{Threshold: 2, Cooldown: time.Hour})
	for range 2 {
		a, _, ok := b.Allow(t0)
		require.True(t, ok)
		require.False(t, a.Probe)
		a.Failure(t0)
	}
	st, opened := b.Snapshot()
	require.Equal(t, provider.BreakerOpen, st)
	require.Equal(t, 1, opened)

	_, retryAt, ok := b.Allow(t0.Add(59 * time.Minute))
	require.False(t, ok, "open for the cool-down")
	require.Equal(t, t0.Add(time.Hour), retryAt)

	probe, _, ok := b.Allow(t0.Add(time.Hour))
	require.True(t, ok)
	require.True(t, probe.Probe)
	_, _, ok = b.Allow(t0.Add(time.Hour))
	require.False(t, ok, "one probe at a time")
	probe.Abandon(t0.Add(time.Hour))
	probe, _, ok = b.Allow(t0.Add(time.Hour))
	require.True(t, ok && probe.Probe, "an abandoned probe frees the slot")
	probe.Success(t0.Add(time.Hour))
	st, _ = b.Snapshot()
	require.Equal(t, provider.BreakerClosed, st)

	d := provider.NewBreaker(provider.BreakerOptions{Disabled: true, Threshold: 1})
	for range 5 {
		a, _, ok := d.Allow(t0)
		require.True(t, ok)
		a.Failure(t0)
	}
}
