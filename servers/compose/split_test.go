package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestSplitAdminCommandsRunInTheSyncWorker runs the admin (`vidlib admin`)
// and the sync worker (`vidlib sync` + `vidlib consume`) as two compositions
// sharing PostgreSQL and a Kafka-protocol broker: the admin's reconciliations
// (root, one video) and its approval of a held run are answered 202 and
// carried out by the other process, observed as sync runs and a decided held
// run, and audited as the admin's actions by the sync worker; a command
// delivered twice runs once; the admin dry runs over its own Vimeo source.
func TestSplitAdminCommandsRunInTheSyncWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	redisURL, _ := testenv.Redis(t)
	kc := testenv.Kafka(t)

	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 5, Folders: 4, Videos: 30})
	require.NoError(t, err)
	fake := vimeotest.Start(t, acct, nil)
	issuer := startIssuer(t)

	st := migratedStore(t, dsn)

	env := envWith(servicesEnv(dsn, redisURL, kc), fakeVimeoEnv(fake, root), map[string]string{"VIDLIB_AUTH_GROUP_ROLES": "operators=admin"})
	is := Issuers{{Kind: auth.Cognito, URL: issuer.URL(), ClientIDs: []string{issuer.ClientID()}}}

	start := func(name string, app *fx.App) { runApp(t, name, app) }
	// The sync worker: the scheduler, the relay and the consumers (the
	// command consumer among them).
	worker := append(append([]config.Section(nil), config.ForSync...), config.ForConsume...)
	start("sync+consume", fx.New(Options(loadConfig(t, worker, env), Parts{Sync: true, Consume: true}, fx.Replace(is))))
	// The admin: no mirror; the Vimeo settings give it a source to dry run.
	var adminSrv *AdminServer
	start("admin", fx.New(Options(loadConfig(t, config.ForAdmin, env), Parts{Admin: true}, fx.Replace(is)), fx.Populate(&adminSrv)))

	admin := authtest.User{Email: "op@example.com", Groups: []string{"operators"}}
	token := issuer.IDToken(admin)
	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+adminSrv.Addr()+path, bytes.NewBufferString(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), string(b))
		return resp.StatusCode, m
	}
	runs := func() []tree.SyncRun {
		rs, err := st.SearchSyncRuns(ctx, tree.SyncRunQuery{Limit: 1000})
		require.NoError(t, err)
		return rs
	}
	finishedAdminRuns := func() int {
		n := 0
		for _, r := range runs() {
			if r.Trigger == tree.TriggerAdmin && !r.FinishedAt.IsZero() {
				n++
			}
		}
		return n
	}
	// executed returns the sync worker's audit record of command id.
	executed := func(id string) (audit.Record, bool) {
		p, err := st.SearchAudit(ctx, audit.Query{ActorKind: audit.ActorAdmin, Limit: 1000})
		require.NoError(t, err)
		for _, r := range p.Items {
			if r.Details["command_id"] == id && r.Details["executed_by"] == "sync_worker" {
				return r, true
			}
		}
		return audit.Record{}, false
	}
	countExecuted := func(id string) int {
		p, err := st.SearchAudit(ctx, audit.Query{ActorKind: audit.ActorAdmin, Limit: 1000})
		require.NoError(t, err)
		n := 0
		for _, r := range p.Items {
			if r.Details["command_id"] == id && r.Details["executed_by"] == "sync_worker" {
				n++
			}
		}
		return n
	}

	eventually(t, "the startup reconciliation", func() bool {
		for _, r := range runs() {
			if r.Trigger == tree.TriggerStartup && !r.FinishedAt.IsZero() {
				return true
			}
		}
		return false
	})
	require.Zero(t, finishedAdminRuns())

	// Reconcile the root: accepted, run by the sync worker, audited there.
	code, res := post("/admin/reconcile/root", `{}`)
	require.Equal(t, http.StatusAccepted, code, res)
	require.Equal(t, true, res["queued"], res)
	rootCmd, _ := res["command_id"].(string)
	require.NotEmpty(t, rootCmd)
	eventually(t, "the admin's root reconciliation run by the sync worker", func() bool { return finishedAdminRuns() == 1 })
	eventually(t, "the sync worker's audit record of the root reconciliation", func() bool { _, ok := executed(rootCmd); return ok })
	rec, _ := executed(rootCmd)
	require.Equal(t, audit.ActionReconcile, rec.Action)
	require.Equal(t, "tree", rec.ObjectKind)
	require.Equal(t, "root", rec.ObjectID)
	require.Equal(t, audit.OutcomeOK, rec.Outcome)
	require.NotEmpty(t, rec.ActorID)
	require.NotEmpty(t, rec.RequestID)

	// Refresh one video: its new title is read from Vimeo.
	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	videos := snap.VideoIDs()
	require.Len(t, videos, 30)
	vid, err := strconv.ParseInt(videos[0], 10, 64)
	require.NoError(t, err)
	require.NoError(t, acct.RenameVideo(vid, "Renamed for the admin"))
	code, res = post("/admin/reconcile/videos/"+videos[0], `{}`)
	require.Equal(t, http.StatusAccepted, code, res)
	videoCmd, _ := res["command_id"].(string)
	eventually(t, "the video refreshed by the sync worker", func() bool {
		snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
		return err == nil && snap.Video(videos[0]).Title == "Renamed for the admin"
	})
	eventually(t, "the sync worker's audit record of the refresh", func() bool { _, ok := executed(videoCmd); return ok })
	rec, _ = executed(videoCmd)
	require.Equal(t, "video:"+videos[0], rec.ObjectID)

	// The same command delivered twice runs once. Commands share a key, so
	// once the next command has run, both copies have been handled.
	bus, err := kafkabus.New(kc.Brokers(), &kafkabus.Options{TopicPrefix: kc.TopicPrefix()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	command := func(c syncworker.Command) events.Event {
		e, err := events.New(ctx, events.Event{Type: syncworker.EventSyncCommand, Source: "test", Key: syncworker.CommandKey}, c)
		require.NoError(t, err)
		return e
	}
	before := finishedAdminRuns()
	dup := command(syncworker.Command{Action: syncworker.CommandReconcileRoot, Actor: "op"})
	require.NoError(t, events.PublishEvents(ctx, bus, events.TopicVimeoSyncNormalized, dup))
	require.NoError(t, events.PublishEvents(ctx, bus, events.TopicVimeoSyncNormalized, dup))
	next := command(syncworker.Command{Action: syncworker.CommandReconcileRoot, Actor: "op"})
	require.NoError(t, events.PublishEvents(ctx, bus, events.TopicVimeoSyncNormalized, next))
	eventually(t, "the command after the duplicate", func() bool { _, ok := executed(next.ID); return ok })
	require.Equal(t, before+2, finishedAdminRuns(), "the duplicate ran once, the next command once")
	require.Equal(t, 1, countExecuted(dup.ID))

	// A mass deletion in Vimeo is held; the admin approves it; the sync
	// worker applies it and records the decision.
	for _, id := range videos[1:11] {
		n, err := strconv.ParseInt(id, 10, 64)
		require.NoError(t, err)
		require.NoError(t, acct.DeleteVideo(n))
	}
	code, res = post("/admin/reconcile/root", `{}`)
	require.Equal(t, http.StatusAccepted, code, res)
	var held tree.SyncRun
	eventually(t, "the held run", func() bool {
		for _, r := range runs() {
			if r.HeldStatus == tree.HeldPending {
				held = r
				return true
			}
		}
		return false
	})
	code, res = post("/admin/sync-runs/"+strconv.FormatInt(held.ID, 10)+"/approve", `{"note":"expected"}`)
	require.Equal(t, http.StatusAccepted, code, res)
	require.Equal(t, "pending", res["held_status"], "the decision is the sync worker's to carry out")
	approveCmd, _ := res["command_id"].(string)
	require.NotEmpty(t, approveCmd)
	eventually(t, "the held run approved by the sync worker", func() bool {
		r, err := st.SyncRun(ctx, held.ID)
		return err == nil && r.HeldStatus == tree.HeldApproved
	})
	snap, err = st.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.Len(t, snap.VideoIDs(), 20, "the approved deletions applied")
	eventually(t, "the sync worker's audit record of the approval", func() bool { _, ok := executed(approveCmd); return ok })
	rec, _ = executed(approveCmd)
	require.Equal(t, audit.ActionReconcileApprove, rec.Action)
	require.Equal(t, strconv.FormatInt(held.ID, 10), rec.ObjectID)
	require.Equal(t, audit.OutcomeOK, rec.Outcome)
	require.Equal(t, "expected", rec.Details["note"])

	// The admin dry runs over its own Vimeo source: nothing to do now.
	code, res = post("/admin/drift/dry-run", `{}`)
	require.Equal(t, http.StatusOK, code, res)
	require.Equal(t, true, res["dry_run"], res)
}
