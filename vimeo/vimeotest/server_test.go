package vimeotest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	clk  *vimeotest.VirtualClock
	acct *vimeotest.Account
	root int64
	srv  *vimeotest.Server
}

func setup(t *testing.T, gen vimeotest.GenerateOptions, opts *vimeotest.Options) *fixture {
	t.Helper()
	clk := vimeotest.NewVirtualClock(start)
	gen.Clock = clk
	acct, root, err := vimeotest.Generate(&gen)
	require.NoError(t, err)
	return &fixture{clk: clk, acct: acct, root: root, srv: vimeotest.Start(t, acct, opts)}
}

type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (f *fixture) do(t *testing.T, method, path string, body io.Reader, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL()+path, body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "bearer "+vimeotest.DefaultToken)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 && b[0] == '{' {
		require.NoError(t, json.Unmarshal(b, &a.body), string(b))
	}
	return a
}

func (f *fixture) get(t *testing.T, path string, hdr ...string) answer {
	t.Helper()
	return f.do(t, http.MethodGet, path, nil, hdr...)
}

func s(n int64) string { return strconv.FormatInt(n, 10) }

func m(v any) map[string]any { return v.(map[string]any) }

func keys(v any) []string {
	var out []string
	for k := range m(v) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestEnvelopeAndPaging(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 1, Folders: 3, Videos: 5, WideFolders: -1}, nil)
	for i := range 4 {
		_, err := f.acct.CreateVideo(f.root, vimeotest.VideoSpec{Name: fmt.Sprintf("extra %d", i)})
		require.NoError(t, err)
	}
	items := 0
	for _, fo := range f.acct.Folders() {
		if fo.ParentID == f.root {
			items++
		}
	}
	for _, v := range f.acct.Videos() {
		if v.FolderID == f.root {
			items++
		}
	}
	base := "/me/projects/" + s(f.root) + "/items"

	a := f.get(t, base+"?per_page=2&fields=type,folder.uri")
	require.Equal(t, 200, a.status)
	last := (items + 1) / 2
	require.EqualValues(t, items, a.body["total"])
	require.EqualValues(t, 1, a.body["page"])
	require.EqualValues(t, 2, a.body["per_page"])
	require.Equal(t, map[string]any{
		"next":     base + "?fields=type%2Cfolder.uri&page=2&per_page=2",
		"previous": nil,
		"first":    base + "?fields=type%2Cfolder.uri&page=1&per_page=2",
		"last":     fmt.Sprintf("%s?fields=type%%2Cfolder.uri&page=%d&per_page=2", base, last),
	}, a.body["paging"], "relative links keep the /me form and every parameter, URL-encoded")

	a = f.get(t, fmt.Sprintf("%s?per_page=2&page=%d", base, last))
	require.Nil(t, m(a.body["paging"])["next"])
	require.Equal(t, fmt.Sprintf("%s?page=%d&per_page=2", base, last-1), m(a.body["paging"])["previous"])

	a = f.get(t, base)
	require.EqualValues(t, 25, a.body["per_page"], "default page size")
	require.Equal(t, base+"?page=1", m(a.body["paging"])["first"], "per_page only when sent")

	empty, err := f.acct.CreateFolder(f.root, "empty")
	require.NoError(t, err)
	a = f.get(t, "/me/projects/"+s(empty)+"/items")
	require.EqualValues(t, 0, a.body["total"])
	require.Equal(t, []any{}, a.body["data"])
	require.Equal(t, map[string]any{"next": nil, "previous": nil,
		"first": "/me/projects/" + s(empty) + "/items?page=1", "last": "/me/projects/" + s(empty) + "/items?page=1"}, a.body["paging"])

	a = f.get(t, base+"?page=99")
	require.Equal(t, 400, a.status)
	require.Equal(t, map[string]any{"error": "Something strange occurred. Please try again.", "link": nil,
		"developer_message": "There isn't enough content to display the page you requested. ' .\n                'Please follow the pagination guidelines detailed in the developer documentation.",
		"error_code":        float64(2286)}, a.body, "the recorded body, quirk included")

	a = f.get(t, base+"?per_page=101")
	require.Equal(t, 400, a.status)
	require.EqualValues(t, 2204, a.body["error_code"])
	require.Equal(t, "per_page", m(a.body["invalid_parameters"].([]any)[0])["field"])
	for _, bad := range []string{"per_page=0", "per_page=x", "page=0", "page=-2", "sort=random", "direction=up", "filter=album"} {
		require.Equal(t, 400, f.get(t, base+"?"+bad).status, bad)
	}

	g := setup(t, vimeotest.GenerateOptions{Seed: 1, Folders: 3, Videos: 5}, &vimeotest.Options{ClampPerPage: true, PagePastEnd404: true})
	a = g.get(t, "/me/projects/"+s(g.root)+"/items?per_page=500")
	require.EqualValues(t, 100, a.body["per_page"])
	a = g.get(t, "/me/projects/"+s(g.root)+"/items?page=99")
	require.Equal(t, 404, a.status)
}

