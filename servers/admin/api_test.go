package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/tree"
)

// routes is every admin route with a path that names existing objects.
var routes = []struct{ method, path string }{
	{"GET", "/admin/whoami"}, {"GET", "/admin/overview"},
	{"GET", "/admin/sync-runs"}, {"GET", "/admin/sync-runs/1"}, {"POST", "/admin/sync-runs/1/approve"}, {"POST", "/admin/sync-runs/1/reject"},
	{"GET", "/admin/provider-events"}, {"GET", "/admin/provider-events/1"},
	{"GET", "/admin/dead-letters"}, {"GET", "/admin/dead-letters/1"}, {"POST", "/admin/dead-letters/1/replay"},
	{"POST", "/admin/dead-letters/1/ignore"}, {"POST", "/admin/dead-letters/1/note"}, {"POST", "/admin/replay/ev-1"},
	{"POST", "/admin/reconcile/root"}, {"POST", "/admin/reconcile/folders/" + librarytest.Sales}, {"POST", "/admin/reconcile/videos/1001"},
	{"POST", "/admin/cache/invalidate"}, {"GET", "/admin/cache/instances"},
	{"GET", "/admin/videos"}, {"POST", "/admin/videos/1001/hide"}, {"POST", "/admin/videos/1001/show"},
	{"GET", "/admin/drift"}, {"POST", "/admin/drift/dry-run"}, {"GET", "/admin/lag"}, {"GET", "/admin/audit"},
	{"GET", "/admin/explain?video_id=1001&role=sales"}, {"GET", "/admin/rules"}, {"POST", "/admin/rules"},
	{"POST", "/admin/rules/preview"}, {"DELETE", "/admin/rules/1"},
	{"GET", "/admin/roles"}, {"POST", "/admin/roles"}, {"POST", "/admin/users/x/roles"}, {"DELETE", "/admin/users/x/roles/admin"},
	{"POST", "/admin/users/x/disable"}, {"POST", "/admin/users/x/enable"},
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := e.do(t, rt.method, rt.path, nil, nil)
			requireError(t, r, http.StatusUnauthorized, "unauthenticated")
			require.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
			r = e.do(t, rt.method, rt.path, nil, nil, "Authorization", "Bearer not-a-token")
			requireError(t, r, http.StatusUnauthorized, "invalid_token")
			r = e.do(t, rt.method, rt.path, &uUser, nil)
			requireError(t, r, http.StatusForbidden, "forbidden")
			require.NotContains(t, string(r.body), "1001", "a refusal says nothing about content")
		})
	}
	// Reads answer an admin with 200.
	for _, rt := range routes {
		if rt.method == "GET" && rt.path != "/admin/sync-runs/1" && rt.path != "/admin/provider-events/1" && rt.path != "/admin/dead-letters/1" {
			r := e.get(t, rt.path)
			require.Equal(t, http.StatusOK, r.status, "%s: %s", rt.path, r.body)
		}
	}
	// Refusals of signed-in users are audited.
	require.NotEmpty(t, e.audit.find(audit.ActionAccessDecision, ""))
	me := e.get(t, "/admin/whoami").json(t)
	require.NotEmpty(t, me["id"])
	require.Equal(t, "Ops", me["name"])

	// An admin issuer makes every one of its users an admin.
	svc, err := admin.New(e.st, &admin.Options{AdminIssuers: []string{e.issuer.URL()}})
	require.NoError(t, err)
	api, err := admin.NewAPI(svc, e.authn)
	require.NoError(t, err)
	e.http.Config.Handler = api.Handler()
	require.Equal(t, http.StatusOK, e.do(t, "GET", "/admin/sync-runs", &uUser, nil).status)
}

func finishRun(t *testing.T, e *env, trigger string, at time.Time, complete, held bool, errs ...string) int64 {
	t.Helper()
	r, err := e.st.StartSyncRun(e.ctx, tree.SyncRun{Trigger: trigger, StartedAt: at})
	require.NoError(t, err)
	r.Complete, r.Held, r.Errors, r.FinishedAt, r.APICalls = complete, held, errs, at.Add(1500*time.Millisecond), 12
	r.Counts = map[string]int{"video.created": 3, "folder.moved": 1}
	require.NoError(t, e.st.FinishSyncRun(e.ctx, r))
	return r.ID
}

