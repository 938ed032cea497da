package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/tree"
)

// rich is a stack holding one of everything the console shows.
type rich struct {
	*stack
	logs     *observer.ObservedLogs
	okRun    int64            // a reconciliation that applied a move, a rename and a delete
	held2    int64            // a second held run, approved through the console
	dead     map[string]int64 // dead letters by the status they end in
	webhooks []int64          // provider events: received, processed, failed
	users    map[string]string
	ruleID   int64
}

// newRich builds the stack and fills it: held runs, an applied
// reconciliation, dead letters, provider events, users, an API instance
// reporting through the cache agent.
func newRich(t *testing.T) *rich {
	t.Helper()
	core, logs := observer.New(zapcore.WarnLevel)
	s := &rich{stack: newStackWith(t, zap.New(core)), logs: logs, dead: map[string]int64{}, users: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// A reconciliation that moves a video, renames a folder, deletes a video.
	full := s.src.w
	w := full
	w.Folders = append([]tree.Folder(nil), full.Folders...)
	for i := range w.Folders {
		if w.Folders[i].VimeoID == librarytest.Drafts {
			w.Folders[i].Name = "Drafts (old)"
		}
	}
	w.Placements = nil
	for _, p := range full.Placements {
		switch p.VideoVimeoID {
		case "1205":
			continue // deleted
		case "1204":
			p.FolderVimeoID = librarytest.Engineering // moved
		}
		w.Placements = append(w.Placements, p)
	}
	w.Videos = nil
	for _, v := range full.Videos {
		if v.VimeoID != "1205" {
			w.Videos = append(w.Videos, v)
		}
	}
	s.src.w = w
	rep, err := s.mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: "webhook"})
	require.NoError(t, err)
	require.Empty(t, rep.Held)
	s.okRun = rep.Run.ID

	// A second held run (the mass delete again), to approve.
	reduced := w
	reduced.Videos = w.Videos[:1]
	reduced.Placements = nil
	for _, p := range w.Placements {
		if p.VideoVimeoID == "" || p.VideoVimeoID == w.Videos[0].VimeoID {
			reduced.Placements = append(reduced.Placements, p)
		}
	}
	s.src.w = reduced
	rep, err = s.mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: "schedule"})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Held)
	s.held2 = rep.Run.ID
	s.src.w = w
	require.NoError(t, s.lib.Refresh(ctx))

	// Dead letters: one stays open, one is replayed, one ignored (through
	// the console, below).
	s.dead["open"] = s.stack.dead.ID
	now := time.Now().UTC()
	for _, k := range []string{"replayed", "ignored"} {
		d, err := s.st.RecordDeadLetter(ctx, events.DeadLetter{EventID: "evt-" + k, Topic: "vimeo.sync.normalized", Key: "video:1001",
			Payload: []byte(`{"type":"video.updated","video_id":"1001"}`), Error: "apply: timeout", Attempts: 3,
			FirstFailedAt: now.Add(-time.Hour), LastFailedAt: now.Add(-time.Minute), Status: events.DeadLetterOpen})
		require.NoError(t, err)
		s.dead[k] = d.ID
	}

	// Provider events: received, processed, failed.
	for i, st := range []string{"received", "processed", "failed"} {
		pe, _, err := s.st.RecordProviderEvent(ctx, events.ProviderEvent{Provider: "vimeo", EventType: "video.updated", ObjectID: fmt.Sprint(1001 + i),
			SourceTimestamp: now, Payload: []byte(fmt.Sprintf(`{"type":"video.updated","clip":{"uri":"/videos/%d"}}`, 1001+i)), ReceivedAt: now})
		require.NoError(t, err)
		switch st {
		case "processed":
			require.NoError(t, s.st.MarkProviderEventProcessed(ctx, pe.ID))
		case "failed":
			require.NoError(t, s.st.MarkProviderEventFailed(ctx, pe.ID, "signature mismatch"))
		}
		s.webhooks = append(s.webhooks, pe.ID)
	}

	// Users: each signs in once through the read API.
	for _, u := range []authtest.User{uSales, uMember} {
		s.readStatus(t, u, "/folders/"+librarytest.Root)
	}
	us, err := s.st.ListUsers(ctx, "", 10)
	require.NoError(t, err)
	for _, u := range us {
		s.users[u.Email] = u.ID
	}
	require.Len(t, s.users, 2)

	// An API instance reporting its cache through the agent.
	agent, err := admin.NewAgent(s.lib, s.svc.Options().Cache, &admin.AgentOptions{ID: "api-1", Interval: 50 * time.Millisecond})
	require.NoError(t, err)
	go func() { _ = agent.Run(ctx) }()
	require.Eventually(t, func() bool {
		is, err := s.svc.Instances(ctx)
		return err == nil && len(is) == 1
	}, 5*time.Second, 20*time.Millisecond)
	return s
}

