package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/clock"
)

func TestSleep(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, clock.Sleep(ctx, time.Millisecond), "a short wait ends")
	require.NoError(t, clock.Sleep(ctx, 0), "no wait")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, clock.Sleep(cancelled, time.Hour), context.Canceled, "a done context ends the wait")
	require.ErrorIs(t, clock.Sleep(cancelled, 0), context.Canceled)

	soon, cancel2 := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel2()
	require.ErrorIs(t, clock.Sleep(soon, time.Hour), context.DeadlineExceeded, "a context ending mid-wait ends it")

	var w clock.Wall
	before := time.Now()
	require.False(t, w.Now().Before(before))
	require.ErrorIs(t, w.Sleep(cancelled, time.Hour), context.Canceled)
}