func TestItemsOrderAndFilter(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 2, Folders: 12, Videos: 60}, nil)
	base := "/users/1001/projects/" + s(f.root) + "/items?per_page=100"
	types := func(a answer) []string {
		var out []string
		for _, d := range a.body["data"].([]any) {
			out = append(out, m(d)["type"].(string))
		}
		return out
	}
	def := types(f.get(t, base))
	firstVideo := -1
	for i, ty := range def {
		if ty == "video" && firstVideo < 0 {
			firstVideo = i
		}
		if ty == "folder" {
			require.True(t, firstVideo < 0, "default order: folders first")
		}
	}
	for _, ty := range types(f.get(t, base+"&filter=video")) {
		require.Equal(t, "video", ty)
	}
	for _, ty := range types(f.get(t, base+"&filter=folder")) {
		require.Equal(t, "folder", ty)
	}
	require.Empty(t, types(f.get(t, base+"&filter=live_event")))

	a := f.get(t, base+"&sort=alphabetical&fields=type,video.name,folder.name")
	var names []string
	for _, d := range a.body["data"].([]any) {
		it := m(d)
		obj := it[it["type"].(string)]
		names = append(names, strings.ToLower(m(obj)["name"].(string)))
	}
	require.True(t, sort.StringsAreSorted(names), "%v", names)
	desc := f.get(t, base+"&sort=date&direction=desc&fields=type,video.created_time,folder.created_time")
	var times []string
	for _, d := range desc.body["data"].([]any) {
		it := m(d)
		tt, err := time.Parse(time.RFC3339, m(it[it["type"].(string)])["created_time"].(string))
		require.NoError(t, err)
		times = append(times, tt.UTC().Format(time.RFC3339))
	}
	require.True(t, sort.SliceIsSorted(times, func(i, j int) bool { return times[i] > times[j] }))
}

func TestFieldsFiltering(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 3, Folders: 3, Videos: 10, TranscodingRate: -1, TranscodeErrorRate: -1}, nil)
	v := f.acct.Videos()[0]
	a := f.get(t, "/videos/"+s(v.ID)+"?fields=uri,pictures.sizes.link,privacy.view,no.such.field,parent_folder.uri")
	require.Equal(t, []string{"parent_folder", "pictures", "privacy", "uri"}, keys(a.body), "unknown fields dropped silently")
	require.Equal(t, []string{"view"}, keys(a.body["privacy"]))
	sizes := m(a.body["pictures"])["sizes"].([]any)
	require.Len(t, sizes, 7)
	for _, sz := range sizes {
		require.Equal(t, []string{"link"}, keys(sz), "dot paths go through arrays")
	}
	if v.FolderID != 0 {
		require.Equal(t, map[string]any{"uri": "/users/1001/projects/" + s(v.FolderID)}, a.body["parent_folder"])
	}

	a = f.get(t, "/me/projects/"+s(f.root)+"/items?fields=type,video.name")
	for _, d := range a.body["data"].([]any) {
		it := m(d)
		if it["type"] == "folder" {
			require.Equal(t, []string{"type"}, keys(it))
		} else {
			require.Equal(t, []string{"name"}, keys(it["video"]))
		}
	}
	// Without fields=, the full objects.
	a = f.get(t, "/videos/"+s(v.ID))
	for _, k := range []string{"uri", "name", "description", "link", "player_embed_url", "embed", "duration", "created_time",
		"modified_time", "privacy", "pictures", "status", "upload", "transcode", "is_playable", "metadata", "user", "license", "stats"} {
		require.Contains(t, a.body, k)
	}
	require.Equal(t, "application/vnd.vimeo.video+json", a.header.Get("Content-Type"))
}

