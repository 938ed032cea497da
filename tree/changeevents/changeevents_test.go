package changeevents_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/changeevents"
)

// TestRecordWritesChangeAndAuditEvents: every change with a type becomes a
// sync event keyed by its Vimeo id; moves and deletions are audited; the
// housekeeping kinds write nothing; a held run writes one audit event.
func TestRecordWritesChangeAndAuditEvents(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	changes := []tree.Change{
		{Kind: tree.ChangeFolderCreated, VimeoID: "1", Folder: &tree.Folder{VimeoID: "1", Name: "Root"}},
		{Kind: tree.ChangeFolderUpdated, VimeoID: "1", Fields: []string{tree.FieldSortOrder}, Folder: &tree.Folder{VimeoID: "1"}},
		{Kind: tree.ChangeVideoMoved, VimeoID: "10", From: "1", To: "2", Video: &tree.Video{VimeoID: "10", Title: "Intro"}},
		{Kind: tree.ChangeVideoReordered, VimeoID: "11"},
		{Kind: tree.ChangeVideoDeleted, VimeoID: "12", From: "2", Reason: tree.ReasonNotFound},
	}
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		if err := changeevents.Record()(ctx, tx, changes); err != nil {
			return err
		}
		if err := changeevents.RecordHeld()(ctx, tx, tree.SyncRun{ID: 7, Trigger: tree.TriggerSchedule}, changes[4:]); err != nil {
			return err
		}
		return changeevents.RecordFailed()(ctx, tx, tree.SyncRun{ID: 8, Trigger: tree.TriggerSchedule}, errors.New("vimeo down"))
	})
	require.NoError(t, err)

	var got []string
	var records []audit.Record
	_, err = s.RelayOutbox(ctx, 100, func(_ context.Context, batch []events.OutboxRecord) []error {
		for _, r := range batch {
			ev, err := events.Decode(r.Payload)
			require.NoError(t, err)
			require.Equal(t, changeevents.Source, ev.Source)
			got = append(got, r.Topic+" "+ev.Type+" "+r.Key)
			if r.Topic == events.TopicAudit {
				rec, err := audit.FromEvent(ev)
				require.NoError(t, err)
				records = append(records, rec)
			}
			if ev.Type == changeevents.TypeVideoMoved {
				var d changeevents.Data
				require.NoError(t, ev.DecodeData(&d))
				require.Equal(t, changeevents.Data{Kind: "video.moved", Object: "video", VimeoID: "10", From: "1", To: "2", Name: "Intro"}, d)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{
		"vimeo.sync.normalized vimeo.folder.created 1",
		"vimeo.sync.normalized vimeo.video.moved 10",
		"audit.events audit.record video:10",
		"vimeo.sync.normalized vimeo.video.deleted 12",
		"audit.events audit.record video:12",
		"audit.events audit.record sync_run:7",
		"audit.events audit.record sync_run:8",
	}, got)
	type who struct {
		actor  string
		action audit.Action
		object string
		out    audit.Outcome
	}
	var whos []who
	for _, r := range records {
		require.Equal(t, audit.ActorSystem, r.ActorKind)
		whos = append(whos, who{r.ActorID, r.Action, r.ObjectKind + ":" + r.ObjectID, r.Outcome})
	}
	require.Equal(t, []who{
		{"vidlib/sync", audit.ActionVideoMoved, "video:10", audit.OutcomeOK},
		{"vidlib/sync", audit.ActionVideoDeleted, "video:12", audit.OutcomeOK},
		{"vidlib/sync", audit.ActionSyncHeld, "sync_run:7", audit.OutcomeDenied},
		{"vidlib/sync", audit.ActionSyncFailed, "sync_run:8", audit.OutcomeError},
	}, whos)
	require.Equal(t, map[string]string{"from": "1", "to": "2", "reason": "", "name": "Intro"}, records[0].Details)
	require.Equal(t, "vimeo down", records[3].Details["error"])
	for _, k := range tree.ChangeKinds {
		if k != tree.ChangeFolderUpdated && k != tree.ChangeVideoReordered {
			require.Contains(t, changeevents.Types, changeevents.TypeOf(k), k)
		}
	}
}
