package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

// AdminStore is what the admin service's store must do.
type AdminStore interface {
	tree.Store
	tree.AdminStore
	events.DeadLetterStore
	events.ProviderEventStore
	events.DeadLetterSearcher
	events.IdempotencyStore
}

// TestAdminStore runs the admin conformance suite: searches filter and page,
// the dead-letter history records failures and admin actions, held
// idempotency keys are claimed once.
func TestAdminStore(t *testing.T, newStore func(*testing.T) AdminStore) {
	t.Run("SyncRuns", func(t *testing.T) { testAdminSyncRuns(t, newStore(t)) })
	t.Run("Videos", func(t *testing.T) { testAdminVideos(t, newStore(t)) })
	t.Run("DeadLetters", func(t *testing.T) { testAdminDeadLetters(t, newStore(t)) })
	t.Run("ProviderEvents", func(t *testing.T) { testAdminProviderEvents(t, newStore(t)) })
	t.Run("Idempotency", func(t *testing.T) { testAdminIdempotency(t, newStore(t)) })
}

func testAdminSyncRuns(t *testing.T, s AdminStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(trigger string, at time.Time, complete, held bool, errs ...string) int64 {
		r, err := s.StartSyncRun(ctx, tree.SyncRun{Trigger: trigger, StartedAt: at})
		require.NoError(t, err)
		r.Complete, r.Held, r.Errors, r.FinishedAt = complete, held, errs, at.Add(time.Second)
		r.Counts, r.APICalls = map[string]int{"video.created": 2}, 7
		require.NoError(t, s.FinishSyncRun(ctx, r))
		return r.ID
	}
	ok1 := mk("schedule", t0, true, false)
	held := mk("schedule", t0.Add(time.Hour), true, true)
	failed := mk("admin", t0.Add(2*time.Hour), false, false, "walk failed")
	ok2 := mk("poll", t0.Add(3*time.Hour), true, false)

	ids := func(q tree.SyncRunQuery) []int64 {
		runs, err := s.SearchSyncRuns(ctx, q)
		require.NoError(t, err)
		var out []int64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	require.Equal(t, []int64{ok2, failed, held, ok1}, ids(tree.SyncRunQuery{}))
	require.Equal(t, []int64{held, ok1}, ids(tree.SyncRunQuery{Trigger: "schedule"}))
	require.Equal(t, []int64{held}, ids(tree.SyncRunQuery{Status: tree.RunHeld}))
	require.Equal(t, []int64{failed}, ids(tree.SyncRunQuery{Status: tree.RunFailed}))
	require.Equal(t, []int64{ok2, ok1}, ids(tree.SyncRunQuery{Status: tree.RunOK}))
	require.Equal(t, []int64{failed, held}, ids(tree.SyncRunQuery{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}))
	require.Equal(t, []int64{ok2, failed}, ids(tree.SyncRunQuery{Limit: 2}))
	require.Equal(t, []int64{held, ok1}, ids(tree.SyncRunQuery{Before: failed, Limit: 2}))

	r, err := s.SyncRun(ctx, held)
	require.NoError(t, err)
	require.True(t, r.Held)
	require.Equal(t, 7, r.APICalls)
	require.Equal(t, 2, r.Counts["video.created"])
	_, err = s.SyncRun(ctx, 9999)
	require.ErrorIs(t, err, tree.ErrNotFound)

}

func testAdminVideos(t *testing.T, s AdminStore) {
	ctx := context.Background()
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{folder("1", "", "Root", 0)}); err != nil {
			return err
		}
		vs := []tree.Video{video("11", "Intro"), video("12", "Deleted one"), video("13", "Hidden one"), video("14", "Transcoding")}
		vs[3].Status = tree.StatusTranscoding
		if err := tx.UpsertVideos(ctx, vs); err != nil {
			return err
		}
		if err := tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "1", VideoVimeoID: "11"}, {FolderVimeoID: "1", VideoVimeoID: "12"}, {FolderVimeoID: "1", VideoVimeoID: "13"}, {FolderVimeoID: "1", VideoVimeoID: "14"}}); err != nil {
			return err
		}
		if err := tx.DeleteVideos(ctx, []string{"12"}); err != nil {
			return err
		}
		return tx.SetVideoHidden(ctx, "13", true)
	})
	ids := func(q tree.VideoQuery) []string {
		vs, err := s.SearchVideos(ctx, q)
		require.NoError(t, err)
		out := []string{}
		for _, v := range vs {
			out = append(out, v.VimeoID)
		}
		return out
	}
	require.Equal(t, []string{"14", "13", "12"}, ids(tree.VideoQuery{}))
	require.Equal(t, []string{"12"}, ids(tree.VideoQuery{State: tree.StateDeleted}))
	require.Equal(t, []string{"13"}, ids(tree.VideoQuery{State: tree.StateHidden}))
	require.Equal(t, []string{"14"}, ids(tree.VideoQuery{State: tree.StateUnavailable}))
	require.Equal(t, []string{"13"}, ids(tree.VideoQuery{Text: "HIDDEN"}))
	require.Equal(t, []string{"14", "13"}, ids(tree.VideoQuery{Limit: 2}))
	require.Equal(t, []string{"12"}, ids(tree.VideoQuery{After: "13"}))
}