func TestFolderRepresentation(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 4, Folders: 15, Videos: 30, MaxDepth: 10}, nil)
	a := f.get(t, "/me/projects/"+s(f.root))
	require.Equal(t, "/users/1001/projects/"+s(f.root), a.body["uri"], "bodies use /users/{uid} even when asked via /me")
	c := m(m(a.body["metadata"])["connections"])
	require.NotContains(t, c, "parent_folder", "absent for top-level folders")
	require.Equal(t, []any{}, c["ancestor_path"])
	require.Equal(t, "/users/1001/projects/"+s(f.root)+"/items", m(c["folders"])["uri"], "quirk: folders points at /items")
	add := m(m(m(a.body["metadata"])["interactions"])["add_subfolder"])
	require.Equal(t, "/user/1001/projects", add["uri"], "quirk: singular /user/")
	require.Nil(t, a.body["link"], "private folders have no link")

	// The deepest folder of the chain sits at depth 10.
	var deepest vimeotest.Folder
	depth := func(id int64) int {
		d := 0
		for cur := id; cur != 0; {
			fo, _ := f.acct.Folder(cur)
			cur = fo.ParentID
			d++
		}
		return d
	}
	for _, fo := range f.acct.Folders() {
		if depth(fo.ID) == 10 {
			deepest = fo
		}
	}
	require.NotZero(t, deepest.ID, "the generator reaches Vimeo's depth limit")
	a = f.get(t, "/me/projects/"+s(deepest.ID))
	c = m(m(a.body["metadata"])["connections"])
	path := c["ancestor_path"].([]any)
	require.Len(t, path, 9)
	require.Equal(t, "/users/1001/projects/"+s(deepest.ParentID), m(path[0])["uri"], "immediate parent first")
	require.Equal(t, "/users/1001/projects/"+s(f.root), m(path[8])["uri"], "top-level folder last")
	require.Equal(t, "/users/1001/projects/"+s(deepest.ParentID), m(c["parent_folder"])["uri"])
	add = m(m(m(a.body["metadata"])["interactions"])["add_subfolder"])
	require.Equal(t, true, add["subfolder_depth_limit_reached"])
	_, err := f.acct.CreateFolder(deepest.ID, "too deep")
	require.ErrorIs(t, err, vimeotest.ErrDepthLimit)
}

