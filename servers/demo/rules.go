package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/compose"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// showcaseRules shows public content, a teaser and Vimeo privacy through
// the API: it makes one top-level folder public (browsable without signing
// in), lists one staff-only video to members locked for an upgrade, and
// turns off embedding of one video in the fake Vimeo account, which the
// mirror picks up and the library stops offering. Each answer is checked.
// tokens are the demo users' (visitor, free member, gold member, staff).
func showcaseRules(ctx context.Context, w io.Writer, b compose.Backend, lib *library.Service, m syncworker.Mirror,
	acct *vimeotest.Account, apiBase string, top []string, tokens []string) error {
	if len(top) < 2 || len(tokens) < 4 {
		return nil // a real account without the demo's shape: nothing to show
	}
	snap, err := b.LoadSnapshot(ctx, tree.LoadOptions{})
	if err != nil {
		return err
	}
	public := top[len(top)-1]
	teased := firstOffered(snap, top[1]) // in the staff-only section (members are denied top[1])
	if teased == "" {
		return nil
	}
	add := func(subject, target string, eff entitle.Effect, reason entitle.LockReason) error {
		s, err := entitle.ParseSubject(subject)
		if err != nil {
			return err
		}
		t, err := entitle.ParseTarget(target)
		if err != nil {
			return err
		}
		_, _, err = b.AddRule(ctx, entitle.Rule{Subject: s, Target: t, Effect: eff, LockReason: reason, CreatedBy: "demo"})
		return err
	}
	if err := add("public", "folder:"+public, entitle.Allow, ""); err != nil {
		return err
	}
	if err := add("role:member", "video:"+teased, entitle.Teaser, entitle.LockUpgrade); err != nil {
		return err
	}
	if err := lib.Refresh(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "\npublic content and teasers (rules added: allow public folder:%s %q; teaser upgrade role:member video:%s %q):\n",
		public, snap.Folder(public).Name, teased, snap.Video(teased).Title)

	type check struct {
		who, token, path string
		want             int
		show             func(body []byte) string
	}
	folders := func(body []byte) string {
		n, first := homeFolders(body)
		return fmt.Sprintf("%d folder(s), first %s", n, first)
	}
	lock := func(body []byte) string {
		var v struct {
			Locked     bool   `json:"locked"`
			LockReason string `json:"lock_reason"`
			Error      struct {
				Code    string            `json:"code"`
				Details map[string]string `json:"details"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &v)
		switch {
		case v.Locked:
			return "listed locked, lock_reason " + v.LockReason
		case v.Error.Code != "":
			return v.Error.Code + " " + v.Error.Details["lock_reason"]
		}
		return "playable"
	}
	for _, c := range []check{
		{"anonymous", "", "/library/home", http.StatusOK, folders},
		{"anonymous", "", "/folders/" + public, http.StatusOK, nil},
		{"anonymous", "", "/folders/" + top[0], http.StatusNotFound, nil},
		{"anonymous", "", "/me", http.StatusUnauthorized, nil},
		{"visitor (no role)", tokens[0], "/library/home", http.StatusOK, folders},
		{"member, gold tier", tokens[2], "/videos/" + teased, http.StatusOK, lock},
		{"member, gold tier", tokens[2], "/videos/" + teased + "/playback", http.StatusForbidden, lock},
		{"staff", tokens[3], "/videos/" + teased + "/playback", http.StatusOK, lock},
	} {
		code, body, err := getAs(ctx, apiBase+c.path, c.token)
		if err != nil {
			return err
		}
		if code != c.want {
			return fmt.Errorf("GET %s as %s: status %d, want %d: %s", c.path, c.who, code, c.want, body)
		}
		line := fmt.Sprintf("  %-18s GET %-36s %d", c.who, c.path, code)
		if c.show != nil {
			line += "  " + c.show(body)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "  try it without a token (anonymous): curl -s %s/library/home -i  # no Authorization header\n", apiBase)

	// Vimeo privacy: embedding turned off in Vimeo; the mirror refreshes the
	// video and the library stops offering it, to everyone.
	if acct == nil || m == nil {
		return nil
	}
	vid := firstOffered(snap, top[0])
	if vid == "" {
		return nil
	}
	id, err := strconv.ParseInt(vid, 10, 64)
	if err != nil {
		return err
	}
	if code, _, err := getAs(ctx, apiBase+"/videos/"+vid, tokens[3]); err != nil || code != http.StatusOK {
		return fmt.Errorf("GET /videos/%s as staff before the privacy change: %d %v", vid, code, err)
	}
	if err := acct.SetEmbedPrivacy(id, "private"); err != nil {
		return err
	}
	if _, err := m.RefreshVideo(ctx, vid, "demo"); err != nil {
		return err
	}
	if err := lib.Refresh(ctx); err != nil {
		return err
	}
	code, _, err := getAs(ctx, apiBase+"/videos/"+vid, tokens[3])
	if err != nil {
		return err
	}
	if code != http.StatusNotFound {
		return fmt.Errorf("GET /videos/%s as staff after embedding was turned off in Vimeo: status %d, want 404", vid, code)
	}
	idx, err := lib.Index()
	if err != nil {
		return err
	}
	d := idx.Explain(entitle.NewAudience("", []string{"staff"}, nil), vid)
	if d.Reason != entitle.ReasonPrivacy {
		return fmt.Errorf("explain video %s after the privacy change: reason %s, want %s", vid, d.Reason, entitle.ReasonPrivacy)
	}
	fmt.Fprintf(w, "Vimeo privacy:     video %s set to privacy.embed=private in Vimeo; after the mirror's refresh GET /videos/%s is %d for staff too\n"+
		"                   (%s: %s); GET /admin/drift lists it under not_playable.\n", vid, vid, code, d.Reason, d.Detail)
	return nil
}

// firstOffered is the first playable, embeddable video of a folder's
// subtree ("" if none).
func firstOffered(snap *tree.Snapshot, folder string) string {
	for _, id := range snap.SubtreeVideos(folder) {
		if v := snap.Video(id); v.Playable() && v.EmbedBlock(false) == "" {
			return id
		}
	}
	return ""
}

// getAs GETs url with the bearer token, or with no Authorization header
// at all when token is "" (an anonymous visitor).
func getAs(ctx context.Context, url, token string) (int, []byte, error) {
	if token != "" {
		return get(ctx, url, token)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}