func testAdminDeadLetters(t *testing.T, s AdminStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(id, topic, errMsg string, at time.Time) events.DeadLetter {
		d, err := s.RecordDeadLetter(ctx, events.DeadLetter{EventID: id, Topic: topic, Payload: []byte(`{"a":1}`), Error: errMsg,
			Attempts: 3, FirstFailedAt: at, LastFailedAt: at})
		require.NoError(t, err)
		return d
	}
	a := rec("ev-a", "vimeo.sync.normalized", "video 42 not found", t0)
	b := rec("ev-b", "analytics.events", "bad schema", t0.Add(time.Hour))
	c := rec("ev-c", "vimeo.sync.normalized", "timeout", t0.Add(2*time.Hour))
	ids := func(q events.DeadLetterQuery) []int64 {
		ds, err := s.SearchDeadLetters(ctx, q)
		require.NoError(t, err)
		var out []int64
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	require.Equal(t, []int64{c.ID, b.ID, a.ID}, ids(events.DeadLetterQuery{}))
	require.Equal(t, []int64{c.ID, a.ID}, ids(events.DeadLetterQuery{Topic: "vimeo.sync.normalized"}))
	require.Equal(t, []int64{a.ID}, ids(events.DeadLetterQuery{Text: "NOT FOUND"}))
	require.Equal(t, []int64{b.ID}, ids(events.DeadLetterQuery{EventID: "ev-b"}))
	require.Equal(t, []int64{b.ID}, ids(events.DeadLetterQuery{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}))
	require.Equal(t, []int64{b.ID, a.ID}, ids(events.DeadLetterQuery{Before: c.ID}))
	require.Equal(t, []int64{c.ID}, ids(events.DeadLetterQuery{Limit: 1}))
	_, err := s.MarkDeadLetterIgnored(ctx, b.ID, "known bad")
	require.NoError(t, err)
	require.Equal(t, []int64{c.ID, a.ID}, ids(events.DeadLetterQuery{Status: events.DeadLetterOpen}))
	_, err = s.SearchDeadLetters(ctx, events.DeadLetterQuery{Status: "nope"})
	require.ErrorIs(t, err, events.ErrInvalid)

	// History: the failure first, then the admin's actions in order.
	require.NoError(t, s.AddDeadLetterChange(ctx, events.DeadLetterChange{DeadLetterID: a.ID, Kind: events.ActionAnnotate,
		Actor: "admin-1", Note: "looking", Time: t0.Add(3 * time.Hour)}))
	require.NoError(t, s.AddDeadLetterChange(ctx, events.DeadLetterChange{DeadLetterID: a.ID, Kind: events.ActionReplay,
		Actor: "admin-1", Status: "replayed", Time: t0.Add(4 * time.Hour)}))
	h, err := s.DeadLetterHistory(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, h, 3)
	require.Equal(t, events.ChangeFailed, h[0].Kind)
	require.Equal(t, "video 42 not found", h[0].Error)
	require.Equal(t, events.ActionAnnotate, h[1].Kind)
	require.Equal(t, "looking", h[1].Note)
	require.Equal(t, events.ActionReplay, h[2].Kind)
	require.ErrorIs(t, s.AddDeadLetterChange(ctx, events.DeadLetterChange{DeadLetterID: 9999, Kind: "x"}), events.ErrNotFound)
	_, err = s.DeadLetterHistory(ctx, 9999)
	require.ErrorIs(t, err, events.ErrNotFound)
}

func testAdminProviderEvents(t *testing.T, s AdminStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for i, typ := range []string{"video.updated", "video.deleted", "video.updated"} {
		e, _, err := s.RecordProviderEvent(ctx, events.ProviderEvent{Provider: "vimeo", EventType: typ, ObjectID: "vid-" + string(rune('a'+i)),
			SourceTimestamp: t0.Add(time.Duration(i) * time.Minute), Payload: []byte(`{}`)})
		require.NoError(t, err)
		ids = append(ids, e.ID)
	}
	require.NoError(t, s.MarkProviderEventFailed(ctx, ids[1], "vimeo 503"))
	got := func(q events.ProviderEventQuery) []int64 {
		es, err := s.SearchProviderEvents(ctx, q)
		require.NoError(t, err)
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	require.Equal(t, []int64{ids[2], ids[1], ids[0]}, got(events.ProviderEventQuery{}))
	require.Equal(t, []int64{ids[2], ids[0]}, got(events.ProviderEventQuery{EventType: "video.updated"}))
	require.Equal(t, []int64{ids[1]}, got(events.ProviderEventQuery{Status: events.ProviderEventFailed}))
	require.Equal(t, []int64{ids[1]}, got(events.ProviderEventQuery{Text: "503"}))
	require.Equal(t, []int64{ids[2]}, got(events.ProviderEventQuery{Text: "VID-C"}))
	// Text is words, each a prefix of a word, in any order and case.
	require.Equal(t, []int64{ids[1]}, got(events.ProviderEventQuery{Text: "50 VIMEO"}))
	require.Empty(t, got(events.ProviderEventQuery{Text: "imeo"}), "not a prefix of a word")
	_, err := s.SearchProviderEvents(ctx, events.ProviderEventQuery{Text: "!!"})
	require.ErrorIs(t, err, events.ErrInvalid)
	require.Equal(t, []int64{ids[1], ids[0]}, got(events.ProviderEventQuery{Before: ids[2]}))
	require.Empty(t, got(events.ProviderEventQuery{From: time.Now().Add(time.Hour)}))
}

func testAdminIdempotency(t *testing.T, s AdminStore) {
	ctx := context.Background()
	_, claimed, err := s.ClaimIdempotency(ctx, "u1:k1", "POST /x h1")
	require.NoError(t, err)
	require.True(t, claimed)
	prior, claimed, err := s.ClaimIdempotency(ctx, "u1:k1", "POST /x h1")
	require.NoError(t, err)
	require.False(t, claimed)
	require.False(t, prior.Done, "still running")
	require.NoError(t, s.CompleteIdempotency(ctx, "u1:k1", 200, []byte(`{"ok":true}`)))
	prior, claimed, err = s.ClaimIdempotency(ctx, "u1:k1", "POST /x other")
	require.NoError(t, err)
	require.False(t, claimed)
	require.True(t, prior.Done)
	require.Equal(t, 200, prior.Status)
	require.Equal(t, "POST /x h1", prior.Fingerprint)
	require.JSONEq(t, `{"ok":true}`, string(prior.Body))
	require.ErrorIs(t, s.CompleteIdempotency(ctx, "u1:k1", 500, nil), events.ErrConflict)

	// A released key may be claimed again; a completed one is not released.
	_, claimed, err = s.ClaimIdempotency(ctx, "u1:k2", "f")
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, s.ReleaseIdempotency(ctx, "u1:k2"))
	_, claimed, err = s.ClaimIdempotency(ctx, "u1:k2", "f")
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, s.ReleaseIdempotency(ctx, "u1:k1"))
	_, claimed, err = s.ClaimIdempotency(ctx, "u1:k1", "POST /x h1")
	require.NoError(t, err)
	require.False(t, claimed)
}
