package pgstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/store/storetest"
)

func TestAdminStore(t *testing.T) {
	storetest.TestAdminStore(t, func(t *testing.T) storetest.AdminStore { return open(t) })
}

// TestDeadLetterFailureHistory: every failure of a letter is in its history,
// whoever records it (the trigger of migration 0004).
func TestDeadLetterFailureHistory(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	d := events.DeadLetter{EventID: "e1", Topic: "vimeo.sync.normalized", Payload: []byte(`{}`), Error: "first", Attempts: 3}
	first, err := s.RecordDeadLetter(ctx, d)
	require.NoError(t, err)
	d.Error, d.Attempts = "second", 2
	_, err = s.RecordDeadLetter(ctx, d)
	require.NoError(t, err)
	h, err := s.DeadLetterHistory(ctx, first.ID)
	require.NoError(t, err)
	require.Len(t, h, 2)
	require.Equal(t, "first", h[0].Error)
	require.Equal(t, 3, h[0].Attempts)
	require.Equal(t, "second", h[1].Error)
	require.Equal(t, 2, h[1].Attempts)
}