func TestSyncRuns(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 5 {
		ids = append(ids, finishRun(t, e, "schedule", t0.Add(time.Duration(i)*time.Hour), true, false))
	}
	failed := finishRun(t, e, "admin", t0.Add(6*time.Hour), false, false, "walk failed")

	all := items(t, e.get(t, "/admin/sync-runs"))
	require.Len(t, all, 6)
	require.EqualValues(t, failed, all[0]["id"])
	require.EqualValues(t, 12, all[0]["api_calls"])
	require.EqualValues(t, 1500, all[0]["duration_ms"])
	require.Equal(t, "failed", all[0]["status"])
	require.EqualValues(t, 3, all[0]["counts"].(map[string]any)["video.created"])

	require.Equal(t, []any{float64(failed)}, field(items(t, e.get(t, "/admin/sync-runs?status=failed")), "id"))
	require.Len(t, items(t, e.get(t, "/admin/sync-runs?trigger=schedule")), 5)
	from, to := t0.Add(time.Hour).Format(time.RFC3339), t0.Add(3*time.Hour).Format(time.RFC3339)
	require.Equal(t, []any{float64(ids[2]), float64(ids[1])}, field(items(t, e.get(t, "/admin/sync-runs?from="+from+"&to="+to)), "id"))

	// Paging: next cursors walk the list without gaps or repeats.
	var seen []any
	path := "/admin/sync-runs?limit=4"
	for {
		r := e.get(t, path)
		seen = append(seen, field(items(t, r), "id")...)
		next, _ := r.json(t)["next"].(string)
		if next == "" {
			break
		}
		path = "/admin/sync-runs?limit=4&before=" + next
	}
	require.Len(t, seen, 6)
	require.Equal(t, float64(ids[0]), seen[5])

	d := requireError(t, e.get(t, "/admin/sync-runs?status=weird"), 400, "invalid_argument")
	require.Equal(t, "status", d["field"])
	d = requireError(t, e.get(t, "/admin/sync-runs?from=yesterday"), 400, "invalid_argument")
	require.Equal(t, "from", d["field"])
	d = requireError(t, e.get(t, "/admin/sync-runs?limit=5000"), 400, "invalid_argument")
	require.Equal(t, "limit", d["field"])
	requireError(t, e.get(t, "/admin/sync-runs/99999"), 404, "not_found")
	require.Equal(t, "walk failed", e.get(t, "/admin/sync-runs/"+strconv.FormatInt(failed, 10)).json(t)["errors"].([]any)[0])
}

func TestProviderEvents(t *testing.T) {
	e := newEnv(t)
	t0 := time.Now().Add(-time.Hour).UTC()
	var ids []int64
	for i := range 6 {
		typ := "video.updated"
		if i%3 == 0 {
			typ = "video.deleted"
		}
		pe, _, err := e.st.RecordProviderEvent(e.ctx, events.ProviderEvent{Provider: "vimeo", EventType: typ,
			ObjectID: fmt.Sprintf("10%02d", i), SourceTimestamp: t0.Add(time.Duration(i) * time.Minute), Payload: []byte(`{"uri":"/videos/1"}`)})
		require.NoError(t, err)
		ids = append(ids, pe.ID)
	}
	require.NoError(t, e.st.MarkProviderEventFailed(e.ctx, ids[2], "vimeo answered 503"))
	require.NoError(t, e.st.MarkProviderEventProcessed(e.ctx, ids[1]))

	require.Len(t, items(t, e.get(t, "/admin/provider-events")), 6)
	require.Equal(t, []any{float64(ids[3]), float64(ids[0])}, field(items(t, e.get(t, "/admin/provider-events?type=video.deleted")), "id"))
	failed := items(t, e.get(t, "/admin/provider-events?status=failed"))
	require.Equal(t, []any{float64(ids[2])}, field(failed, "id"))
	require.Equal(t, "vimeo answered 503", failed[0]["error"])
	require.Nil(t, failed[0]["payload"], "lists carry no payload")
	require.Equal(t, []any{float64(ids[2])}, field(items(t, e.get(t, "/admin/provider-events?q=503")), "id"))
	require.Equal(t, []any{float64(ids[4])}, field(items(t, e.get(t, "/admin/provider-events?q=1004")), "id"))
	require.Empty(t, items(t, e.get(t, "/admin/provider-events?from="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339))))
	p1 := e.get(t, "/admin/provider-events?limit=4").json(t)
	require.Equal(t, strconv.FormatInt(ids[2], 10), p1["next"])
	require.Equal(t, []any{float64(ids[1]), float64(ids[0])}, field(items(t, e.get(t, "/admin/provider-events?limit=4&before="+p1["next"].(string))), "id"))

	one := e.get(t, "/admin/provider-events/"+strconv.FormatInt(ids[0], 10)).json(t)
	require.Equal(t, map[string]any{"uri": "/videos/1"}, one["payload"])
	requireError(t, e.get(t, "/admin/provider-events/99999"), 404, "not_found")
	d := requireError(t, e.get(t, "/admin/provider-events?status=nope"), 400, "invalid_argument")
	require.Equal(t, "status", d["field"])
	d = requireError(t, e.get(t, "/admin/provider-events/abc"), 400, "invalid_argument")
	require.Equal(t, "id", d["field"])
}

