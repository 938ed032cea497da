package events_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/eventstest"
)

func deadLetterOf(t *testing.T, store events.DeadLetterStore, e events.Event) events.DeadLetter {
	t.Helper()
	b, err := e.Marshal()
	require.NoError(t, err)
	d, err := store.RecordDeadLetter(context.Background(), events.DeadLetter{
		EventID: e.ID, Topic: events.TopicAnalytics, DeadTopic: events.TopicDeadLettersAnalytics,
		Key: e.Key, Payload: b, Error: "boom", Attempts: 5,
	})
	require.NoError(t, err)
	return d
}

func TestReplayer(t *testing.T) {
	ctx := context.Background()
	store, pub := eventstest.NewDeadLetters(), &fakePublisher{}
	var audited []events.AdminAction
	r, err := events.NewReplayer(store, pub, &events.ReplayOptions{Audit: func(_ context.Context, a events.AdminAction) error {
		audited = append(audited, a)
		return nil
	}})
	require.NoError(t, err)
	e := newEvent(t)
	d := deadLetterOf(t, store, e)

	got, err := r.Replay(ctx, d.ID, "ops@example.com")
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterReplayed, got.Status)
	msgs := pub.published()
	require.Len(t, msgs, 1)
	require.Equal(t, events.TopicAnalytics, msgs[0].Topic, "back to the original topic")
	require.Equal(t, e.Key, msgs[0].Key)
	require.Equal(t, d.Payload, msgs[0].Value, "the payload is unchanged: same event id, so dedup still works")
	require.Equal(t, "1", msgs[0].Headers[events.HeaderReplay])
	require.Len(t, audited, 1)
	require.Equal(t, events.AdminAction{
		Actor: "ops@example.com", Action: events.ActionReplay, Target: "dead_letter:" + strconv.FormatInt(d.ID, 10), Outcome: "ok",
		Details: map[string]any{"replay_count": 1, "topic": events.TopicAnalytics, "event_id": e.ID, "status": "replayed"},
	}, audited[0])

	_, err = r.Replay(ctx, d.ID, "ops@example.com")
	require.ErrorIs(t, err, events.ErrConflict)
	require.Len(t, pub.published(), 1, "nothing published for a refused replay")

	// It fails again (the consumer re-records it), then is ignored with a note.
	_, err = store.RecordDeadLetter(ctx, events.DeadLetter{EventID: e.ID, Topic: events.TopicAnalytics, Payload: d.Payload, Error: "again", Attempts: 5})
	require.NoError(t, err)
	ig, err := r.Ignore(ctx, d.ID, "ops@example.com", "bad data from the client, ticket 12")
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterIgnored, ig.Status)
	require.Equal(t, 10, ig.Attempts)
	an, err := r.Annotate(ctx, d.ID, "ops@example.com", "confirmed with the client")
	require.NoError(t, err)
	require.Equal(t, "confirmed with the client", an.Note)
	require.Len(t, audited, 3)
	require.Equal(t, events.ActionIgnore, audited[1].Action)
	require.Equal(t, events.ActionAnnotate, audited[2].Action)

	// Bad input changes nothing.
	_, err = r.Ignore(ctx, d.ID, "", "x")
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = r.Annotate(ctx, d.ID, "ops", string(make([]byte, events.MaxNote+1)))
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = r.Replay(ctx, 9999, "ops")
	require.ErrorIs(t, err, events.ErrNotFound)
	require.Len(t, audited, 3)
}

func TestReplayerPublishFailureLeavesTheLetterOpen(t *testing.T) {
	ctx := context.Background()
	store, pub := eventstest.NewDeadLetters(), &fakePublisher{err: errors.New("broker down")}
	var audited []events.AdminAction
	r, err := events.NewReplayer(store, pub, &events.ReplayOptions{Audit: func(_ context.Context, a events.AdminAction) error {
		audited = append(audited, a)
		return nil
	}})
	require.NoError(t, err)
	d := deadLetterOf(t, store, newEvent(t))
	_, err = r.Replay(ctx, d.ID, "ops")
	require.ErrorContains(t, err, "broker down")
	got, err := r.Get(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterOpen, got.Status)
	require.Len(t, audited, 1)
	require.Equal(t, "error", audited[0].Outcome, "a failed attempt is audited too")
}

func TestReplayerAuditsThroughTheBusByDefault(t *testing.T) {
	ctx := context.Background()
	store, pub := eventstest.NewDeadLetters(), &fakePublisher{}
	r, err := events.NewReplayer(store, pub, nil)
	require.NoError(t, err)
	d := deadLetterOf(t, store, newEvent(t))
	_, err = r.Ignore(ctx, d.ID, "ops", "")
	require.NoError(t, err)
	msgs := pub.published()
	require.Len(t, msgs, 1)
	require.Equal(t, events.TopicAudit, msgs[0].Topic)
	ev, err := msgs[0].Event()
	require.NoError(t, err)
	require.Equal(t, events.AuditEventType, ev.Type)
	require.Equal(t, "vidlib/events", ev.Source)
	var a events.AdminAction
	require.NoError(t, ev.DecodeData(&a))
	require.Equal(t, events.ActionIgnore, a.Action)

	// The action is done even if its audit record fails; the error says so.
	pub.err = errors.New("audit topic down")
	_, err = r.Annotate(ctx, d.ID, "ops", "n")
	require.ErrorContains(t, err, "done, but the audit record failed")
	got, _ := r.Get(ctx, d.ID)
	require.Equal(t, "n", got.Note)
}

func TestReplayerList(t *testing.T) {
	ctx := context.Background()
	store := eventstest.NewDeadLetters()
	r, err := events.NewReplayer(store, &fakePublisher{}, nil)
	require.NoError(t, err)
	for range 5 {
		deadLetterOf(t, store, newEvent(t))
	}
	page, err := r.List(ctx, events.DeadLetterFilter{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	require.Equal(t, int64(5), page.Items[0].ID)
	require.Equal(t, int64(4), page.Next)
	page, err = r.List(ctx, events.DeadLetterFilter{Limit: 2, Before: 2})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Zero(t, page.Next, "the last page has no cursor")
	_, err = r.List(ctx, events.DeadLetterFilter{Limit: 5000})
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = events.NewReplayer(nil, &fakePublisher{}, nil)
	require.ErrorIs(t, err, events.ErrInvalid)
}