func TestVideoRepresentationAndChanges(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 5, Folders: 3, Videos: 5, UnlistedRate: -1, PrivateRate: -1, TranscodingRate: -1, TranscodeErrorRate: -1}, nil)
	zone := time.FixedZone("+04:00", 4*3600)
	id, err := f.acct.CreateVideo(f.root, vimeotest.VideoSpec{Name: "Clip", Privacy: "unlisted", Zone: zone, Transcode: "in_progress"})
	require.NoError(t, err)
	v, _ := f.acct.Video(id)
	a := f.get(t, "/videos/"+s(id))
	require.Equal(t, "/videos/"+s(id)+":"+v.Hash, a.body["uri"])
	require.Equal(t, "https://vimeo.com/"+s(id)+"/"+v.Hash, a.body["link"])
	require.Equal(t, "https://player.vimeo.com/video/"+s(id)+"?h="+v.Hash, a.body["player_embed_url"])
	require.Equal(t, "2025-03-01T16:00:00+04:00", a.body["created_time"], "non-UTC offset")
	require.Nil(t, a.body["description"])
	require.EqualValues(t, 0, a.body["duration"])
	require.Equal(t, "transcoding", a.body["status"])
	require.Equal(t, map[string]any{"status": "in_progress"}, a.body["transcode"])
	require.Equal(t, false, a.body["is_playable"])
	require.Equal(t, []any{}, m(a.body["pictures"])["sizes"])
	require.Equal(t, 200, f.get(t, "/videos/"+s(id)+":"+v.Hash).status)
	require.Equal(t, 404, f.get(t, "/videos/"+s(id)+":0000000000").status)

	f.clk.Advance(time.Minute)
	require.NoError(t, f.acct.SetTranscode(id, "complete"))
	require.NoError(t, f.acct.SetPrivacy(id, "anybody"))
	a = f.get(t, "/videos/"+s(id))
	require.Equal(t, "/videos/"+s(id), a.body["uri"])
	require.Equal(t, "https://vimeo.com/"+s(id), a.body["link"])
	require.Equal(t, "https://player.vimeo.com/video/"+s(id)+"?h="+v.Hash, a.body["player_embed_url"], "h= stays")
	require.Positive(t, a.body["duration"])
	require.Equal(t, "available", a.body["status"])
	require.Len(t, m(a.body["pictures"])["sizes"], 7)
	require.Equal(t, "2025-03-01T16:01:00+04:00", a.body["modified_time"])

	// Parent key variants, and none inside /items.
	for _, tt := range []struct {
		key  string
		want []string
	}{{"", []string{"parent_folder"}}, {"parent_project", []string{"parent_project"}},
		{"both", []string{"parent_folder", "parent_project"}}, {"none", nil}} {
		g := setup(t, vimeotest.GenerateOptions{Seed: 5, Folders: 2, Videos: 3}, &vimeotest.Options{ParentKey: tt.key})
		vv := g.acct.Videos()[0]
		a := g.get(t, "/videos/"+s(vv.ID))
		for _, k := range []string{"parent_folder", "parent_project"} {
			_, has := a.body[k]
			require.Equal(t, contains(tt.want, k), has, "%s: %s", tt.key, k)
		}
	}
	a = f.get(t, "/me/projects/"+s(f.root)+"/items?filter=video")
	for _, d := range a.body["data"].([]any) {
		require.NotContains(t, m(m(d)["video"]), "parent_folder")
	}
	a = f.get(t, "/me/videos")
	require.NotContains(t, m(a.body["data"].([]any)[0]), "parent_folder")
	g := setup(t, vimeotest.GenerateOptions{Seed: 5, Folders: 2, Videos: 3}, &vimeotest.Options{ParentKeyInLists: true})
	a = g.get(t, "/me/videos")
	require.Contains(t, m(a.body["data"].([]any)[0]), "parent_folder")
	a = g.get(t, "/me/videos?fields=uri,files")
	require.NotContains(t, m(a.body["data"].([]any)[0]), "files", "files only with video_files on a paid plan")
	h := setup(t, vimeotest.GenerateOptions{Seed: 5, Folders: 2, Videos: 3, TranscodingRate: -1, TranscodeErrorRate: -1},
		&vimeotest.Options{VideoFiles: true})
	a = h.get(t, "/me/videos?fields=uri,files")
	require.Contains(t, m(a.body["data"].([]any)[0]), "files")
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func TestMovesDeletesAndRevocation(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 6, Folders: 10, Videos: 40, MaxDepth: 4}, nil)
	folderJSON := func(id int64) map[string]any { return f.get(t, "/me/projects/"+s(id)).body }
	total := func(id int64) float64 {
		return m(m(m(folderJSON(id)["metadata"])["connections"])["items"])["total"].(float64)
	}
	var child vimeotest.Folder
	for _, fo := range f.acct.Folders() {
		if fo.ParentID == f.root {
			child = fo
			break
		}
	}
	other, err := f.acct.CreateFolder(0, "Other top")
	require.NoError(t, err)
	beforeOld, beforeNew := total(f.root), total(other)
	f.clk.Advance(time.Hour)
	require.NoError(t, f.acct.MoveFolder(child.ID, other))
	moved := folderJSON(child.ID)
	require.Equal(t, "/users/1001/projects/"+s(child.ID), moved["uri"], "uri survives the move")
	path := m(m(moved["metadata"])["connections"])["ancestor_path"].([]any)
	require.Len(t, path, 1)
	require.Equal(t, "/users/1001/projects/"+s(other), m(path[0])["uri"])
	require.Equal(t, beforeOld-1, total(f.root))
	require.Equal(t, beforeNew+1, total(other))
	require.Equal(t, "2025-03-01T13:00:00+00:00", folderJSON(other)["modified_time"], "new parent's modified_time bumps")
	require.ErrorIs(t, f.acct.MoveFolder(other, child.ID), vimeotest.ErrCycle)

	// Moving a video bumps its modified_time and last_user_action_event_date.
	v := f.acct.Videos()[0]
	f.clk.Advance(time.Hour)
	require.NoError(t, f.acct.MoveVideo(v.ID, other))
	a := f.get(t, "/videos/"+s(v.ID)+"?fields=modified_time,last_user_action_event_date,parent_folder.uri")
	require.Equal(t, map[string]any{"modified_time": "2025-03-01T14:00:00+00:00", "last_user_action_event_date": "2025-03-01T14:00:00+00:00",
		"parent_folder": map[string]any{"uri": "/users/1001/projects/" + s(other)}}, a.body)

	// Deleting a folder without its clips moves them to the library root.
	require.NoError(t, f.acct.DeleteFolder(other, false))
	require.Equal(t, 404, f.get(t, "/me/projects/"+s(other)).status)
	require.Equal(t, 404, f.get(t, "/me/projects/"+s(child.ID)).status, "subfolders go too")
	a = f.get(t, "/videos/"+s(v.ID)+"?fields=parent_folder")
	require.Equal(t, map[string]any{"parent_folder": nil}, a.body)
	require.Equal(t, "The requested folder couldn't be found.", f.get(t, "/me/projects/"+s(other)+"/items").body["error"])

	// Revoked access: 403 below, the folder itself still listed.
	subID, err := f.acct.CreateFolder(f.root, "shared")
	require.NoError(t, err)
	for i := range 3 {
		_, err := f.acct.CreateFolder(subID, fmt.Sprintf("inner %d", i))
		require.NoError(t, err)
	}
	sub, _ := f.acct.Folder(subID)
	require.NoError(t, f.acct.Revoke(sub.ID))
	require.Equal(t, 403, f.get(t, "/me/projects/"+s(sub.ID)+"/items").status)
	require.EqualValues(t, 3200, f.get(t, "/me/projects/"+s(sub.ID)).body["error_code"])
	flat := f.get(t, "/me/projects?per_page=100&fields=uri")
	var uris []string
	for _, d := range flat.body["data"].([]any) {
		uris = append(uris, m(d)["uri"].(string))
	}
	require.Contains(t, uris, "/users/1001/projects/"+s(sub.ID))
	for _, d := range f.acct.Subtree(sub.ID)[1:] {
		require.NotContains(t, uris, "/users/1001/projects/"+s(d), "descendants of a revoked folder are invisible")
	}
	require.NoError(t, f.acct.Restore(sub.ID))
	require.Equal(t, 200, f.get(t, "/me/projects/"+s(sub.ID)+"/items").status)
}