func deadLetter(t *testing.T, e *env, eventID, topic, errMsg string) int64 {
	t.Helper()
	d, err := e.st.RecordDeadLetter(e.ctx, events.DeadLetter{EventID: eventID, Topic: topic, Key: "video:1001",
		Payload: []byte(`{"id":"` + eventID + `","type":"vimeo.video.refresh"}`), Error: errMsg, Attempts: 5})
	require.NoError(t, err)
	return d.ID
}

func TestDeadLetters(t *testing.T) {
	e := newEnv(t)
	a := deadLetter(t, e, "ev-a", "vimeo.sync.normalized", "vimeo: 404 video gone")
	b := deadLetter(t, e, "ev-b", "vimeo.sync.normalized", "timeout")
	c := deadLetter(t, e, "ev-c", "analytics.events", "bad schema")
	as, bs, cs := strconv.FormatInt(a, 10), strconv.FormatInt(b, 10), strconv.FormatInt(c, 10)

	require.Equal(t, []any{float64(c), float64(b), float64(a)}, field(items(t, e.get(t, "/admin/dead-letters")), "id"))
	require.Equal(t, []any{float64(a)}, field(items(t, e.get(t, "/admin/dead-letters?q=GONE")), "id"))
	require.Equal(t, []any{float64(c)}, field(items(t, e.get(t, "/admin/dead-letters?topic="+"analytics.events")), "id"))
	require.Equal(t, []any{float64(b), float64(a)}, field(items(t, e.get(t, "/admin/dead-letters?before="+cs)), "id"))

	// Inspect: payload and error history.
	one := e.get(t, "/admin/dead-letters/"+as).json(t)
	require.Equal(t, "ev-a", one["payload"].(map[string]any)["id"])
	hist := one["history"].([]any)
	require.Len(t, hist, 1)
	require.Equal(t, "failed", hist[0].(map[string]any)["kind"])
	require.Equal(t, "vimeo: 404 video gone", hist[0].(map[string]any)["error"])

	// Replay publishes to the original topic and marks it replayed.
	r := e.post(t, "/admin/dead-letters/"+as+"/replay", nil)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "replayed", r.json(t)["status"])
	lag, err := e.bus.Lag(e.ctx, "nobody-reads", "vimeo.sync.normalized")
	require.NoError(t, err)
	require.EqualValues(t, 1, lag["vimeo.sync.normalized"][0], "one message on the topic")
	requireError(t, e.post(t, "/admin/dead-letters/"+as+"/replay", nil), 409, "conflict")
	require.Len(t, e.audit.find(audit.ActionDeadLetterReplay, as), 2, "the refused replay is audited too")
	require.Equal(t, audit.OutcomeDenied, e.audit.find(audit.ActionDeadLetterReplay, as)[1].Outcome)

	// Ignore with a note, annotate; each in the history.
	r = e.post(t, "/admin/dead-letters/"+bs+"/ignore", map[string]string{"note": "known flaky"})
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "ignored", r.json(t)["status"])
	requireError(t, e.post(t, "/admin/dead-letters/"+bs+"/replay", nil), 409, "conflict")
	requireError(t, e.post(t, "/admin/dead-letters/"+bs+"/ignore", map[string]string{"note": "again"}), 409, "conflict")
	r = e.post(t, "/admin/dead-letters/"+bs+"/note", map[string]string{"note": "ticket OPS-12"})
	require.Equal(t, 200, r.status, string(r.body))
	m := r.json(t)
	require.Equal(t, "ticket OPS-12", m["note"])
	var kinds []any
	for _, h := range m["history"].([]any) {
		kinds = append(kinds, h.(map[string]any)["kind"])
	}
	require.Equal(t, []any{"failed", "dead_letter.ignore", "dead_letter.annotate"}, kinds)
	require.NotEmpty(t, m["history"].([]any)[1].(map[string]any)["actor"])

	// The spec's replay by event id.
	r = e.post(t, "/admin/replay/ev-c", nil)
	require.Equal(t, 200, r.status, string(r.body))
	require.Len(t, r.json(t)["replayed"].([]any), 1)
	requireError(t, e.post(t, "/admin/replay/ev-c", nil), 409, "conflict")
	requireError(t, e.post(t, "/admin/replay/no-such-event", nil), 404, "not_found")

	requireError(t, e.get(t, "/admin/dead-letters/99999"), 404, "not_found")
	requireError(t, e.post(t, "/admin/dead-letters/99999/replay", nil), 404, "not_found")
	d := requireError(t, e.post(t, "/admin/dead-letters/"+as+"/note", map[string]any{"note": 5}), 400, "invalid_argument")
	require.Equal(t, "note", d["field"])
	d = requireError(t, e.post(t, "/admin/dead-letters/"+as+"/note", map[string]any{"nope": "x"}), 400, "invalid_argument")
	require.Equal(t, "nope", d["field"])
	require.Equal(t, []any{float64(a)}, field(items(t, e.get(t, "/admin/dead-letters?status=replayed&topic="+"vimeo.sync.normalized")), "id"))
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t)
	key := []string{"Idempotency-Key", "hide-1001-once"}
	r1 := e.post(t, "/admin/videos/1001/hide", nil, key...)
	require.Equal(t, 200, r1.status, string(r1.body))
	v1 := r1.json(t)["version"]
	r2 := e.post(t, "/admin/videos/1001/hide", nil, key...)
	require.Equal(t, 200, r2.status)
	require.Equal(t, "true", r2.header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(r1.body), string(r2.body))
	require.Len(t, e.audit.find(audit.ActionVideoHide, "1001"), 1, "done and audited once")
	cv, err := e.st.ContentVersion(e.ctx)
	require.NoError(t, err)
	require.EqualValues(t, v1, cv, "the repeat changed nothing")

	// The same key for another request is refused; another admin's key is theirs.
	requireError(t, e.post(t, "/admin/videos/1002/hide", nil, key...), 422, "idempotency_key_reused")
	// A failed first answer below 500 is kept too: the repeat gets the 404 again.
	k404 := []string{"Idempotency-Key", "missing"}
	requireError(t, e.post(t, "/admin/videos/424242/hide", nil, k404...), 404, "not_found")
	r := e.post(t, "/admin/videos/424242/hide", nil, k404...)
	require.Equal(t, 404, r.status)
	require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))

	// Rules: a repeated create makes one rule.
	rk := []string{"Idempotency-Key", "rule-1"}
	body := map[string]string{"subject": "role:eng", "target": "folder:" + librarytest.Public, "effect": "allow"}
	require.Equal(t, 201, e.post(t, "/admin/rules", body, rk...).status)
	require.Equal(t, 201, e.post(t, "/admin/rules", body, rk...).status)
	rules, _, err := e.st.ListRules(e.ctx)
	require.NoError(t, err)
	require.Len(t, rules, len(librarytest.SeedRules())+1)
}

