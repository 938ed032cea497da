package events_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

// TestDeadLetterStateChanges: replay works from open and ignored (not twice
// in a row), ignore only from open, and notes are validated; a refused
// change leaves the letter as it was.
func TestDeadLetterStateChanges(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := events.DeadLetter{ID: 1, Status: events.DeadLetterOpen}

	require.NoError(t, d.MarkIgnored("looked at it"))
	require.Equal(t, events.DeadLetterIgnored, d.Status)
	require.Equal(t, "looked at it", d.Note)
	require.ErrorIs(t, d.MarkIgnored(""), events.ErrConflict, "ignored is not open")

	require.NoError(t, d.MarkReplayed(now))
	require.Equal(t, events.DeadLetterReplayed, d.Status)
	require.Equal(t, 1, d.ReplayCount)
	require.Equal(t, now, d.ReplayedAt)
	before := d
	require.ErrorIs(t, d.MarkReplayed(now.Add(time.Hour)), events.ErrConflict, "not twice")
	require.Equal(t, before, d)

	d.Status = events.DeadLetterOpen // it failed again
	require.NoError(t, d.MarkIgnored(""), "an empty note keeps the old one")
	require.Equal(t, "looked at it", d.Note)

	require.ErrorIs(t, d.Annotate(strings.Repeat("x", 100_000)), events.ErrInvalid)
	require.Equal(t, "looked at it", d.Note)
	require.NoError(t, d.Annotate(""))
	require.Empty(t, d.Note)
}
