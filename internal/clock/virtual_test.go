package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/clock"
)

func TestVirtual(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := clock.NewVirtual(start)
	require.Equal(t, start, c.Now())
	require.NoError(t, c.Sleep(context.Background(), time.Hour))
	require.Equal(t, start.Add(time.Hour), c.Now(), "a sleep moves the clock by its length")
	c.Advance(time.Minute)
	c.Advance(-time.Hour)
	require.NoError(t, c.Sleep(context.Background(), -time.Second))
	require.Equal(t, start.Add(time.Hour+time.Minute), c.Now(), "never backwards")

	done, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.Sleep(done, time.Hour), context.Canceled)
	require.Equal(t, start.Add(time.Hour+time.Minute), c.Now(), "a done context does not move it")
}