func TestAuditRecords(t *testing.T) {
	e := newEnv(t)
	r := e.post(t, "/admin/videos/1001/hide", nil, "X-Request-Id", "req-hide-1")
	require.Equal(t, 200, r.status, string(r.body))
	recs := e.audit.find(audit.ActionVideoHide, "1001")
	require.Len(t, recs, 1)
	rec := recs[0]
	require.Equal(t, audit.ActorAdmin, rec.ActorKind)
	require.NotEmpty(t, rec.ActorID)
	require.Equal(t, "video", rec.ObjectKind)
	require.Equal(t, audit.OutcomeOK, rec.Outcome)
	require.Equal(t, "req-hide-1", rec.RequestID)
	require.Equal(t, "req-hide-1", r.header.Get("X-Request-Id"))

	require.Equal(t, 200, e.post(t, "/admin/videos/1001/show", nil).status)
	require.Len(t, e.audit.find(audit.ActionVideoShow, "1001"), 1)

	// Audit search over audit.Searcher, filtered.
	a := items(t, e.get(t, "/admin/audit?action=admin.video_hide"))
	require.Len(t, a, 1)
	require.Equal(t, "req-hide-1", a[0]["request_id"])
	require.Len(t, items(t, e.get(t, "/admin/audit?object_kind=video&object_id=1001")), 2)
	d := requireError(t, e.get(t, "/admin/audit?action=made.up"), 400, "invalid_argument")
	require.Equal(t, "action", d["field"])

	// Without an audit store the search is unavailable, not broken.
	svc, err := admin.New(e.st, nil)
	require.NoError(t, err)
	_, err = svc.Audit(e.ctx, audit.Query{})
	require.ErrorIs(t, err, admin.ErrUnavailable)
}

