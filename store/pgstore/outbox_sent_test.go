package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

// TestOutboxSentAtIsWhenSent: sent_at is when the relay marked the row sent,
// after publishing, not when it claimed the row.
func TestOutboxSentAtIsWhenSent(t *testing.T) {
	s := eventsStore(t)
	ctx := context.Background()
	require.NoError(t, s.EnqueueOutbox(ctx, events.TopicAudit, "k", []byte(`{}`)))
	var claimedAt time.Time
	const publishTakes = 400 * time.Millisecond
	n, err := s.RelayOutbox(ctx, 10, func(context.Context, []events.OutboxRecord) []error {
		claimedAt = time.Now()
		time.Sleep(publishTakes)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var sentAt time.Time
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT sent_at FROM outbox`).Scan(&sentAt))
	require.GreaterOrEqual(t, sentAt.Sub(claimedAt), publishTakes-50*time.Millisecond,
		"sent_at %s, claimed at %s", sentAt, claimedAt)
}
