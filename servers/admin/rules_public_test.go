package admin_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

// Public subjects and teasers through the admin API: validation naming the
// field, storage with the lock reason, explain for anonymous visitors and
// locked videos; and the drift view's videos that Vimeo privacy keeps out.
func TestPublicTeaserRulesAndPrivacy(t *testing.T) {
	e := newEnv(t)
	eng := "folder:" + librarytest.Engineering
	for _, body := range []map[string]string{
		{"subject": "everyone", "target": eng, "effect": "teaser"},
		{"subject": "everyone", "target": eng, "effect": "teaser", "lock_reason": "later"},
		{"subject": "everyone", "target": eng, "effect": "allow", "lock_reason": "upgrade"},
		{"subject": "role:free", "target": eng, "effect": "teaser", "lock_reason": "sign_in"},
	} {
		d := requireError(t, e.post(t, "/admin/rules", body), 400, "invalid_argument")
		require.Equal(t, "lock_reason", d["field"], "%v", body)
	}
	rules, _, err := e.st.ListRules(e.ctx)
	require.NoError(t, err)
	require.Len(t, rules, len(librarytest.SeedRules()), "refused rules change nothing")

	r := e.post(t, "/admin/rules", map[string]string{"subject": "everyone", "target": eng, "effect": "teaser", "lock_reason": "upgrade"})
	require.Equal(t, 201, r.status, string(r.body))
	require.Equal(t, "upgrade", r.json(t)["lock_reason"])
	id := r.json(t)["id"].(float64)
	require.Equal(t, "upgrade", e.audit.find(audit.ActionRuleAdded, itoa(id))[0].Details["lock_reason"])
	r = e.post(t, "/admin/rules", map[string]string{"subject": "public", "target": "folder:" + librarytest.Public, "effect": "allow"})
	require.Equal(t, 201, r.status, string(r.body))
	var got []string
	for _, x := range items2(t, e.get(t, "/admin/rules"), "rules") {
		m := x.(map[string]any)
		got = append(got, m["subject"].(string)+" "+m["effect"].(string)+" "+str(m["lock_reason"]))
	}
	require.Contains(t, got, "everyone teaser upgrade")
	require.Contains(t, got, "public allow ")
	require.NoError(t, e.lib.Refresh(e.ctx))

	// Explain names the teaser that locked a video, and answers for anonymous visitors.
	v := e.get(t, "/admin/explain?video_id=1101").json(t)["video"].(map[string]any)
	require.Equal(t, false, v["allowed"])
	require.Equal(t, true, v["locked"])
	require.Equal(t, "upgrade", v["lock_reason"])
	require.Equal(t, "teaser", v["rule"].(map[string]any)["effect"])
	require.Contains(t, v["words"], "sees locked (upgrade)")
	x := e.get(t, "/admin/explain?anonymous=true&video_id=1201").json(t)
	require.Equal(t, "public", x["audience"], "an anonymous visitor has the public subject alone")
	require.Equal(t, true, x["video"].(map[string]any)["allowed"])
	x = e.get(t, "/admin/explain?anonymous=true&video_id=1101").json(t)
	require.Equal(t, "no_rule", x["video"].(map[string]any)["reason"], "everyone rules do not speak for anonymous visitors")
	d := requireError(t, e.get(t, "/admin/explain?anonymous=true&role=sales"), 400, "invalid_argument")
	require.Equal(t, "anonymous", d["field"])

	// Drift: a video whose embed Vimeo privacy blocks is listed with why.
	_, vids, _ := librarytest.SeedTree()
	for i := range vids {
		if vids[i].VimeoID == "1202" {
			vids[i].EmbedPrivacy = tree.EmbedPrivate
		}
	}
	_, err = e.st.Update(e.ctx, func(tx tree.Tx) error { return tx.UpsertVideos(e.ctx, vids) })
	require.NoError(t, err)
	require.NoError(t, e.lib.Refresh(e.ctx))
	np := items2(t, e.get(t, "/admin/drift"), "not_playable")
	require.Len(t, np, 1)
	require.Equal(t, "1202", np[0].(map[string]any)["video_id"])
	require.Contains(t, np[0].(map[string]any)["reason"], "privacy.embed is private")
	v = e.get(t, "/admin/explain?anonymous=true&video_id=1202").json(t)["video"].(map[string]any)
	require.Equal(t, "vimeo_privacy", v["reason"])
	require.Contains(t, v["detail"], "privacy.embed is private")
}

func itoa(f float64) string { return strconv.FormatInt(int64(f), 10) }

func str(v any) string {
	s, _ := v.(string)
	return s
}