func TestFoldersRootSubfoldersAndContaining(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 7, Folders: 8, Videos: 50, OutsideFolders: 2, OutsideVideos: 20}, nil)
	top, rootVideos := 0, 0
	for _, fo := range f.acct.Folders() {
		if fo.ParentID == 0 {
			top++
		}
	}
	for _, v := range f.acct.Videos() {
		if v.FolderID == 0 {
			rootVideos++
		}
	}
	a := f.get(t, "/me/folders/root?per_page=100")
	require.EqualValues(t, top+rootVideos, a.body["total"])

	sub := map[int64]bool{}
	for _, id := range f.acct.Subtree(f.root) {
		sub[id] = true
	}
	deep, direct := 0, 0
	for _, v := range f.acct.Videos() {
		if sub[v.FolderID] {
			deep++
		}
		if v.FolderID == f.root {
			direct++
		}
	}
	require.EqualValues(t, direct, f.get(t, "/me/projects/"+s(f.root)+"/videos").body["total"])
	require.EqualValues(t, deep, f.get(t, "/me/projects/"+s(f.root)+"/videos?include_subfolders=true").body["total"])

	all := f.acct.Videos()
	a = f.get(t, "/me/videos?per_page=10&sort=date&direction=asc&containing_uri=/videos/"+s(all[25].ID))
	require.EqualValues(t, 3, a.body["page"])

	flat := f.get(t, "/me/folders?per_page=100")
	require.EqualValues(t, len(f.acct.Folders()), flat.body["total"], "/folders is flat")
	g := setup(t, vimeotest.GenerateOptions{Seed: 7, Folders: 8, Videos: 5}, &vimeotest.Options{TopLevelProjectsOnly: true})
	top = 0
	for _, fo := range g.acct.Folders() {
		if fo.ParentID == 0 {
			top++
		}
	}
	require.EqualValues(t, top, g.get(t, "/me/projects?per_page=100").body["total"])
	require.EqualValues(t, len(g.acct.Folders()), g.get(t, "/me/folders?per_page=100").body["total"])
}

func TestConditionalRequests(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 8, Folders: 3, Videos: 10}, nil)
	a := f.get(t, "/me/videos")
	lm := a.header.Get("Last-Modified")
	_, err := http.ParseTime(lm)
	require.NoError(t, err, lm)
	a = f.get(t, "/me/videos", "If-Modified-Since", lm)
	require.Equal(t, 304, a.status)
	require.Empty(t, a.raw)
	f.clk.Advance(2 * time.Second)
	require.NoError(t, f.acct.RenameVideo(f.acct.Videos()[0].ID, "new"))
	require.Equal(t, 200, f.get(t, "/me/videos", "If-Modified-Since", lm).status)
	require.Empty(t, f.get(t, "/me/videos").header.Get("ETag"), "no ETag unless switched on")

	g := setup(t, vimeotest.GenerateOptions{Seed: 8, Folders: 3, Videos: 10}, &vimeotest.Options{LastModifiedEpoch: true, ETags: true})
	a = g.get(t, "/me/videos")
	require.Regexp(t, `^\d+$`, a.header.Get("Last-Modified"))
	require.Equal(t, 304, g.get(t, "/me/videos", "If-Modified-Since", a.header.Get("Last-Modified")).status)
	a = g.get(t, "/me/projects/"+s(g.root))
	tag := a.header.Get("ETag")
	require.NotEmpty(t, tag)
	require.Equal(t, 304, g.get(t, "/me/projects/"+s(g.root), "If-None-Match", tag).status)
}

