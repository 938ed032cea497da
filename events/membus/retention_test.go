package membus

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

func TestRetentionDropsOldMessages(t *testing.T) {
	b, err := New(&Options{Partitions: 1, Retention: time.Hour})
	require.NoError(t, err)
	defer b.Close()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return clock }
	ctx := context.Background()
	for _, v := range []string{"a", "b", "c"} {
		require.NoError(t, b.Publish(ctx, events.Message{Topic: "t", Value: []byte(v)}))
	}
	clock = clock.Add(2 * time.Hour)
	require.NoError(t, b.Publish(ctx, events.Message{Topic: "t", Value: []byte("d")}))
	require.Equal(t, []int64{4}, b.EndOffsets("t"), "offsets keep counting")
	lag, err := b.Lag(ctx, "late", "t")
	require.NoError(t, err)
	require.Equal(t, map[int]int64{0: 1}, lag["t"], "what retention dropped is not lag")

	got := make(chan *events.Message, 1)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = b.Subscribe(sctx, events.Subscription{Group: "late", Topics: []string{"t"}}, func(_ context.Context, m *events.Message) error {
			got <- m
			return nil
		})
	}()
	m := <-got
	require.Equal(t, "d", string(m.Value), "a group that comes late skips what retention dropped")
	require.EqualValues(t, 3, m.Offset)
}
