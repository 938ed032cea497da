package library_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

// searchLibrary is the golden library:
//
//	Library (1)
//	├── Onboarding (10): 100 "Épisode 1 : Bienvenue", 101 "新人研修 第1回"
//	├── Sales Training (11)
//	│   └── Negotiation (12): 102 "Closing techniques"
//	├── Quarterly reports (13): 106 "Slides"
//	├── Staff only (14): 107 "Quarterly bonus plan"   (role staff only)
//	└── 103 "Quarterly review", 104 "Numbers" (tag quarterly), 105 "Finance talk" (quarterly in the description)
func searchLibrary(t *testing.T) *library.Service {
	t.Helper()
	at := func(day int) tree.Video {
		return tree.Video{Status: tree.StatusAvailable, Visibility: tree.VisibilityDisable, DurationSeconds: 60,
			CreatedAt: librarytest.Base.AddDate(0, 0, day)}
	}
	vid := func(id, title, desc string, day int, tags ...string) tree.Video {
		v := at(day)
		v.VimeoID, v.Title, v.Description, v.Tags = id, title, desc, tags
		return v
	}
	folders := []tree.Folder{
		{VimeoID: "1", Name: "Library"},
		{VimeoID: "10", ParentVimeoID: "1", Name: "Onboarding", SortOrder: 0},
		{VimeoID: "11", ParentVimeoID: "1", Name: "Sales Training", SortOrder: 1},
		{VimeoID: "12", ParentVimeoID: "11", Name: "Negotiation", SortOrder: 0},
		{VimeoID: "13", ParentVimeoID: "1", Name: "Quarterly reports", SortOrder: 2},
		{VimeoID: "14", ParentVimeoID: "1", Name: "Staff only", SortOrder: 3},
	}
	videos := []tree.Video{
		vid("100", "Épisode 1 : Bienvenue", "Introduction à l'entreprise, <b>premier</b> jour.", 1, "onboarding"),
		vid("101", "新人研修 第1回", "研修の概要と会社の紹介", 2),
		vid("102", "Closing techniques", "How to close a deal without discounting.", 3, "negotiation", "sales"),
		vid("103", "Quarterly review", "Results and the outlook.", 4),
		vid("104", "Numbers", "Spreadsheets explained.", 5, "quarterly"),
		vid("105", "Finance talk", "A long talk. "+longText+" Then the quarterly numbers, and more. "+longText, 6),
		vid("106", "Slides", "The deck.", 7),
		vid("107", "Quarterly bonus plan", "Staff compensation.", 8),
	}
	videos[0].Pictures = []tree.Picture{{Width: 100, Height: 75, URL: "https://i.vimeocdn.com/video/1_100x75"},
		{Width: 640, Height: 360, URL: "https://i.vimeocdn.com/video/1_640x360"}}
	places := []tree.Placement{
		{FolderVimeoID: "10", VideoVimeoID: "100"}, {FolderVimeoID: "10", VideoVimeoID: "101", SortOrder: 1},
		{FolderVimeoID: "12", VideoVimeoID: "102"},
		{FolderVimeoID: "1", VideoVimeoID: "103"}, {FolderVimeoID: "1", VideoVimeoID: "104", SortOrder: 1},
		{FolderVimeoID: "1", VideoVimeoID: "105", SortOrder: 2},
		{FolderVimeoID: "13", VideoVimeoID: "106"},
		{FolderVimeoID: "14", VideoVimeoID: "107"},
	}
	snap, err := tree.New(1, folders, videos, places)
	require.NoError(t, err)
	rules := []entitle.Rule{
		{ID: 1, Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow},
		{ID: 2, Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "14"}, Effect: entitle.Deny},
		{ID: 3, Subject: entitle.Subject{Kind: entitle.Role, Name: "staff"}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "14"}, Effect: entitle.Allow},
	}
	// Rule 3 and rule 2 sit on the same level: deny wins, so staff are let in
	// by a video rule instead.
	rules[2].Target = entitle.Target{Kind: entitle.VideoTarget, ID: "107"}
	lib, err := library.New(librarytest.NewStatic(snap, rules), &library.Options{PollInterval: -1})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(context.Background()))
	return lib
}

const longText = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua."

// hitIDs names the results: "v103", "f13", …
func hitIDs(p *library.SearchPage) []string {
	out := []string{}
	for _, h := range p.Results {
		if h.Type == library.HitVideo {
			out = append(out, "v"+h.Video.ID)
		} else {
			out = append(out, "f"+h.Folder.ID)
		}
	}
	return out
}