var isoReset = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`)

func TestRateLimiting(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 9, Folders: 2, Videos: 2}, &vimeotest.Options{RateLimit: 3})
	for i := range 6 {
		a := f.get(t, "/me?fields=uri")
		require.Equal(t, 200, a.status)
		require.Equal(t, "6", a.header.Get("X-RateLimit-Limit"), "fields= doubles the limit")
		require.Equal(t, strconv.Itoa(5-i), a.header.Get("X-RateLimit-Remaining"))
		require.Regexp(t, isoReset, a.header.Get("X-RateLimit-Reset"))
	}
	a := f.get(t, "/me?fields=uri")
	require.Equal(t, 429, a.status)
	require.EqualValues(t, 9000, a.body["error_code"])
	require.Equal(t, "0", a.header.Get("X-RateLimit-Remaining"))
	require.Equal(t, "2025-03-01T12:01:00+00:00", a.header.Get("X-RateLimit-Reset"), "the ban lasts until the window ends")
	require.Empty(t, a.header.Get("Retry-After"))
	f.clk.Advance(30 * time.Second)
	require.Equal(t, 429, f.get(t, "/me?fields=uri").status, "still banned")
	f.clk.Advance(30 * time.Second)
	a = f.get(t, "/me")
	require.Equal(t, 200, a.status)
	require.Equal(t, "3", a.header.Get("X-RateLimit-Limit"), "without fields= the base limit")
	require.Equal(t, 2, f.srv.Stats().RateLimited)
	require.Equal(t, start, f.srv.Stats().First429)

	for _, tt := range []struct {
		name  string
		opts  vimeotest.Options
		check func(t *testing.T, a answer)
	}{
		{"epoch reset", vimeotest.Options{RateLimit: 1, ResetEpoch: true}, func(t *testing.T, a answer) {
			require.Equal(t, strconv.FormatInt(start.Add(time.Minute).Unix(), 10), a.header.Get("X-RateLimit-Reset"))
		}},
		{"retry-after", vimeotest.Options{RateLimit: 1, RetryAfter: true}, func(t *testing.T, a answer) {
			require.Equal(t, "60", a.header.Get("Retry-After"))
		}},
		{"no headers on 429", vimeotest.Options{RateLimit: 1, NoRateHeadersOn429: true}, func(t *testing.T, a answer) {
			require.Empty(t, a.header.Get("X-RateLimit-Reset"))
			require.Empty(t, a.header.Get("X-RateLimit-Remaining"))
		}},
		{"legacy hour ban", vimeotest.Options{RateLimit: 1, LegacyBan: true}, func(t *testing.T, a answer) {
			require.Equal(t, "2025-03-01T13:00:00+00:00", a.header.Get("X-RateLimit-Reset"))
		}},
		{"fixed ban", vimeotest.Options{RateLimit: 1, BanDuration: 10 * time.Second}, func(t *testing.T, a answer) {
			require.Equal(t, "2025-03-01T12:00:10+00:00", a.header.Get("X-RateLimit-Reset"), "a fresh window after the ban")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := setup(t, vimeotest.GenerateOptions{Seed: 9, Folders: 2, Videos: 2}, &tt.opts)
			require.Equal(t, 200, g.get(t, "/me").status)
			a := g.get(t, "/me")
			require.Equal(t, 429, a.status)
			tt.check(t, a)
		})
	}
	// No limit configured: no headers.
	g := setup(t, vimeotest.GenerateOptions{Seed: 9, Folders: 2, Videos: 2}, nil)
	require.Empty(t, g.get(t, "/me").header.Get("X-RateLimit-Limit"))
}

func TestAuthFaultsAndChaos(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 10, Folders: 2, Videos: 2}, &vimeotest.Options{Latency: time.Second})
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL()+"/me", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)
	require.Contains(t, string(b), "You must provide a valid authenticated access token.")
	require.Contains(t, string(b), `"error_code":8003`)
	require.Equal(t, 401, f.get(t, "/me", "Authorization", "Bearer wrong").status)
	require.Equal(t, 200, f.get(t, "/me", "Authorization", "BEARER "+vimeotest.DefaultToken).status, "scheme is case-insensitive")
	require.Equal(t, start.Add(time.Second), f.clk.Now(), "latency is spent on the fake's clock, after authentication")

	path := "/users/1001/projects/" + s(f.root) + "/items"
	f.srv.AddFault(vimeotest.Fault{Path: path, Query: map[string]string{"page": "2"}, After: 2, Status: 503})
	f.srv.AddFault(vimeotest.Fault{Path: "/users/*/projects/*", Status: 502, HTML: true, Times: 2})
	for i := 1; i <= 4; i++ {
		a := f.get(t, "/me/projects/"+s(f.root)+"/items?per_page=1&page=2")
		if i == 3 {
			require.Equal(t, 503, a.status, "the 3rd request to page 2 fails")
			require.EqualValues(t, 7000, a.body["error_code"])
		} else {
			require.Equal(t, 200, a.status, "request %d", i)
		}
	}
	for range 2 {
		a := f.get(t, "/me/projects/"+s(f.root))
		require.Equal(t, 502, a.status)
		require.Contains(t, a.header.Get("Content-Type"), "text/html")
		require.Contains(t, a.raw, "Varnish")
	}
	require.Equal(t, 200, f.get(t, "/me/projects/"+s(f.root)).status)

	g := setup(t, vimeotest.GenerateOptions{Seed: 10, Folders: 2, Videos: 2}, &vimeotest.Options{ErrorRate: 1, HTMLRate: 1, MinimalErrors: true})
	for range 5 {
		a := g.get(t, "/me")
		require.GreaterOrEqual(t, a.status, 500)
		require.Contains(t, a.raw, "<html>")
	}
	g.srv.SetChaos(1, 0, 0)
	a := g.get(t, "/me")
	require.GreaterOrEqual(t, a.status, 500)
	require.Equal(t, []string{"error"}, keys(a.body), "minimal error bodies")

	h := setup(t, vimeotest.GenerateOptions{Seed: 10, Folders: 2, Videos: 2}, &vimeotest.Options{ResetRate: 1})
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL()+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+vimeotest.DefaultToken)
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err, "the connection is dropped")
	require.Equal(t, 0, h.srv.Requests()[0].Status)
}

func TestMutationRoutes(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 11, Folders: 3, Videos: 6}, nil)
	a := f.do(t, http.MethodPost, "/me/projects", strings.NewReader(
		`{"name":"Created","parent_folder_uri":"/users/1001/projects/`+s(f.root)+`"}`), "Content-Type", "application/json")
	require.Equal(t, 201, a.status)
	created := a.body["uri"].(string)
	require.Equal(t, "Created", a.body["name"])
	require.Equal(t, "/users/1001/projects/"+s(f.root), m(m(m(a.body["metadata"])["connections"])["parent_folder"])["uri"])
	id := created[strings.LastIndex(created, "/")+1:]

	a = f.do(t, http.MethodPatch, created, strings.NewReader(`name=Renamed`), "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, 200, a.status)
	require.Equal(t, "Renamed", a.body["name"])

	v := f.acct.Videos()[0]
	require.Equal(t, 204, f.do(t, http.MethodPut, created+"/videos/"+s(v.ID), nil).status)
	got, _ := f.acct.Video(v.ID)
	require.Equal(t, id, s(got.FolderID))

	v2 := f.acct.Videos()[1]
	require.Equal(t, 204, f.do(t, http.MethodPut, created+"/videos?uris=/videos/"+s(v2.ID), nil).status)
	require.Equal(t, 204, f.do(t, http.MethodDelete, created+"?should_delete_clips=true", nil).status)
	_, ok := f.acct.Video(v.ID)
	require.False(t, ok, "clips deleted with the folder")
	require.Equal(t, 404, f.get(t, created).status)
	require.Equal(t, 400, f.do(t, http.MethodPost, "/me/projects", strings.NewReader(`{"name":""}`)).status)
	require.Equal(t, 405, f.do(t, http.MethodPost, "/me/videos", nil).status)

	// Webhooks CRUD.
	a = f.do(t, http.MethodPost, "/apps/58479/webhooks", strings.NewReader(
		`{"webhook_url":"https://example.com/hook","webhook_type":"video-updated","secret":"s","is_enabled":true}`))
	require.Equal(t, 201, a.status)
	hook := a.body["uri"].(string)
	require.Equal(t, true, a.body["is_enabled"])
	require.EqualValues(t, 1, f.get(t, "/apps/58479/webhooks").body["total"])
	a = f.do(t, http.MethodPatch, hook, strings.NewReader(`{"is_enabled":false}`))
	require.Equal(t, false, a.body["is_enabled"])
	require.NotNil(t, a.body["disabled_on"])
	require.Equal(t, 204, f.do(t, http.MethodDelete, hook, nil).status)
	require.Equal(t, 404, f.get(t, hook).status)
	require.Equal(t, 400, f.do(t, http.MethodPost, "/apps/58479/webhooks", strings.NewReader(`{"webhook_type":"folder-moved"}`)).status,
		"there are no folder events")
}

func TestGenerate(t *testing.T) {
	clk := vimeotest.NewVirtualClock(start)
	opts := vimeotest.GenerateOptions{Seed: 42, Folders: 120, Videos: 900, WideFolders: 2, Clock: clk}
	a1, root1, err := vimeotest.Generate(&opts)
	require.NoError(t, err)
	a2, root2, err := vimeotest.Generate(&opts)
	require.NoError(t, err)
	require.Equal(t, root1, root2)
	require.Equal(t, a1.Folders(), a2.Folders(), "same seed, same account")
	require.Equal(t, a1.Videos(), a2.Videos())
	opts.Seed = 43
	a3, _, err := vimeotest.Generate(&opts)
	require.NoError(t, err)
	require.NotEqual(t, a1.Videos()[5].Name, a3.Videos()[5].Name+"x")

	sub := map[int64]bool{}
	for _, id := range a1.Subtree(root1) {
		sub[id] = true
	}
	require.Len(t, sub, 120)
	items := map[int64]int{}
	names := map[int64]map[string]int{}
	depth := map[int64]int{}
	var d func(id int64) int
	d = func(id int64) int {
		if id == 0 {
			return 0
		}
		if v, ok := depth[id]; ok {
			return v
		}
		f, _ := a1.Folder(id)
		depth[id] = d(f.ParentID) + 1
		return depth[id]
	}
	maxDepth, dupNames, unicode := 0, 0, 0
	for _, f := range a1.Folders() {
		maxDepth = max(maxDepth, d(f.ID))
		items[f.ParentID]++
		if names[f.ParentID] == nil {
			names[f.ParentID] = map[string]int{}
		}
		names[f.ParentID][f.Name]++
		if names[f.ParentID][f.Name] == 2 {
			dupNames++
		}
		for _, r := range f.Name {
			if r > 127 {
				unicode++
				break
			}
		}
	}
	counts := map[string]int{}
	inTree := 0
	now := clk.Now()
	for _, v := range a1.Videos() {
		items[v.FolderID]++
		if sub[v.FolderID] {
			inTree++
		}
		counts[v.Privacy]++
		counts[v.Status]++
		require.True(t, v.Modified.Before(now.Add(-time.Hour+time.Second)), "generated times lie in the past")
	}
	wide := 0
	for id, n := range items {
		if sub[id] && n > 100 {
			wide++
		}
	}
	require.Equal(t, 10, maxDepth, "Vimeo's depth limit is reached")
	require.Equal(t, 900, inTree)
	require.GreaterOrEqual(t, wide, 2)
	require.Positive(t, dupNames, "duplicate sibling names")
	require.Positive(t, unicode, "unicode names")
	for _, k := range []string{"unlisted", "nobody", "anybody", "transcoding", "available"} {
		require.Positive(t, counts[k], k)
	}
	require.Equal(t, 121, a1.MinWalkCalls(root1, 100)-sumExtraPages(items, sub), "one call per folder plus the root GET")
}

func sumExtraPages(items map[int64]int, sub map[int64]bool) int {
	extra := 0
	for id := range sub {
		if n := items[id]; n > 100 {
			extra += (n+99)/100 - 1
		}
	}
	return extra
}

// TestStandaloneHandler serves the fake on a listener of our own, as the demo
// and the load tests do.
func TestStandaloneHandler(t *testing.T) {
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 12, Folders: 3, Videos: 3})
	require.NoError(t, err)
	h := vimeotest.NewServer(acct, &vimeotest.Options{Tokens: []string{"demo-token"}})
	require.Same(t, acct, h.Account())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/me/projects/"+s(root)+"?fields=name", nil)
	req.Header.Set("Authorization", "Bearer demo-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, 200, resp.StatusCode)
	require.JSONEq(t, `{"name":"Library"}`, string(b))
	require.Equal(t, "", h.URL(), "no httptest server of its own")
}

func TestFaultsKeyedOnTimeAndFilesScope(t *testing.T) {
	f := setup(t, vimeotest.GenerateOptions{Seed: 13, Folders: 2, Videos: 2, TranscodingRate: -1, TranscodeErrorRate: -1},
		&vimeotest.Options{VideoFiles: true})
	f.srv.AddFault(vimeotest.Fault{NotBefore: start.Add(time.Hour), Status: 503, Times: -1})
	require.Equal(t, 200, f.get(t, "/me").status)
	f.clk.Advance(time.Hour)
	require.Equal(t, 503, f.get(t, "/me").status)
	f.srv.ClearFaults()

	v := f.acct.Videos()[0]
	a := f.get(t, "/videos/"+s(v.ID)+"?fields=files.link,download.expires,play.hls.link_expiration_time")
	require.Len(t, a.body["files"], 1)
	want := start.Add(25 * time.Hour)
	for _, got := range []any{m(a.body["download"].([]any)[0])["expires"], m(m(a.body["play"])["hls"])["link_expiration_time"]} {
		tt, err := time.Parse(time.RFC3339, got.(string))
		require.NoError(t, err)
		require.True(t, tt.Equal(want), "24 hours from now: %s", got)
	}

	// A fixed ban ends with a fresh window.
	g := setup(t, vimeotest.GenerateOptions{Seed: 13, Folders: 2, Videos: 2}, &vimeotest.Options{RateLimit: 1, BanDuration: 10 * time.Second})
	require.Equal(t, 200, g.get(t, "/me").status)
	require.Equal(t, 429, g.get(t, "/me").status)
	g.clk.Advance(10 * time.Second)
	require.Equal(t, 200, g.get(t, "/me").status)
}
