package tree_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

func f(id, parent string, order int) tree.Folder {
	return tree.Folder{VimeoID: id, ParentVimeoID: parent, Name: "f" + id, SortOrder: order}
}

func v(id string) tree.Video {
	return tree.Video{VimeoID: id, Title: "v" + id, Status: tree.StatusAvailable, Visibility: tree.VisibilityAnybody}
}

func p(folder, video string, order int) tree.Placement {
	return tree.Placement{FolderVimeoID: folder, VideoVimeoID: video, SortOrder: order}
}

func TestNewBuildsAdjacencyAndPaths(t *testing.T) {
	// 1 ─┬─ 2 ── 4 ── 5
	//    └─ 3
	// 9 (a second top-level folder)
	s, err := tree.New(7,
		[]tree.Folder{f("5", "4", 0), f("4", "2", 0), f("3", "1", 1), f("2", "1", 0), f("1", "", 0), f("9", "", 1)},
		[]tree.Video{v("100"), v("101"), v("102")},
		[]tree.Placement{p("5", "100", 2), p("5", "101", 1), p("3", "102", 0)})
	require.NoError(t, err)
	require.Equal(t, int64(7), s.Version())
	nf, nv := s.Len()
	require.Equal(t, 6, nf)
	require.Equal(t, 3, nv)
	require.Equal(t, []string{"1", "9"}, s.Roots())
	require.Equal(t, []string{"2", "3"}, s.Children("1"), "sibling order")
	require.Equal(t, []string{"1", "2", "4", "5"}, s.Path("5"))
	require.Equal(t, []string{"4", "2", "1"}, s.Ancestors("5"), "nearest first")
	require.Empty(t, s.Ancestors("1"))
	require.Nil(t, s.Path("404"))
	require.Equal(t, 3, s.Depth("5"))
	require.Equal(t, 0, s.Depth("9"))
	require.Equal(t, -1, s.Depth("404"))
	require.True(t, s.IsAncestor("1", "5"))
	require.True(t, s.IsAncestor("2", "4"))
	require.False(t, s.IsAncestor("5", "5"), "a folder is not its own ancestor")
	require.False(t, s.IsAncestor("3", "5"))
	require.Equal(t, []string{"2", "4", "5"}, s.Subtree("2"))
	require.Nil(t, s.Subtree("404"))
	require.Equal(t, []tree.Placement{p("5", "101", 1), p("5", "100", 2)}, s.Contents("5"), "video order within a folder")
	require.Equal(t, []string{"102", "101", "100"}, s.SubtreeVideos("1"), "breadth first: folder 3 before folder 5")
	require.Equal(t, []string{"5"}, s.FoldersOf("100"))
	require.Equal(t, []string{"1", "9", "2", "3", "4", "5"}, s.FolderIDs(), "parents before children")
	require.Equal(t, []string{"100", "101", "102"}, s.VideoIDs())
	require.Len(t, s.Placements(), 3)

	// Accessors hand out copies: changing them does not change the snapshot.
	kids := s.Children("1")
	kids[0] = "mutated"
	require.Equal(t, []string{"2", "3"}, s.Children("1"))
}

func TestNewCopiesItsInput(t *testing.T) {
	folders := []tree.Folder{f("1", "", 0)}
	videos := []tree.Video{v("100")}
	s, err := tree.New(0, folders, videos, []tree.Placement{p("1", "100", 0)})
	require.NoError(t, err)
	folders[0].Name = "changed"
	videos[0].Title = "changed"
	require.Equal(t, "f1", s.Folder("1").Name)
	require.Equal(t, "v100", s.Video("100").Title)
}

