package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/admin/console"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

// auditLog is an in-memory audit store: the admin's Auditor and Searcher.
type auditLog struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (l *auditLog) Record(_ context.Context, r audit.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Seq = int64(len(l.recs) + 1)
	l.recs = append(l.recs, r)
	return nil
}

func (l *auditLog) SearchAudit(_ context.Context, q audit.Query) (audit.Page, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var p audit.Page
	for i := len(l.recs) - 1; i >= 0; i-- {
		r := l.recs[i]
		if (q.Action == "" || r.Action == q.Action) && (q.ActorID == "" || r.ActorID == q.ActorID) &&
			(q.ObjectKind == "" || r.ObjectKind == q.ObjectKind) && (q.ObjectID == "" || r.ObjectID == q.ObjectID) {
			p.Items = append(p.Items, r)
		}
	}
	return p, nil
}

// fixedSource is what "Vimeo" has: the seeded tree.
type fixedSource struct{ w tree.Walk }

func newFixedSource() *fixedSource {
	f, v, p := librarytest.SeedTree()
	return &fixedSource{w: tree.Walk{RootVimeoID: librarytest.Root, Folders: f, Videos: v, Placements: p, Complete: true, Calls: 3}}
}

func (s *fixedSource) Walk(context.Context) (*tree.Walk, error) { w := s.w; return &w, nil }
func (s *fixedSource) Video(_ context.Context, id string) (*tree.RemoteVideo, error) {
	for _, v := range s.w.Videos {
		if v.VimeoID == id {
			rv := &tree.RemoteVideo{Video: v, Calls: 1}
			for _, p := range s.w.Placements {
				if p.VideoVimeoID == id {
					rv.FolderVimeoID = p.FolderVimeoID
				}
			}
			return rv, nil
		}
	}
	return nil, fmt.Errorf("video %s: %w", id, tree.ErrNotFound)
}
func (s *fixedSource) Folder(_ context.Context, id string) (*tree.RemoteFolder, error) {
	for _, f := range s.w.Folders {
		if f.VimeoID == id {
			return &tree.RemoteFolder{Folder: f, Calls: 1}, nil
		}
	}
	return nil, fmt.Errorf("folder %s: %w", id, tree.ErrNotFound)
}
func (s *fixedSource) Changes(_ context.Context, since tree.Cursor) (*tree.Changes, error) {
	return &tree.Changes{NotModified: true, Next: since}, nil
}

var uSales = authtest.User{Email: "sal@example.com", Name: "Sal Sales", Groups: []string{"sales"}}

// stack is the composed admin server (JSON API + console) and the read API
// over one store, library and local issuer.
type stack struct {
	issuer *authtest.Issuer
	st     *memstore.Store
	admin  *httptest.Server
	read   *httptest.Server
	dead   events.DeadLetter
	held   int64 // a reconciliation held for a decision
	mirror *tree.Mirror
	src    *fixedSource
	lib    *library.Service
	svc    *admin.Service
}