// page GETs a console page and checks it is a page, not an error.
func (s *rich) page(t *testing.T, c *http.Client, path string) string {
	t.Helper()
	resp, body := get(t, c, s.admin.URL+path)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), path)
	require.Equal(t, path, resp.Request.URL.RequestURI(), "no redirect")
	require.Contains(t, body, "</html>", path)
	require.NotContains(t, body, "internal error", path)
	for _, bad := range []string{"<no value>", "map[", "0001-01-01", "%!", "&lt;nil&gt;", "[]", "{{"} {
		require.NotContains(t, body, bad, "%s: a Go value printed raw", path)
	}
	s.noErrors(t, path)
	return body
}

func (s *rich) noErrors(t *testing.T, what string) {
	t.Helper()
	for _, e := range s.logs.TakeAll() {
		t.Errorf("%s: logged %s: %s %v", what, e.Level, e.Message, e.ContextMap())
	}
}

// post sends a form with the session's CSRF token and returns the page it
// lands on.
func (s *rich) post(t *testing.T, c *http.Client, csrf, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrf)
	resp, err := c.PostForm(s.admin.URL+path, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NotContains(t, string(b), "internal error", "POST %s", path)
	s.noErrors(t, "POST "+path)
	return resp, string(b)
}

// flashed asserts a POST redirected to path with a success message.
func flashed(t *testing.T, resp *http.Response, body, path, msg string) {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, path, resp.Request.URL.Path)
	require.NotNil(t, resp.Request.Response, "a redirect after the POST")
	require.Contains(t, body, `class="flash ok"`)
	require.Contains(t, body, msg)
}