func TestNewRejectsBadTrees(t *testing.T) {
	bad := v("7")
	bad.Status = "weird"
	badVis := v("8")
	badVis.Visibility = "public"
	cases := []struct {
		name       string
		folders    []tree.Folder
		videos     []tree.Video
		placements []tree.Placement
		want       error
		id         string
	}{
		{"empty folder id", []tree.Folder{f("", "", 0)}, nil, nil, tree.ErrInvalid, ""},
		{"own parent", []tree.Folder{f("1", "1", 0)}, nil, nil, tree.ErrCycle, "1"},
		{"two-folder cycle", []tree.Folder{f("1", "", 0), f("2", "3", 0), f("3", "2", 0)}, nil, nil, tree.ErrCycle, "2"},
		{"cycle with a tail", []tree.Folder{f("1", "2", 0), f("2", "3", 0), f("3", "1", 0), f("4", "3", 0)}, nil, nil, tree.ErrCycle, "1"},
		{"duplicate folder", []tree.Folder{f("1", "", 0), f("1", "", 1)}, nil, nil, tree.ErrDuplicate, "1"},
		{"orphan folder", []tree.Folder{f("1", "", 0), f("2", "404", 0)}, nil, nil, tree.ErrOrphan, "2"},
		{"empty video id", []tree.Folder{f("1", "", 0)}, []tree.Video{v("")}, nil, tree.ErrInvalid, ""},
		{"duplicate video", nil, []tree.Video{v("7"), v("7")}, nil, tree.ErrDuplicate, "7"},
		{"unknown status", nil, []tree.Video{bad}, nil, tree.ErrInvalid, "7"},
		{"unknown visibility", nil, []tree.Video{badVis}, nil, tree.ErrInvalid, "8"},
		{"placement in unknown folder", nil, []tree.Video{v("7")}, []tree.Placement{p("404", "7", 0)}, tree.ErrOrphan, "7"},
		{"placement of unknown video", []tree.Folder{f("1", "", 0)}, nil, []tree.Placement{p("1", "404", 0)}, tree.ErrOrphan, "404"},
		{"duplicate placement", []tree.Folder{f("1", "", 0)}, []tree.Video{v("7")}, []tree.Placement{p("1", "7", 0), p("1", "7", 1)}, tree.ErrDuplicate, "7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := tree.New(0, c.folders, c.videos, c.placements)
			require.Nil(t, s)
			require.ErrorIs(t, err, c.want)
			var te *tree.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, c.id, te.ID)
			require.NotEmpty(t, te.Error())
		})
	}
}

func TestNewReportsSeveralProblemsButNotEndlessly(t *testing.T) {
	var folders []tree.Folder
	for i := range 50 {
		folders = append(folders, f(strconv.Itoa(i), "missing", 0))
	}
	_, err := tree.New(0, folders, nil, nil)
	require.ErrorIs(t, err, tree.ErrOrphan)
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined))
	require.Len(t, joined.Unwrap(), 10, "capped so a broken listing does not produce a megabyte of errors")
}

// TestNewNeverPanics feeds random flat lists (cycles, orphans, duplicates and
// all) and checks that New either builds a snapshot whose invariants hold or
// returns an error.
func TestNewNeverPanics(t *testing.T) {
	for seed := range uint64(2000) {
		r := rand.New(rand.NewPCG(seed, 1))
		n := r.IntN(30)
		var folders []tree.Folder
		for i := range n {
			parent := ""
			if r.IntN(4) > 0 {
				parent = strconv.Itoa(r.IntN(n + 2))
			}
			folders = append(folders, f(strconv.Itoa(i+r.IntN(2)), parent, r.IntN(3)))
		}
		var videos []tree.Video
		var ps []tree.Placement
		for i := range r.IntN(20) {
			id := strconv.Itoa(1000 + i + r.IntN(2))
			videos = append(videos, v(id))
			ps = append(ps, p(strconv.Itoa(r.IntN(n+2)), id, i))
		}
		s, err := tree.New(0, folders, videos, ps)
		if err != nil {
			require.Nil(t, s, "seed %d", seed)
			continue
		}
		// Invariants of a valid snapshot.
		ids := s.FolderIDs()
		nf, _ := s.Len()
		require.Len(t, ids, nf, "seed %d: every folder reachable", seed)
		for _, id := range ids {
			path := s.Path(id)
			require.Equal(t, id, path[len(path)-1], "seed %d", seed)
			require.Equal(t, len(path)-1, s.Depth(id))
			if parent := s.Folder(id).ParentVimeoID; parent != "" {
				require.Equal(t, s.Path(parent), path[:len(path)-1], "seed %d: path = parent's path + self", seed)
			}
		}
	}
}

func FuzzNew(f *testing.F) {
	f.Add("1,;2,1;3,2", "100,3")
	f.Add("1,2;2,1", "")
	f.Fuzz(func(t *testing.T, folderSpec, placementSpec string) {
		var folders []tree.Folder
		for i, part := range splitNonEmpty(folderSpec, ';') {
			id, parent, _ := cut(part)
			folders = append(folders, tree.Folder{VimeoID: id, ParentVimeoID: parent, SortOrder: i})
		}
		var videos []tree.Video
		var ps []tree.Placement
		for _, part := range splitNonEmpty(placementSpec, ';') {
			vid, folder, _ := cut(part)
			videos = append(videos, v(vid))
			ps = append(ps, p(folder, vid, 0))
		}
		s, err := tree.New(0, folders, videos, ps)
		if err == nil {
			for _, id := range s.FolderIDs() {
				_ = s.Ancestors(id)
				_ = s.Subtree(id)
			}
		}
	})
}