func TestVideosHideShow(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 200, e.post(t, "/admin/videos/1001/hide", nil).status)
	require.NoError(t, e.lib.Refresh(e.ctx))
	sales := library.Viewer{UserID: "u", Roles: []string{"sales"}}
	_, err := e.lib.Video(e.ctx, sales, "1001")
	require.ErrorIs(t, err, library.ErrNotFound, "hidden from users")

	hidden := items(t, e.get(t, "/admin/videos?state=hidden"))
	require.Equal(t, []any{"1001"}, field(hidden, "id"))
	require.Equal(t, []any{"1011"}, field(items(t, e.get(t, "/admin/videos?state=unavailable")), "id"))
	require.Equal(t, []any{"1011", "1001"}, field(items(t, e.get(t, "/admin/videos")), "id"))
	require.Equal(t, []any{"1001"}, field(items(t, e.get(t, "/admin/videos?after=1011")), "id"))

	require.Equal(t, 200, e.post(t, "/admin/videos/1001/show", nil).status)
	require.NoError(t, e.lib.Refresh(e.ctx))
	_, err = e.lib.Video(e.ctx, sales, "1001")
	require.NoError(t, err)
	requireError(t, e.post(t, "/admin/videos/777777/hide", nil), 404, "not_found")
	d := requireError(t, e.post(t, "/admin/videos/abc/hide", nil), 400, "invalid_argument")
	require.Equal(t, "id", d["field"])
	d = requireError(t, e.get(t, "/admin/videos?state=gone"), 400, "invalid_argument")
	require.Equal(t, "state", d["field"])
}