// newStackWith is newStack with the admin Service and the console logging
// to log (nil: nowhere).
func newStackWith(t *testing.T, log *zap.Logger) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &stack{st: memstore.New()}
	require.NoError(t, librarytest.Seed(ctx, s.st))

	var err error
	s.issuer, err = authtest.Start(&authtest.Options{HostedUI: true, Users: []authtest.User{uAdmin, uSales, uMember}})
	require.NoError(t, err)
	t.Cleanup(s.issuer.Close)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: s.issuer.URL(), ClientIDs: []string{s.issuer.ClientID()}}}, nil)
	require.NoError(t, err)
	authn, err := auth.New(v, s.st, nopAuditor{}, &auth.Options{
		GroupRoles: map[string][]string{"admins": {"admin"}, "sales": {"sales"}, "members": {"member"}}, PrincipalTTL: -1,
	})
	require.NoError(t, err)

	lib, err := library.New(s.st, &library.Options{PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	go func() { _ = lib.Run(ctx) }()

	bus, err := membus.New(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	src := newFixedSource()
	mirror, err := tree.NewMirror(s.st, src, &tree.MirrorOptions{RootVimeoID: librarytest.Root, MaxDeleteShare: 0.1})
	require.NoError(t, err)
	audits := &auditLog{}
	svc, err := admin.New(s.st, &admin.Options{
		Mirror: mirror, Source: src, Library: lib, Publisher: bus, Lag: bus,
		Groups: []admin.ConsumerGroup{{Group: "vidlib-applier", Topics: []string{"vimeo.sync.normalized"}}},
		Audit:  audits, Auditor: audits, Logger: log,
	})
	require.NoError(t, err)
	adminAPI, err := admin.NewAPI(svc, authn)
	require.NoError(t, err)
	con, err := console.New(svc, authn, &console.Options{Issuer: s.issuer.URL(), ClientID: s.issuer.ClientID(), IsAdmin: svc.IsAdmin, Logger: log})
	require.NoError(t, err)
	s.mirror, s.src, s.lib, s.svc = mirror, src, lib, svc
	adminAPI.Router().Handle("/*", con)
	s.admin = httptest.NewServer(adminAPI.Handler())
	t.Cleanup(s.admin.Close)

	readAPI, err := api.New(lib, authn, &api.Options{RateLimit: -1})
	require.NoError(t, err)
	s.read = httptest.NewServer(readAPI.Handler())
	t.Cleanup(s.read.Close)

	// A reconciliation to show in the history, and a dead letter to replay.
	_, err = mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: "schedule"})
	require.NoError(t, err)
	// A reconciliation held for a decision: for one walk "Vimeo" lists one
	// video only, which would delete more than MaxDeleteShare allows.
	full := src.w
	kept := full.Videos[0].VimeoID
	src.w.Videos = full.Videos[:1]
	src.w.Placements = nil
	for _, p := range full.Placements {
		if p.VideoVimeoID == "" || p.VideoVimeoID == kept {
			src.w.Placements = append(src.w.Placements, p)
		}
	}
	rep, err := mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: "schedule"})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Held, "the mass delete is held")
	s.held = rep.Run.ID
	src.w = full
	now := time.Now().UTC()
	s.dead, err = s.st.RecordDeadLetter(ctx, events.DeadLetter{EventID: "0190-evt-video-updated-1101", Topic: "vimeo.sync.normalized", Key: "video:1101",
		Payload: []byte(`{"type":"video.updated","video_id":"1101","source":"webhook"}`), Error: "apply video 1101: store unavailable: connection refused",
		Attempts: 5, FirstFailedAt: now.Add(-time.Hour), LastFailedAt: now.Add(-50 * time.Minute), Status: events.DeadLetterOpen})
	require.NoError(t, err)
	return s
}

// readStatus GETs a read API path as u.
func (s *stack) readStatus(t *testing.T, u authtest.User, path string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.read.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.issuer.IDToken(u))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	require.NoError(t, chromedp.Run(ctx, actions...))
}