func splitNonEmpty(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == sep {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestStatusAndVisibility(t *testing.T) {
	for _, st := range []tree.VideoStatus{tree.StatusAvailable, tree.StatusTranscoding, tree.StatusTranscodeError, tree.StatusUnavailable} {
		require.True(t, st.Valid(), st)
		require.Equal(t, st == tree.StatusAvailable, st.Playable(), st)
	}
	require.False(t, tree.VideoStatus("").Valid())
	require.False(t, tree.Visibility("public").Valid())
	vid := v("1")
	require.True(t, vid.Playable())
	vid.Hidden = true
	require.False(t, vid.Playable(), "hidden by an admin")
	vid = v("1")
	vid.Status = tree.StatusTranscoding
	require.False(t, vid.Playable())
	vid = v("1")
	vid.DeletedAt = vid.CreatedAt.AddDate(2000, 0, 0)
	require.False(t, vid.Playable(), "deleted")
}

func ExampleNew() {
	snap, err := tree.New(1,
		[]tree.Folder{{VimeoID: "10", Name: "Courses"}, {VimeoID: "11", ParentVimeoID: "10", Name: "Go"}},
		[]tree.Video{{VimeoID: "500", Title: "Intro", Status: tree.StatusAvailable}},
		[]tree.Placement{{FolderVimeoID: "11", VideoVimeoID: "500"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(snap.Path("11"), snap.FoldersOf("500"), snap.SubtreeVideos("10"))
	// Output: [10 11] [11] [500]
}

func TestEmbedBlock(t *testing.T) {
	for _, tc := range []struct {
		view          tree.Visibility
		embed         tree.EmbedPrivacy
		allowPassword bool
		blocked       string // a part of the reason; "" plays
	}{
		{tree.VisibilityAnybody, tree.EmbedPublic, false, ""},
		{tree.VisibilityUnlisted, "", false, ""},
		{tree.VisibilityDisable, tree.EmbedWhitelist, false, ""},
		{"", "", false, ""},
		{tree.VisibilityNobody, tree.EmbedPublic, true, "privacy.view is nobody"},
		{tree.VisibilityPassword, tree.EmbedPublic, false, "privacy.view is password"},
		{tree.VisibilityPassword, tree.EmbedPublic, true, ""},
		{tree.VisibilityUsers, "", false, "signed in to Vimeo"},
		{tree.VisibilityContacts, "", false, "signed in to Vimeo"},
		{tree.VisibilityAnybody, tree.EmbedPrivate, false, "privacy.embed is private"},
		{tree.VisibilityPassword, tree.EmbedPrivate, true, "privacy.embed is private"},
	} {
		v := tree.Video{Visibility: tc.view, EmbedPrivacy: tc.embed}
		got := v.EmbedBlock(tc.allowPassword)
		if tc.blocked == "" {
			require.Empty(t, got, "%+v", tc)
		} else {
			require.Contains(t, got, tc.blocked, "%+v", tc)
		}
	}
	require.False(t, tree.EmbedPrivacy("nowhere").Valid())
	_, err := tree.New(1, nil, []tree.Video{{VimeoID: "1", Status: tree.StatusAvailable, EmbedPrivacy: "nowhere"}}, nil)
	require.ErrorIs(t, err, tree.ErrInvalid)
}

// TestSnapshotsShareEnumStrings checks that a snapshot keeps the package's
// constants for statuses, visibilities and embed privacies, not the copies
// a store's driver allocates per row, in New and in Patch.
func TestSnapshotsShareEnumStrings(t *testing.T) {
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	row := func(id string) tree.Video {
		x := v(id)
		x.Status = tree.VideoStatus(strings.Clone(string(tree.StatusTranscoding)))
		x.Visibility = tree.Visibility(strings.Clone(string(tree.VisibilityUnlisted)))
		x.EmbedPrivacy = tree.EmbedPrivacy(strings.Clone(string(tree.EmbedWhitelist)))
		require.False(t, same(string(x.Status), string(tree.StatusTranscoding)), "the test's rows are copies")
		return x
	}
	check := func(s *tree.Snapshot, id string) {
		got := s.Video(id)
		require.Equal(t, tree.StatusTranscoding, got.Status)
		require.True(t, same(string(got.Status), string(tree.StatusTranscoding)))
		require.True(t, same(string(got.Visibility), string(tree.VisibilityUnlisted)))
		require.True(t, same(string(got.EmbedPrivacy), string(tree.EmbedWhitelist)))
	}
	s, err := tree.New(1, []tree.Folder{f("1", "", 0)}, []tree.Video{row("10")}, nil)
	require.NoError(t, err)
	check(s, "10")
	p, err := s.Patch(2, tree.Objects{Videos: []tree.Video{row("11")}})
	require.NoError(t, err)
	check(p, "11")
}
