package console_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library/librarytest"
)

// call sends an admin JSON request as the admin and decodes the answer.
func (s *rich) call(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.admin.URL+"/admin"+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.issuer.IDToken(uAdmin))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, b)
	s.noErrors(t, method+" "+path)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"), path)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), "%s %s: %s", method, path, b)
	return v
}

func list(t *testing.T, v map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := v[key].([]any)
	require.True(t, ok, "%q is a list in %v", key, v)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i], ok = x.(map[string]any)
		require.True(t, ok, "%q[%d] is an object", key, i)
	}
	return out
}

// TestEveryAPIRouteWithData calls the JSON API's views over a store holding
// one of everything and checks the documented shapes of the detail views.
func TestEveryAPIRouteWithData(t *testing.T) {
	s := newRich(t)
	get := func(path string) map[string]any {
		t.Helper()
		return s.call(t, http.MethodGet, path, nil, http.StatusOK)
	}

	me := get("/whoami")
	require.Equal(t, uAdmin.Name, me["name"], "snake_case like every other answer")
	require.NotEmpty(t, me["id"])
	o := get("/overview")
	require.EqualValues(t, 3, o["open_dead_letters"], o)
	require.EqualValues(t, 2, o["held_runs"], o)

	runs := list(t, get("/sync-runs"), "items")
	require.Len(t, runs, 4)
	require.Len(t, list(t, get("/sync-runs?status=held"), "items"), 2)
	require.Len(t, list(t, get("/sync-runs?before=3"), "items"), 2)

	// A run that applied changes: counts and the changes in words.
	ok := get(fmt.Sprintf("/sync-runs/%d", s.okRun))
	require.Equal(t, "ok", ok["status"])
	require.EqualValues(t, 3, ok["changes_total"])
	require.Equal(t, map[string]any{"folder.renamed": 1.0, "video.deleted": 1.0, "video.moved": 1.0}, ok["counts"])
	require.Len(t, ok["changes"], 3)
	// A held run: pending, with its held deletions in words.
	held := get(fmt.Sprintf("/sync-runs/%d", s.held2))
	require.Equal(t, "pending", held["held_status"])
	require.Len(t, held["held_changes"], 9)
	require.Contains(t, held["held_changes"].([]any)[0], "deleted video")
	s.call(t, http.MethodPost, fmt.Sprintf("/sync-runs/%d/reject", s.held), map[string]string{"note": "no"}, http.StatusOK)
	s.call(t, http.MethodPost, fmt.Sprintf("/sync-runs/%d/approve", s.held2), map[string]string{"note": "yes"}, http.StatusOK)
	for id, st := range map[int64]string{s.held: "rejected", s.held2: "approved"} {
		r := get(fmt.Sprintf("/sync-runs/%d", id))
		require.Equal(t, st, r["held_status"])
		require.NotEmpty(t, r["held_by"])
		require.NotEmpty(t, r["held_decided_at"])
	}

	// Webhook receipts: list and each detail, with its payload as JSON.
	require.Len(t, list(t, get("/provider-events"), "items"), 3)
	require.Len(t, list(t, get("/provider-events?status=failed"), "items"), 1)
	for _, id := range s.webhooks {
		e := get(fmt.Sprintf("/provider-events/%d", id))
		require.Equal(t, "video.updated", e["event_type"])
		require.IsType(t, map[string]any{}, e["payload"], "the payload is JSON, not a string")
	}

	// Dead letters in each status, with history.
	s.call(t, http.MethodPost, fmt.Sprintf("/dead-letters/%d/replay", s.dead["replayed"]), nil, http.StatusOK)
	s.call(t, http.MethodPost, fmt.Sprintf("/dead-letters/%d/ignore", s.dead["ignored"]), map[string]string{"note": "test event"}, http.StatusOK)
	s.call(t, http.MethodPost, fmt.Sprintf("/dead-letters/%d/note", s.dead["open"]), map[string]string{"note": "looking"}, http.StatusOK)
	for st, id := range s.dead {
		require.Len(t, list(t, get("/dead-letters?status="+st), "items"), 1, st)
		d := get(fmt.Sprintf("/dead-letters/%d", id))
		require.Equal(t, st, d["status"])
		require.IsType(t, map[string]any{}, d["payload"])
		h := list(t, d, "history")
		require.Len(t, h, 2, "the failure and the admin's action")
		require.Equal(t, "failed", h[0]["kind"])
		for _, k := range []string{"id", "dead_letter_id", "time", "kind", "actor", "status"} {
			require.Contains(t, h[1], k)
		}
		require.NotEmpty(t, h[1]["actor"])
	}

	inst := list(t, get("/cache/instances"), "instances")
	require.Len(t, inst, 1)
	require.Equal(t, "api-1", inst[0]["id"])
	s.call(t, http.MethodPost, "/videos/1201/hide", nil, http.StatusOK)
	require.Len(t, list(t, get("/videos?state=hidden"), "items"), 1)
	require.Equal(t, "1205", list(t, get("/videos?state=deleted"), "items")[0]["id"])
	d := get("/drift")
	require.Contains(t, d, "summary")
	require.NotNil(t, get("/lag"))
	require.NotEmpty(t, list(t, get("/audit"), "items"))
	require.NotEmpty(t, list(t, get("/audit?action=dead_letter.replay"), "items"))

	// Explain: a video decision with its path, levels and counterfactuals.
	e := get("/explain?role=sales&video_id=1002")
	v := e["video"].(map[string]any)
	require.Equal(t, false, v["allowed"])
	require.Equal(t, []any{"video:1002", "folder:100", "folder:10", "folder:1"}, v["path"])
	levels := list(t, v, "levels")
	require.NotEmpty(t, levels)
	require.Equal(t, "Video 1002", levels[0]["name"])
	require.NotEmpty(t, v["would_change"])
	e = get("/explain?role=sales&role=eng&folder_id=" + librarytest.Engineering)
	f := e["folder"].(map[string]any)
	require.Equal(t, true, f["visible"])
	require.NotEmpty(t, list(t, f, "subjects")[0]["grants"])
	e = get("/explain?user_id=" + url.QueryEscape(s.users[uSales.Email]))
	require.NotEmpty(t, list(t, e, "summary"))
	e = get("/explain?segment=tier%3Dgold&video_id=1206")
	require.Equal(t, true, e["video"].(map[string]any)["allowed"])

	// Rules, previews, roles.
	p := s.call(t, http.MethodPost, "/rules/preview", map[string]any{"add": map[string]string{"subject": "role:member", "target": "folder:" + librarytest.Sales, "effect": "allow"}}, http.StatusOK)
	require.NotEmpty(t, list(t, p, "effects"))
	r := s.call(t, http.MethodPost, "/rules", map[string]string{"subject": "role:member", "target": "folder:" + librarytest.Sales, "effect": "allow"}, http.StatusCreated)
	require.NotEmpty(t, list(t, get("/rules"), "rules"))
	s.call(t, http.MethodDelete, fmt.Sprintf("/rules/%v", r["id"]), nil, http.StatusOK)
	s.call(t, http.MethodPost, "/roles", map[string]string{"name": "editor"}, http.StatusOK)
	require.NotEmpty(t, list(t, get("/roles"), "roles"))
	uid := s.users[uMember.Email]
	s.call(t, http.MethodPost, "/users/"+uid+"/roles", map[string]string{"role": "editor"}, http.StatusOK)
	s.call(t, http.MethodDelete, "/users/"+uid+"/roles/editor", nil, http.StatusOK)
	s.call(t, http.MethodPost, "/users/"+uid+"/disable", nil, http.StatusOK)
	s.call(t, http.MethodPost, "/users/"+uid+"/enable", nil, http.StatusOK)
	s.call(t, http.MethodPost, "/cache/invalidate", map[string]string{"scope": "video", "id": "1201"}, http.StatusOK)
	s.call(t, http.MethodPost, "/reconcile/root", map[string]bool{"wait": true}, http.StatusOK)
	s.call(t, http.MethodPost, "/reconcile/videos/1001", map[string]bool{"wait": true}, http.StatusOK)
	s.call(t, http.MethodPost, "/drift/dry-run", nil, http.StatusOK)
}