func TestReconcileHeldAndDrift(t *testing.T) {
	e := newEnv(t)
	// Vimeo lost three of eleven videos: over the 10% share, the run is held.
	e.src.drop("1201", "1202", "1203")
	r := e.post(t, "/admin/reconcile/root", map[string]bool{"wait": true})
	require.Equal(t, 200, r.status, string(r.body))
	res := r.json(t)
	require.EqualValues(t, 3, res["held"])
	run := res["run"].(map[string]any)
	require.Equal(t, "held", run["status"])
	runID := strconv.FormatInt(int64(run["id"].(float64)), 10)
	require.Len(t, e.audit.find(audit.ActionReconcile, "root"), 1)

	// Drift: a dry run sees the three deletions and applies nothing.
	dr := e.post(t, "/admin/drift/dry-run", nil)
	require.Equal(t, 200, dr.status, string(dr.body))
	require.EqualValues(t, 3, dr.json(t)["total"])
	require.Contains(t, dr.json(t)["summary"], "3 video deleted")
	require.Len(t, items(t, e.get(t, "/admin/sync-runs?status=held")), 1)
	ov := e.get(t, "/admin/overview").json(t)
	require.EqualValues(t, 1, ov["held_runs"])

	// Approve: the deletions are applied and the decision recorded.
	r = e.post(t, "/admin/sync-runs/"+runID+"/approve", map[string]string{"note": "the team archived them"})
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "approved", r.json(t)["held_status"])
	require.NotEmpty(t, r.json(t)["held_by"])
	require.Len(t, r.json(t)["held_changes"].([]any), 3, "the held deletions, in words")
	deleted := items(t, e.get(t, "/admin/videos?state=deleted"))
	require.Equal(t, []any{"1203", "1202", "1201"}, field(deleted, "id"))
	requireError(t, e.post(t, "/admin/sync-runs/"+runID+"/reject", nil), 409, "conflict")
	appr := e.audit.find(audit.ActionReconcileApprove, runID)
	require.Len(t, appr, 1)
	require.Equal(t, "the team archived them", appr[0].Details["note"])
	require.Len(t, e.audit.find(audit.ActionReconcileReject, runID), 1, "the refused decision is audited")
	d := e.get(t, "/admin/drift").json(t)
	require.Contains(t, d["summary"], "video deleted")
	require.Len(t, d["changes"].([]any), 3, "the last reconciliation's changes in words")
	require.Equal(t, 0, int(e.get(t, "/admin/overview").json(t)["held_runs"].(float64)))

	// A run that is not held cannot be decided; unknown runs are 404.
	okRun := finishRun(t, e, "schedule", time.Now(), true, false)
	requireError(t, e.post(t, "/admin/sync-runs/"+strconv.FormatInt(okRun, 10)+"/reject", nil), 409, "conflict")
	requireError(t, e.post(t, "/admin/sync-runs/99999/approve", nil), 404, "not_found")

	// One video, one folder; in the background without wait.
	r = e.post(t, "/admin/reconcile/videos/1001", map[string]bool{"wait": true})
	require.Equal(t, 200, r.status, string(r.body))
	r = e.post(t, "/admin/reconcile/folders/"+librarytest.Sales, nil)
	require.Equal(t, 202, r.status, string(r.body))
	require.Equal(t, true, r.json(t)["started"])
	d2 := requireError(t, e.post(t, "/admin/reconcile/folders/abc", nil), 400, "invalid_argument")
	require.Equal(t, "id", d2["field"])
}

func TestRejectHeld(t *testing.T) {
	e := newEnv(t)
	held := finishRun(t, e, "schedule", time.Now(), true, true)
	hs := strconv.FormatInt(held, 10)
	r := e.post(t, "/admin/sync-runs/"+hs+"/reject", map[string]string{"note": "looks wrong"})
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "rejected", r.json(t)["held_status"])
	require.Equal(t, "looks wrong", e.audit.find(audit.ActionReconcileReject, hs)[0].Details["note"])
}