// TestBrowserConsole drives the composed admin server in chromium: sign in
// as the demo admin, open every view, replay a dead letter, preview and apply
// a rule and see a user's library change through the read API, and explain a
// decision.
func TestBrowserConsole(t *testing.T) {
	ctx := browserCtx(t)
	s := newRich(t).stack // one of everything, for the screenshots
	base := localhostURL(s.admin.URL)
	sh := newShots(t)

	// Sign in: the console's page, then the issuer's, pick the admin.
	run(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("a.button.primary", chromedp.ByQuery),
		chromedp.Click("a.button.primary", chromedp.ByQuery), chromedp.WaitVisible(`button.user[value="0"]`, chromedp.ByQuery),
		chromedp.Click(`button.user[value="0"]`, chromedp.ByQuery), chromedp.WaitVisible("nav.side", chromedp.ByQuery))
	require.Equal(t, "Overview", text(t, ctx, "main h1"))
	sh.take(ctx, "10-overview")

	// Every view answers with its page, not an error page.
	views := map[string]string{
		"/sync-runs": "Sync runs", "/webhooks": "Webhook receipts", "/dead-letters": "Dead letters",
		"/drift": "Drift: the mirror against Vimeo", "/videos": "Hidden, deleted and unavailable videos",
		"/reconcile": "Reconcile", "/caches": "Caches", "/lag": "Kafka consumer lag", "/audit": "Audit log",
		"/explain": "Explain access", "/rules": "Rules", "/users": "Roles & users",
	}
	for path, h1 := range views {
		run(t, ctx, chromedp.Navigate(base+path), chromedp.WaitVisible("main h1", chromedp.ByQuery))
		require.Equal(t, h1, text(t, ctx, "main h1"), path)
		var current string
		run(t, ctx, chromedp.AttributeValue(`nav.side a[aria-current="page"]`, "href", &current, nil, chromedp.ByQuery))
		require.Equal(t, path, current)
		sh.take(ctx, "11-view"+strings.ReplaceAll(path, "/", "-"))
	}
	run(t, ctx, chromedp.Navigate(base+"/sync-runs/1"), chromedp.WaitVisible("main h1", chromedp.ByQuery))
	require.Contains(t, text(t, ctx, "main h1"), "Sync run #1")
	sh.take(ctx, "12-sync-run")

	// The held reconciliation: its held deletions in words, then rejected
	// through the confirmation page.
	held := fmt.Sprint(s.held)
	run(t, ctx, chromedp.Navigate(base+"/sync-runs/"+held), chromedp.WaitVisible(`a[href="/sync-runs/`+held+`/reject"]`, chromedp.ByQuery))
	require.Contains(t, text(t, ctx, "main h1"), "Sync run #"+held)
	require.Contains(t, text(t, ctx, "main"), "deleted video")
	sh.take(ctx, "13-sync-run-held")
	run(t, ctx, chromedp.Click(`a[href="/sync-runs/`+held+`/reject"]`, chromedp.ByQuery), chromedp.WaitVisible("section.confirm", chromedp.ByQuery),
		chromedp.Click("section.confirm button", chromedp.ByQuery), chromedp.WaitVisible(".flash.ok", chromedp.ByQuery))
	require.Contains(t, text(t, ctx, ".flash.ok"), "rejected")
	run(t, ctx, chromedp.Navigate(base+"/sync-runs/"+held), chromedp.WaitVisible("main h1", chromedp.ByQuery))
	require.Contains(t, text(t, ctx, "main"), "rejected")
	require.NotContains(t, text(t, ctx, "main"), "Approve", "a decided run offers no decision")

	// Replay the dead letter: list → detail → confirm → replayed.
	id := fmt.Sprint(s.dead.ID)
	run(t, ctx, chromedp.Navigate(base+"/dead-letters?status=open"), chromedp.WaitVisible(`a[href="/dead-letters/`+id+`"]`, chromedp.ByQuery))
	sh.take(ctx, "20-dead-letters")
	run(t, ctx, chromedp.Click(`a[href="/dead-letters/`+id+`"]`, chromedp.ByQuery), chromedp.WaitVisible("pre.payload", chromedp.ByQuery))
	require.Contains(t, text(t, ctx, "pre.payload"), `"video_id": "1101"`)
	sh.take(ctx, "21-dead-letter")
	run(t, ctx, chromedp.Click(`a[href="/dead-letters/`+id+`/replay"]`, chromedp.ByQuery), chromedp.WaitVisible("section.confirm", chromedp.ByQuery))
	sh.take(ctx, "22-dead-letter-confirm-replay")
	run(t, ctx, chromedp.Click("section.confirm button.danger", chromedp.ByQuery), chromedp.WaitVisible(".flash.ok", chromedp.ByQuery))
	require.Contains(t, text(t, ctx, ".flash.ok"), "was replayed")
	require.Equal(t, "replayed", text(t, ctx, "main h1 .badge"))
	require.Contains(t, text(t, ctx, "main table"), "dead_letter.replay")
	// A note, visible in the history too.
	run(t, ctx, chromedp.Navigate(base+"/dead-letters/"+id), chromedp.WaitVisible("#note", chromedp.ByQuery),
		chromedp.SendKeys("#note", "replayed after the store came back", chromedp.ByQuery),
		chromedp.Submit("#note", chromedp.ByQuery), chromedp.WaitVisible(".flash.ok", chromedp.ByQuery))
	require.Equal(t, "Note added.", text(t, ctx, ".flash.ok"))
	require.Contains(t, text(t, ctx, "main table"), "replayed after the store came back")
	sh.take(ctx, "23-dead-letter-replayed")
	d, err := s.st.GetDeadLetter(context.Background(), s.dead.ID)
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterReplayed, d.Status)

	// A rule: sales users do not see Engineering; preview, apply, and their
	// library changes through the read API.
	require.Equal(t, http.StatusNotFound, s.readStatus(t, uSales, "/folders/"+librarytest.Engineering))
	run(t, ctx, chromedp.Navigate(base+"/rules"), chromedp.WaitVisible("#subject", chromedp.ByQuery),
		chromedp.SendKeys("#subject", "role:sales", chromedp.ByQuery),
		chromedp.SendKeys("#target", "folder:"+librarytest.Engineering, chromedp.ByQuery),
		chromedp.SendKeys("#note", "sales demos need engineering videos", chromedp.ByQuery),
		chromedp.Submit("#subject", chromedp.ByQuery), chromedp.WaitVisible("#preview", chromedp.ByQuery))
	preview := text(t, ctx, "#preview h3")
	require.Contains(t, preview, "role:sales")
	require.Contains(t, preview, "+2", "Engineering holds 1101 and the moved 1204")
	sh.take(ctx, "30-rule-preview")
	require.Equal(t, http.StatusNotFound, s.readStatus(t, uSales, "/folders/"+librarytest.Engineering), "a preview changes nothing")
	run(t, ctx, chromedp.Click("#preview button.danger", chromedp.ByQuery), chromedp.WaitVisible(".flash.ok", chromedp.ByQuery))
	require.Contains(t, text(t, ctx, ".flash.ok"), "added: allow role:sales folder:"+librarytest.Engineering)
	sh.take(ctx, "31-rule-applied")
	require.Eventually(t, func() bool {
		return s.readStatus(t, uSales, "/folders/"+librarytest.Engineering) == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "the sales user's library shows Engineering")

	// A validation message next to its field.
	run(t, ctx, chromedp.Navigate(base+"/rules"), chromedp.WaitVisible("#subject", chromedp.ByQuery),
		chromedp.SendKeys("#subject", "nobody", chromedp.ByQuery), chromedp.SendKeys("#target", "folder:1", chromedp.ByQuery),
		chromedp.Submit("#subject", chromedp.ByQuery), chromedp.WaitVisible(".field.has-error .error", chromedp.ByQuery))
	sh.take(ctx, "32-rule-validation")

	// Explain: why a sales user sees video 1101 now.
	run(t, ctx, chromedp.Navigate(base+"/explain"), chromedp.WaitVisible("#roles", chromedp.ByQuery),
		chromedp.Click(`input[name="who"][value="audience"]`, chromedp.ByQuery),
		chromedp.SendKeys("#roles", "sales", chromedp.ByQuery), chromedp.SendKeys("#video", "1101", chromedp.ByQuery),
		chromedp.Submit("#video", chromedp.ByQuery), chromedp.WaitVisible("#decision", chromedp.ByQuery))
	require.Contains(t, text(t, ctx, "#decision .decision"), "allowed")
	require.Contains(t, text(t, ctx, "#decision"), "role:sales")
	sh.take(ctx, "40-explain")

	// The audit log has the console's actions.
	run(t, ctx, chromedp.Navigate(base+"/audit"), chromedp.WaitVisible("main table", chromedp.ByQuery))
	audited := text(t, ctx, "main table")
	require.Contains(t, audited, "dead_letter.replay")
	require.Contains(t, audited, "entitlement.rule_added")
	sh.take(ctx, "50-audit")
}