// TestEveryPageWithData opens every console page, with and without
// filters, over a store holding one of everything, posts every form, and
// opens them all again.
func TestEveryPageWithData(t *testing.T) {
	s := newRich(t)
	c := browser(t)
	resp, body := get(t, c, s.admin.URL+"/login?next=/&login_hint="+url.QueryEscape(uAdmin.Email))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(t, m)
	csrf := m[1]
	s.noErrors(t, "sign in")

	pages := func(t *testing.T) {
		t.Helper()
		for _, p := range []string{
			"/", "/sync-runs", "/sync-runs?status=held", "/sync-runs?status=ok&trigger=webhook&from=2020-01-01T00:00&to=2099-01-01",
			"/sync-runs?before=3", "/sync-runs?status=bogus",
			"/webhooks", "/webhooks?status=failed", "/webhooks?status=processed&provider=vimeo&type=video.updated&q=video",
			"/webhooks?before=2", "/webhooks?from=yesterday",
			"/dead-letters", "/dead-letters?status=open", "/dead-letters?status=replayed", "/dead-letters?status=ignored",
			"/dead-letters?topic=vimeo.sync.normalized&event=evt-ignored&q=timeout", "/dead-letters?before=2",
			"/drift", "/videos", "/videos?state=hidden", "/videos?state=deleted", "/videos?state=unavailable", "/videos?q=video",
			"/reconcile", "/reconcile?scope=folder&id=" + librarytest.Sales,
			"/caches", "/caches/invalidate", "/caches/invalidate?scope=folder&id=" + librarytest.Sales,
			"/lag", "/audit", "/audit?action=dead_letter.replay", "/audit?kind=dead_letter", "/audit?before=3", "/audit?action=nope",
			"/explain", "/explain?go=1&who=user&user=" + s.users[uSales.Email] + "&video=1101",
			"/explain?go=1&who=user&user=" + s.users[uMember.Email] + "&folder=" + librarytest.Sales,
			"/explain?go=1&who=user&user=" + s.users[uSales.Email],
			"/explain?go=1&who=audience&roles=sales&segments=tier%3Dgold&video=1206",
			"/explain?go=1&who=audience&roles=sales,eng&folder=" + librarytest.Engineering,
			"/explain?go=1&who=audience&roles=member",
			"/rules", "/users",
		} {
			s.page(t, c, p)
		}
		for _, id := range []int64{1, s.held, s.okRun, s.held2} {
			s.page(t, c, fmt.Sprintf("/sync-runs/%d", id))
		}
		for _, id := range s.webhooks {
			s.page(t, c, fmt.Sprintf("/webhooks/%d", id))
		}
		for _, id := range s.dead {
			s.page(t, c, fmt.Sprintf("/dead-letters/%d", id))
		}
	}
	pages(t)

	// The detail pages say what they hold.
	ok := s.page(t, c, fmt.Sprintf("/sync-runs/%d", s.okRun))
	require.Contains(t, ok, "1205")
	require.Contains(t, ok, "Drafts (old)")
	// A video whose embedding is off in Vimeo: the drift page says why it is not offered.
	_, err := s.st.Update(context.Background(), func(tx tree.Tx) error {
		for _, v := range s.src.w.Videos {
			if v.VimeoID == "2001" {
				v.EmbedPrivacy = tree.EmbedPrivate
				return tx.UpsertVideos(context.Background(), []tree.Video{v})
			}
		}
		return fmt.Errorf("no video 2001")
	})
	require.NoError(t, err)
	require.NoError(t, s.lib.Refresh(context.Background()))
	drift := s.page(t, c, "/drift")
	require.Contains(t, drift, "Not playable in the app: Vimeo privacy (1)")
	require.Contains(t, drift, "<td>privacy.embed is private: the video cannot be embedded</td>")
	require.Contains(t, drift, "Held deletions (9 shown)", "the last reconciliation held its deletions")
	require.NotContains(t, drift, "The mirror matches Vimeo.")
	why := s.page(t, c, "/explain?go=1&who=audience&roles=sales&video=1002")
	require.Contains(t, why, "Levels walked")
	require.Contains(t, why, `Deals <span class="muted mono">folder:100</span>`, "folder names next to ids")
	why = s.page(t, c, "/explain?go=1&who=audience&roles=sales,eng&folder="+librarytest.Engineering)
	require.Contains(t, why, "<li><code>role:eng</code> — rule #", "who can see it, by subject, not a Go struct")
	sum := s.page(t, c, "/explain?go=1&who=audience&roles=member")
	require.Contains(t, sum, "Public <span")
	held := s.page(t, c, fmt.Sprintf("/sync-runs/%d", s.held))
	require.Contains(t, held, fmt.Sprintf(`href="/sync-runs/%d/approve"`, s.held))

	// Confirmation pages of every destructive action.
	for _, p := range []string{
		fmt.Sprintf("/sync-runs/%d/approve", s.held2), fmt.Sprintf("/sync-runs/%d/reject", s.held),
		fmt.Sprintf("/dead-letters/%d/replay", s.dead["replayed"]), fmt.Sprintf("/dead-letters/%d/ignore", s.dead["ignored"]),
		"/videos/1201/hide", "/videos/1201/show", "/caches/invalidate?scope=video&id=1201",
	} {
		body := s.page(t, c, p)
		require.Contains(t, body, `<section class="card confirm">`, p)
	}
	require.Contains(t, s.page(t, c, fmt.Sprintf("/sync-runs/%d/approve", s.held2)), "Deletions the run held: 9.")
	resp, body = get(t, c, s.admin.URL+"/videos/hide?id=1202")
	require.Equal(t, "/videos/1202/hide", resp.Request.URL.Path, body)

	// Every form.
	resp, body = s.post(t, c, csrf, fmt.Sprintf("/sync-runs/%d/reject", s.held), url.Values{"note": {"too many deletions"}})
	flashed(t, resp, body, fmt.Sprintf("/sync-runs/%d", s.held), "rejected")
	resp, body = s.post(t, c, csrf, fmt.Sprintf("/sync-runs/%d/approve", s.held2), url.Values{"note": {"Vimeo is right"}})
	flashed(t, resp, body, fmt.Sprintf("/sync-runs/%d", s.held2), "approved")
	resp, body = s.post(t, c, csrf, fmt.Sprintf("/dead-letters/%d/replay", s.dead["replayed"]), nil)
	flashed(t, resp, body, fmt.Sprintf("/dead-letters/%d", s.dead["replayed"]), "was replayed")
	resp, body = s.post(t, c, csrf, fmt.Sprintf("/dead-letters/%d/ignore", s.dead["ignored"]), url.Values{"note": {"a test event"}})
	flashed(t, resp, body, fmt.Sprintf("/dead-letters/%d", s.dead["ignored"]), "marked ignored")
	for _, id := range s.dead {
		resp, body = s.post(t, c, csrf, fmt.Sprintf("/dead-letters/%d/note", id), url.Values{"note": {"looked at it"}})
		flashed(t, resp, body, fmt.Sprintf("/dead-letters/%d", id), "Note added.")
	}
	resp, body = s.post(t, c, csrf, fmt.Sprintf("/dead-letters/%d/note", s.dead["open"]), url.Values{"note": {" "}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, "Write a note first")
	resp, body = s.post(t, c, csrf, "/drift", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "dry run")
	resp, body = s.post(t, c, csrf, "/videos/1201/hide", nil)
	flashed(t, resp, body, "/videos", "is hidden")
	require.Contains(t, body, "1201")
	resp, body = s.post(t, c, csrf, "/videos/1202/hide", nil)
	flashed(t, resp, body, "/videos", "is hidden")
	resp, body = s.post(t, c, csrf, "/videos/1202/show", nil)
	flashed(t, resp, body, "/videos", "is shown again")
	for _, f := range []url.Values{{"scope": {"root"}}, {"scope": {"video"}, "id": {"1001"}}} {
		resp, body = s.post(t, c, csrf, "/reconcile", f)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, "Reconciliation finished.")
	}
	// This source cannot walk a subtree: the page says so (it was a 500).
	resp, body = s.post(t, c, csrf, "/reconcile", url.Values{"scope": {"folder"}, "id": {librarytest.Sales}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, "The source cannot walk a subtree")
	resp, body = s.post(t, c, csrf, "/reconcile", url.Values{"scope": {"folder"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	resp, body = s.post(t, c, csrf, "/caches/invalidate", url.Values{"scope": {"folder"}, "id": {librarytest.Sales}})
	flashed(t, resp, body, "/caches", "sent to 1 live instances")
	resp, body = s.post(t, c, csrf, "/rules/preview", url.Values{"subject": {"role:member"}, "target": {"folder:" + librarytest.Sales}, "effect": {"allow"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `id="preview"`)
	resp, body = s.post(t, c, csrf, "/rules/preview", url.Values{"subject": {"nobody"}, "target": {"folder:1"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	// Public content and teasers: the lock reason is part of the form, and a
	// teaser without one is refused next to that field.
	resp, body = s.post(t, c, csrf, "/rules", url.Values{"subject": {"everyone"}, "target": {"folder:" + librarytest.Engineering}, "effect": {"teaser"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, "A teaser rule needs a lock reason")
	for _, r := range []url.Values{
		{"subject": {"public"}, "target": {"folder:" + librarytest.Public}, "effect": {"allow"}},
		{"subject": {"everyone"}, "target": {"folder:" + librarytest.Engineering}, "effect": {"teaser"}, "lock_reason": {"upgrade"}},
	} {
		resp, body = s.post(t, c, csrf, "/rules", r)
		flashed(t, resp, body, "/rules", "added")
	}
	require.Contains(t, s.page(t, c, "/rules"), `teaser</span> <span class="muted">upgrade</span>`)
	require.Eventually(t, func() bool {
		_, body := get(t, c, s.admin.URL+"/explain?go=1&who=audience&video=1101")
		return strings.Contains(body, "listed locked (upgrade): no playback") && strings.Contains(body, "Locked by")
	}, 5*time.Second, 20*time.Millisecond)
	body = s.page(t, c, "/explain?go=1&who=anonymous&video=1203")
	require.Contains(t, body, "For public")
	require.Contains(t, body, "Video 1203: allowed")
	for _, r := range []url.Values{
		{"subject": {"role:member"}, "target": {"folder:" + librarytest.Sales}, "effect": {"allow"}, "note": {"members see sales"}},
		{"subject": {"segment:tier=gold"}, "target": {"video:1001"}, "effect": {"deny"}},
		{"subject": {"user:" + s.users[uMember.Email]}, "target": {"folder:" + librarytest.Engineering}, "effect": {"allow"}},
	} {
		resp, body = s.post(t, c, csrf, "/rules", r)
		flashed(t, resp, body, "/rules", "added")
	}
	set, err := s.svc.Rules(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, set.Rules)
	s.ruleID = set.Rules[len(set.Rules)-1].ID
	body = s.page(t, c, fmt.Sprintf("/rules/%d/remove", s.ruleID))
	require.Contains(t, body, `<section class="card confirm">`)
	// Once the library has loaded the rules, the confirmation previews.
	first := set.Rules[0].ID
	require.Eventually(t, func() bool {
		_, body := get(t, c, fmt.Sprintf("%s/rules/%d/remove", s.admin.URL, first))
		return strings.Contains(body, "<li>Effect: ")
	}, 5*time.Second, 20*time.Millisecond)
	s.noErrors(t, "remove confirmation")
	resp, body = s.post(t, c, csrf, fmt.Sprintf("/rules/%d/remove", s.ruleID), nil)
	flashed(t, resp, body, "/rules", "removed")
	resp, body = s.post(t, c, csrf, "/users/roles", url.Values{"role": {"editor"}, "description": {"edits things"}})
	flashed(t, resp, body, "/users", "Role editor saved.")
	resp, body = s.post(t, c, csrf, "/users/grant", url.Values{"user": {s.users[uMember.Email]}, "role": {"editor"}})
	flashed(t, resp, body, "/users", "granted")
	resp, body = s.post(t, c, csrf, "/users/grant", url.Values{"user": {s.users[uSales.Email]}, "role": {"editor"}})
	flashed(t, resp, body, "/users", "granted")
	resp, body = s.post(t, c, csrf, "/users/revoke", url.Values{"user": {s.users[uSales.Email]}, "role": {"editor"}})
	flashed(t, resp, body, "/users", "revoked")
	resp, body = s.post(t, c, csrf, "/users/grant", url.Values{"user": {"no-such-user"}, "role": {"editor"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, "No such user")
	resp, body = s.post(t, c, csrf, "/users/disable", url.Values{"user": {s.users[uSales.Email]}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `<section class="card confirm">`)
	resp, body = s.post(t, c, csrf, "/users/disable", url.Values{"user": {s.users[uSales.Email]}, "confirmed": {"1"}})
	flashed(t, resp, body, "/users", "is disabled")
	resp, body = s.post(t, c, csrf, "/users/enable", url.Values{"user": {s.users[uSales.Email]}})
	flashed(t, resp, body, "/users", "is enabled")

	// The same pages again, now with decided runs, replayed and ignored
	// letters with history, hidden videos, rules and many audit records.
	pages(t)
	for k, id := range s.dead {
		body := s.page(t, c, fmt.Sprintf("/dead-letters/%d", id))
		require.Contains(t, body, "looked at it", k)
		require.Contains(t, body, ">"+k+"<", "the status badge")
	}
	require.Contains(t, s.page(t, c, "/videos?state=hidden"), "1201")
	require.Contains(t, s.page(t, c, "/videos?state=deleted"), "1205")
	aud := s.page(t, c, "/audit")
	for _, a := range []string{"admin.reconcile_reject", "admin.reconcile_approve", "dead_letter.replay", "dead_letter.ignore", "dead_letter.annotate",
		"admin.video_hide", "admin.cache_invalidate", "entitlement.rule_added", "entitlement.rule_removed", "role.granted", "user.disabled"} {
		require.Contains(t, aud, a)
	}
	users := s.page(t, c, "/users")
	require.Contains(t, users, "editor")
	require.Contains(t, s.page(t, c, "/caches"), "api-1")
}