func TestRulesPreviewExplain(t *testing.T) {
	e := newEnv(t)
	// Invalid rules name the field.
	for f, body := range map[string]map[string]string{
		"subject": {"subject": "group:x", "target": "folder:11", "effect": "allow"},
		"target":  {"subject": "role:eng", "target": "playlist:1", "effect": "allow"},
		"effect":  {"subject": "role:eng", "target": "folder:11", "effect": "maybe"},
	} {
		d := requireError(t, e.post(t, "/admin/rules", body), 400, "invalid_argument")
		require.Equal(t, f, d["field"])
	}
	// Preview: sales members gain the Public folder's videos? They have them
	// already (everyone); eng gains the Sales videos.
	p := e.post(t, "/admin/rules/preview", map[string]any{"add": map[string]string{"subject": "role:eng", "target": "folder:" + librarytest.Sales, "effect": "allow"}})
	require.Equal(t, 200, p.status, string(p.body))
	eff := p.json(t)["effects"].([]any)[0].(map[string]any)
	require.Equal(t, "role:eng", eff["subject"])
	require.EqualValues(t, 2, eff["delta"], "1001 and 1002 (1011 is transcoding)")
	require.Contains(t, p.json(t)["words"], "+2 videos for role:eng")
	require.ElementsMatch(t, []any{"1001", "1002"}, eff["example_added"])

	r := e.post(t, "/admin/rules", map[string]string{"subject": "role:eng", "target": "folder:" + librarytest.Sales, "effect": "allow"})
	require.Equal(t, 201, r.status, string(r.body))
	id := strconv.FormatInt(int64(r.json(t)["id"].(float64)), 10)
	requireError(t, e.post(t, "/admin/rules", map[string]string{"subject": "role:eng", "target": "folder:" + librarytest.Sales, "effect": "allow"}), 409, "conflict")
	require.Len(t, e.audit.find(audit.ActionRuleAdded, id), 1)
	require.NoError(t, e.lib.Refresh(e.ctx))

	// Explain: a user with role sales on 1002 is denied by the video rule.
	x := e.get(t, "/admin/explain?role=sales&video_id=1002").json(t)
	v := x["video"].(map[string]any)
	require.Equal(t, false, v["allowed"])
	require.EqualValues(t, 0, v["level"])
	require.Equal(t, "video:1002", v["target"])
	require.Equal(t, []any{"video:1002", "folder:" + librarytest.Deals, "folder:" + librarytest.Sales, "folder:" + librarytest.Root}, v["path"])
	require.NotEmpty(t, v["would_change"])
	x = e.get(t, "/admin/explain?role=eng&video_id=1001").json(t)
	require.Equal(t, true, x["video"].(map[string]any)["allowed"])
	require.EqualValues(t, 2, x["video"].(map[string]any)["level"])
	sum := e.get(t, "/admin/explain?segment=tier=gold").json(t)["summary"].([]any)
	require.Len(t, sum, 3, "one row per top folder")
	f := e.get(t, "/admin/explain?role=sales&folder_id="+librarytest.Sales).json(t)["folder"].(map[string]any)
	require.Equal(t, true, f["visible"])
	var who []any
	for _, x := range f["subjects"].([]any) {
		who = append(who, x.(map[string]any)["subject"])
	}
	require.ElementsMatch(t, []any{"role:sales", "role:eng"}, who, "who can see Sales, by rule subject")
	requireError(t, e.get(t, "/admin/explain?role=sales&video_id=99999"), 404, "not_found")
	d := requireError(t, e.get(t, "/admin/explain?role=sales&video_id=x1"), 400, "invalid_argument")
	require.Equal(t, "video_id", d["field"])

	r = e.do(t, http.MethodDelete, "/admin/rules/"+id, &uAdmin, nil)
	require.Equal(t, 200, r.status, string(r.body))
	requireError(t, e.do(t, http.MethodDelete, "/admin/rules/"+id, &uAdmin, nil), 404, "not_found")
	require.Len(t, items2(t, e.get(t, "/admin/rules"), "rules"), len(librarytest.SeedRules()))
}

func items2(t *testing.T, r resp, key string) []any {
	t.Helper()
	require.Equal(t, 200, r.status, string(r.body))
	return r.json(t)[key].([]any)
}

func TestRolesAndUsers(t *testing.T) {
	e := newEnv(t)
	// The user signs in once so that it exists.
	require.Equal(t, 403, e.do(t, "GET", "/admin/sync-runs", &uUser, nil).status)
	users, err := e.st.ListUsers(e.ctx, "", 10)
	require.NoError(t, err)
	var uid string
	for _, u := range users {
		if u.Email == uUser.Email {
			uid = u.ID
		}
	}
	require.NotEmpty(t, uid)
	require.Equal(t, 200, e.post(t, "/admin/roles", map[string]string{"name": "member", "description": "paying"}).status)
	require.Equal(t, 200, e.post(t, "/admin/users/"+uid+"/roles", map[string]string{"role": "member"}).status)
	roles, err := e.st.UserRoles(e.ctx, uid)
	require.NoError(t, err)
	require.Contains(t, roles, "member")
	require.Equal(t, 200, e.do(t, http.MethodDelete, "/admin/users/"+uid+"/roles/member", &uAdmin, nil).status)
	require.Equal(t, 200, e.post(t, "/admin/users/"+uid+"/disable", nil).status)
	u, err := e.st.User(e.ctx, uid)
	require.NoError(t, err)
	require.False(t, u.DisabledAt.IsZero())
	require.Equal(t, 200, e.post(t, "/admin/users/"+uid+"/enable", nil).status)
	requireError(t, e.post(t, "/admin/users/00000000-0000-0000-0000-000000000000/disable", nil), 404, "not_found")
	require.Len(t, e.audit.find(audit.ActionUserDisable, uid), 1)
}