func TestSearchGolden(t *testing.T) {
	ctx := context.Background()
	lib := searchLibrary(t)
	member := library.Viewer{UserID: "u1"}
	staff := library.Viewer{UserID: "u2", Roles: []string{"staff"}}
	search := func(v library.Viewer, q string) []string {
		t.Helper()
		p, err := lib.Search(ctx, v, library.SearchQuery{Q: q})
		require.NoError(t, err, q)
		require.Equal(t, len(p.Results), p.Counts.Videos+p.Counts.Folders, "%q: one page holds all", q)
		return hitIDs(p)
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		// Ranking: title (and folder name), then tags, description, folder path;
		// newest first among equals, videos before folders.
		{"quarterly", []string{"v103", "f13", "v104", "v105", "v106"}},
		{"QUARTERLY ", []string{"v103", "f13", "v104", "v105", "v106"}},
		// Prefixes as the user types: an exact word outranks a word it begins.
		{"quart", []string{"v103", "f13", "v104", "v105", "v106"}},
		{"qu", []string{"v103", "f13", "v104", "v105", "v106"}},
		{"q", []string{}},                         // one letter matches only itself
		{"quart ", []string{}},                    // a finished word is not a prefix
		{"clos", []string{"v102"}},                // "Closing" in the title, "close" in the description
		{"close", []string{"v102"}},               // the exact word in the description
		{"closing deal", []string{"v102"}},        // every word must match, in any field
		{"closing welcome", []string{}},           //
		{"sales", []string{"f11", "v102", "f12"}}, // a folder's name, a video's tag, a folder's path
		{"negotiation", []string{"f12", "v102"}},  // a folder's name, then a video's tag
		// Accents and case fold both ways.
		{"episode", []string{"v100"}},
		{"ÉPISODE", []string{"v100"}},
		{"épi", []string{"v100"}},
		{"introduction a l'entreprise", []string{"v100"}},
		// One typo on words of five letters or more; none on shorter words.
		{"quartely", []string{"v103", "f13", "v104", "v105", "v106"}},  // deletion
		{"qaurterly", []string{"v103", "f13", "v104", "v105", "v106"}}, // transposition
		{"quarterlyy", []string{"v103", "f13", "v104", "v105", "v106"}},
		{"quaxterly", []string{"v103", "f13", "v104", "v105", "v106"}}, // substitution
		{"clsoe", []string{"v102"}},
		{"qaurt", []string{"v103", "f13", "v104", "v105", "v106"}}, // a typo in a prefix
		{"slidse", []string{"v106"}},
		{"sldes", []string{"v106"}},
		{"dael ", []string{}},     // four letters: no typo allowed
		{"quxrtxrly", []string{}}, // two edits
		// Spaceless scripts match by substring.
		{"研修", []string{"v101"}},
		{"研", []string{"v101"}},
		{"人研", []string{"v101"}},
		{"会社", []string{"v101"}},
		{"研修 第1回", []string{"v101"}},
		{"研究", []string{}},
		{"onboarding", []string{"f10", "v100", "v101"}}, // folder name (title rank), tag, then folder path
		{"!!!", []string{}},
	} {
		require.Equal(t, c.want, search(member, c.q), "q=%q", c.q)
	}

	// Staff see the staff-only video, and it counts; members get no hint of it.
	require.Equal(t, []string{"v107", "v103", "f13", "v104", "v105", "v106"}, search(staff, "quarterly"))
	mp, err := lib.Search(ctx, member, library.SearchQuery{Q: "bonus"})
	require.NoError(t, err)
	require.Equal(t, library.SearchCounts{}, mp.Counts)
	sp, err := lib.Search(ctx, staff, library.SearchQuery{Q: "bonus"})
	require.NoError(t, err)
	require.Equal(t, library.SearchCounts{Videos: 1}, sp.Counts)
}

