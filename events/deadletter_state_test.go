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

func TestDeadLetterFailingAgain(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var fresh events.DeadLetter
	fresh.FillFailureTimes(t0)
	require.Equal(t, t0, fresh.FirstFailedAt)
	require.Equal(t, t0, fresh.LastFailedAt)
	given := events.DeadLetter{FirstFailedAt: t0.Add(-time.Hour)}
	given.FillFailureTimes(t0)
	require.Equal(t, t0.Add(-time.Hour), given.FirstFailedAt, "a given time is kept")
	require.Equal(t, t0, given.LastFailedAt)

	d := events.DeadLetter{ID: 7, Topic: "t", EventID: "e", Key: "k1", DeadTopic: "dt1", Payload: []byte("p1"), Error: "first",
		Attempts: 3, FirstFailedAt: t0, LastFailedAt: t0.Add(time.Minute), Status: events.DeadLetterReplayed, Note: "n", ReplayCount: 1}
	payload := []byte("p2")
	d.MarkFailedAgain(events.DeadLetter{Topic: "t", EventID: "e", Key: "k2", DeadTopic: "dt2", Payload: payload, Error: "second",
		Attempts: 2, FirstFailedAt: t0.Add(-time.Minute), LastFailedAt: t0.Add(30 * time.Second)})
	require.Equal(t, 5, d.Attempts, "attempts add up")
	require.Equal(t, t0.Add(-time.Minute), d.FirstFailedAt, "the earliest first failure")
	require.Equal(t, t0.Add(time.Minute), d.LastFailedAt, "the latest last failure")
	require.Equal(t, "second", d.Error)
	require.Equal(t, "k2", d.Key)
	require.Equal(t, "dt2", d.DeadTopic)
	require.Equal(t, events.DeadLetterOpen, d.Status, "open again")
	require.Equal(t, "n", d.Note, "the note and the replay count stay")
	require.Equal(t, 1, d.ReplayCount)
	payload[0] = 'x'
	require.Equal(t, []byte("p2"), d.Payload, "the payload is copied")
}
