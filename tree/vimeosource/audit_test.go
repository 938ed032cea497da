package vimeosource_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/changeevents"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestFailedRunIsAudited: a reconciliation that fails (Vimeo refuses every
// request) records its run and writes one sync.failed audit record about it.
func TestFailedRunIsAudited(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	f := newFixture(t, store, vimeotest.GenerateOptions{Seed: 3, Folders: 4, Videos: 10},
		&tree.MirrorOptions{RecordFailed: changeevents.RecordFailed()})
	f.srv.AddFault(vimeotest.Fault{Status: http.StatusForbidden, Times: -1})
	rep, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
	require.Error(t, err)
	require.NotZero(t, rep.Run.ID)

	var recs []audit.Record
	_, err = store.RelayOutbox(ctx, 100, func(_ context.Context, batch []events.OutboxRecord) []error {
		for _, o := range batch {
			if o.Topic != events.TopicAudit {
				continue
			}
			e, err := events.Decode(o.Payload)
			require.NoError(t, err)
			r, err := audit.FromEvent(e)
			require.NoError(t, err)
			recs = append(recs, r)
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	r := recs[0]
	require.Equal(t, audit.ActionSyncFailed, r.Action)
	require.Equal(t, audit.ActorSystem, r.ActorKind)
	require.Equal(t, changeevents.Source, r.ActorID)
	require.Equal(t, "sync_run", r.ObjectKind)
	require.Equal(t, strconv.FormatInt(rep.Run.ID, 10), r.ObjectID)
	require.Equal(t, audit.OutcomeError, r.Outcome)
	require.Equal(t, tree.TriggerAdmin, r.Details["trigger"])
	require.NotEmpty(t, r.Details["error"])
}