func TestSearchHighlightsAndFields(t *testing.T) {
	ctx := context.Background()
	lib := searchLibrary(t)
	v := library.Viewer{UserID: "u1"}
	p, err := lib.Search(ctx, v, library.SearchQuery{Q: "épi"})
	require.NoError(t, err)
	require.Len(t, p.Results, 1)
	h := p.Results[0]
	require.Equal(t, library.HitVideo, h.Type)
	require.Equal(t, []library.Highlight{{Field: library.FieldTitle, Snippet: "<mark>Épisode</mark> 1 : Bienvenue"}}, h.Highlights)
	require.Equal(t, []library.FolderRef{{ID: "10", Name: "Onboarding"}}, h.Breadcrumb)
	require.Equal(t, []library.Thumbnail{{Width: 100, Height: 75, URL: "https://i.vimeocdn.com/video/1_100x75"},
		{Width: 640, Height: 360, URL: "https://i.vimeocdn.com/video/1_640x360"}}, h.Video.Thumbnails)

	// Descriptions are escaped and cut to a window around the first match.
	p, err = lib.Search(ctx, v, library.SearchQuery{Q: "premier"})
	require.NoError(t, err)
	require.Equal(t, []library.Highlight{{Field: library.FieldDescription,
		Snippet: "Introduction à l&#39;entreprise, &lt;b&gt;<mark>premier</mark>&lt;/b&gt; jour."}}, p.Results[0].Highlights)
	p, err = lib.Search(ctx, v, library.SearchQuery{Q: "quarterly numbers"})
	require.NoError(t, err)
	require.Equal(t, []string{"v104", "v105"}, hitIDs(p))
	d := p.Results[1].Highlights[0]
	require.Equal(t, library.FieldDescription, d.Field)
	require.Regexp(t, `^….*the <mark>quarterly</mark> <mark>numbers</mark>, and more\..*…$`, d.Snippet)
	require.Less(t, len(d.Snippet), 260)

	// A folder result: its name and path; a video found through its folder.
	p, err = lib.Search(ctx, v, library.SearchQuery{Q: "negotiation"})
	require.NoError(t, err)
	require.Equal(t, []library.Highlight{{Field: library.FieldTags, Snippet: "<mark>negotiation</mark>, sales"},
		{Field: library.FieldPath, Snippet: "Sales Training / <mark>Negotiation</mark>"}}, p.Results[1].Highlights)
	f := p.Results[0]
	require.Equal(t, &library.FolderSummary{ID: "12", Name: "Negotiation", FolderCount: 0, VideoCount: 1}, f.Folder)
	require.Equal(t, []library.FolderRef{{ID: "11", Name: "Sales Training"}}, f.Breadcrumb)
	require.Equal(t, []library.Highlight{{Field: library.FieldName, Snippet: "<mark>Negotiation</mark>"}}, f.Highlights)

	p, err = lib.Search(ctx, v, library.SearchQuery{Q: "研修"})
	require.NoError(t, err)
	require.Equal(t, []library.Highlight{{Field: library.FieldTitle, Snippet: "新人<mark>研修</mark> 第1回"},
		{Field: library.FieldDescription, Snippet: "<mark>研修</mark>の概要と会社の紹介"}}, p.Results[0].Highlights)

	// The onboarding folder's cover is its first video with thumbnails.
	p, err = lib.Search(ctx, v, library.SearchQuery{Q: "onboarding"})
	require.NoError(t, err)
	require.Equal(t, &library.Cover{VideoID: "100", Thumbnails: p.Results[1].Video.Thumbnails}, p.Results[0].Folder.Cover)
}

func TestSearchScopePagingAndErrors(t *testing.T) {
	ctx := context.Background()
	lib := searchLibrary(t)
	v := library.Viewer{UserID: "u1"}

	p, err := lib.Search(ctx, v, library.SearchQuery{Q: "quarterly", FolderID: "13"})
	require.NoError(t, err)
	require.Equal(t, []string{"v106"}, hitIDs(p), "the scope holds its subtree, not itself")
	p, err = lib.Search(ctx, v, library.SearchQuery{Q: "negotiation", FolderID: "11"})
	require.NoError(t, err)
	require.Equal(t, []string{"f12", "v102"}, hitIDs(p))
	require.Equal(t, library.SearchCounts{Videos: 1, Folders: 1}, p.Counts)

	var all []string
	cursor := ""
	for {
		p, err := lib.Search(ctx, v, library.SearchQuery{Q: "quarterly", Cursor: cursor, Limit: 2})
		require.NoError(t, err)
		require.Equal(t, library.SearchCounts{Videos: 4, Folders: 1}, p.Counts, "every page counts the whole result")
		all = append(all, hitIDs(p)...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
		_, err = lib.Search(ctx, v, library.SearchQuery{Q: "quarterlies", Cursor: cursor, Limit: 2})
		require.ErrorIs(t, err, library.ErrInvalid, "a cursor belongs to its search")
	}
	require.Equal(t, []string{"v103", "f13", "v104", "v105", "v106"}, all)

	for _, q := range []library.SearchQuery{
		{Q: ""}, {Q: "   "}, {Q: string(make([]byte, 300))}, {Q: "bad \xff utf8"},
		{Q: "x", FolderID: "abc"}, {Q: "x", Cursor: "nope"}, {Q: "x", Limit: -1}, {Q: "x", Limit: 10_000},
	} {
		_, err := lib.Search(ctx, v, q)
		require.ErrorIs(t, err, library.ErrInvalid, "%+v", q)
	}
	for _, scope := range []string{"14", "999"} { // hidden and unknown look alike
		_, err := lib.Search(ctx, v, library.SearchQuery{Q: "quarterly", FolderID: scope})
		require.ErrorIs(t, err, library.ErrNotFound)
	}
	_, err = lib.Search(ctx, library.Viewer{UserID: "u2", Roles: []string{"staff"}}, library.SearchQuery{Q: "bonus", FolderID: "14"})
	require.NoError(t, err)
}