// TestCacheInvalidationReachesEveryInstance: two API instances (each a
// library.Service with an Agent) share Redis; an invalidation sent through
// the admin API reaches both.
func TestCacheInvalidationReachesEveryInstance(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	viewer := library.Viewer{UserID: "u1", Roles: []string{"sales"}}
	var libs []*library.Service
	var agents []*admin.Agent
	for i := range 2 {
		// Each instance has its own Redis connection and the opt-in Redis
		// page cache.
		rs := e.redis(t)
		lib, err := library.New(e.st, &library.Options{PollInterval: -1, Cache: api.RedisCache(rs, 0)})
		require.NoError(t, err)
		require.NoError(t, lib.Refresh(ctx))
		ag, err := admin.NewAgent(lib, admin.RedisCache(rs), &admin.AgentOptions{ID: fmt.Sprintf("api-%d", i), Interval: 100 * time.Millisecond})
		require.NoError(t, err)
		go func() { _ = ag.Run(ctx) }()
		libs, agents = append(libs, lib), append(agents, ag)
	}
	require.Eventually(t, func() bool {
		return len(items2(t, e.get(t, "/admin/cache/instances"), "instances")) == 2
	}, 5*time.Second, 20*time.Millisecond)
	in := items2(t, e.get(t, "/admin/cache/instances"), "instances")[0].(map[string]any)
	require.Equal(t, "api-0", in["id"])
	require.NotZero(t, in["content_version"])
	require.Equal(t, true, in["ready"])

	warm := func() {
		for _, lib := range libs {
			_, err := lib.HomeJSON(ctx, viewer)
			require.NoError(t, err)
			_, err = lib.FolderJSON(ctx, viewer, librarytest.Sales, "", 0)
			require.NoError(t, err)
			require.NotZero(t, lib.CacheStats().Pages)
		}
	}
	salesPages := func() int {
		keys, err := e.rdb.Keys(ctx, e.prefix+"folder:"+librarytest.Sales+":*").Result()
		require.NoError(t, err)
		return len(keys)
	}
	for _, sc := range []map[string]string{{"scope": "folder", "id": librarytest.Sales}, {"scope": "video", "id": "1001"}, {"scope": "all"}} {
		warm()
		if sc["scope"] != "video" {
			require.Eventually(t, func() bool { return salesPages() > 0 }, 5*time.Second, 10*time.Millisecond, "the Redis page cache holds the Sales page")
		}
		r := e.post(t, "/admin/cache/invalidate", sc)
		require.Equal(t, 200, r.status, string(r.body))
		inv := r.json(t)["invalidation"].(map[string]any)["id"].(string)
		for i, lib := range libs {
			require.Eventually(t, func() bool { return lib.CacheStats().Pages == 0 && agents[i].State().LastInvalidation == inv },
				5*time.Second, 10*time.Millisecond, "instance %d, scope %v", i, sc)
		}
		if sc["scope"] != "video" {
			require.Zero(t, salesPages(), "the Redis page cache entries of the scope are gone too")
		}
	}
	require.Len(t, e.audit.find(audit.ActionCacheInvalidate, ""), 3)
	requireError(t, e.post(t, "/admin/cache/invalidate", map[string]string{"scope": "folder", "id": "999999"}), 404, "not_found")
	d := requireError(t, e.post(t, "/admin/cache/invalidate", map[string]string{"scope": "planet"}), 400, "invalid_argument")
	require.Equal(t, "scope", d["field"])
}

func TestLag(t *testing.T) {
	e := newEnv(t)
	l := items2(t, e.get(t, "/admin/lag"), "lag")
	require.Len(t, l, 1)
	require.Equal(t, "vidlib-applier", l[0].(map[string]any)["group"])
}

// TestDryRunWithoutMirror: a process that does not run the sync worker but
// has a Source compares it with the store.
func TestDryRunWithoutMirror(t *testing.T) {
	e := newEnv(t)
	e.src.drop("1201", "1202")
	svc, err := admin.New(e.st, &admin.Options{Source: e.src})
	require.NoError(t, err)
	d, err := svc.DryRun(e.ctx, admin.Actor{ID: "ops"})
	require.NoError(t, err)
	require.True(t, d.DryRun)
	require.Equal(t, 2, d.Total)
	require.Equal(t, 2, d.Counts["video.deleted"])
	require.Len(t, d.Changes, 2)
	svc, err = admin.New(e.st, nil)
	require.NoError(t, err)
	_, err = svc.DryRun(e.ctx, admin.Actor{ID: "ops"})
	require.ErrorIs(t, err, admin.ErrUnavailable)
}
