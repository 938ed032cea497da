package entitle_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// The library used by the table tests:
//
//	1 root
//	├── 2 a
//	│   └── 3 b
//	│       └── 4 c
//	├── 5 d
//	└── 6 gone (deleted)
//	    └── 7 under-gone
//
//	video 10 in 4, 11 in 3, 12 in 5, 13 in 4 (hidden), 14 in 4 (transcoding),
//	15 unplaced, 16 in 4 and 5, 17 in 4 (deleted), 18 in 7, 19 in 6 and 5
func library(t *testing.T) *tree.Snapshot {
	t.Helper()
	f := func(id, parent string, deleted bool) tree.Folder {
		x := tree.Folder{VimeoID: id, ParentVimeoID: parent, Name: "f" + id}
		if deleted {
			x.DeletedAt = time.Unix(1_700_000_000, 0)
		}
		return x
	}
	v := func(id string, status tree.VideoStatus, hidden, deleted bool) tree.Video {
		x := tree.Video{VimeoID: id, Status: status, Hidden: hidden}
		if deleted {
			x.DeletedAt = time.Unix(1_700_000_000, 0)
		}
		return x
	}
	ok := tree.StatusAvailable
	p := func(folder, video string) tree.Placement {
		return tree.Placement{FolderVimeoID: folder, VideoVimeoID: video}
	}
	snap, err := tree.New(7,
		[]tree.Folder{f("1", "", false), f("2", "1", false), f("3", "2", false), f("4", "3", false),
			f("5", "1", false), f("6", "1", true), f("7", "6", false)},
		[]tree.Video{v("10", ok, false, false), v("11", ok, false, false), v("12", ok, false, false),
			v("13", ok, true, false), v("14", tree.StatusTranscoding, false, false), v("15", ok, false, false),
			v("16", ok, false, false), v("17", ok, false, true), v("18", ok, false, false), v("19", ok, false, false)},
		[]tree.Placement{p("4", "10"), p("3", "11"), p("5", "12"), p("4", "13"), p("4", "14"), p("4", "16"),
			p("5", "16"), p("4", "17"), p("7", "18"), p("6", "19"), p("5", "19")},
	)
	require.NoError(t, err)
	return snap
}

func rule(id int64, subject, effect, target string) entitle.Rule {
	s, err := entitle.ParseSubject(subject)
	if err != nil {
		panic(err)
	}
	tg, err := entitle.ParseTarget(target)
	if err != nil {
		panic(err)
	}
	return entitle.Rule{ID: id, Subject: s, Target: tg, Effect: entitle.Effect(effect)}
}

func TestSemantics(t *testing.T) {
	snap := library(t)
	member := entitle.NewAudience("u1", []string{"member"}, map[string]string{"tier": "gold"})
	tests := []struct {
		name    string
		rules   []entitle.Rule
		aud     entitle.Audience
		videos  []string // exactly the visible videos
		folders []string // exactly the visible folders
	}{
		{"no rules: default deny", nil, member, nil, nil},
		{"everyone on the root sees every playable placed video",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:1")}, entitle.Audience{},
			[]string{"10", "11", "12", "16", "19"}, []string{"1", "2", "3", "4", "5"}},
		{"a role rule does not reach other roles",
			[]entitle.Rule{rule(1, "role:staff", "allow", "folder:1")}, member, nil, nil},
		{"a nearer deny beats a farther allow",
			[]entitle.Rule{rule(1, "role:member", "allow", "folder:1"), rule(2, "role:member", "deny", "folder:3")}, member,
			[]string{"12", "16", "19"}, []string{"1", "5"}},
		{"a nearer allow beats a farther deny",
			[]entitle.Rule{rule(1, "everyone", "deny", "folder:1"), rule(2, "segment:tier=gold", "allow", "folder:4")}, member,
			[]string{"10", "16"}, []string{"1", "2", "3", "4"}},
		{"deny wins at the same level across subjects",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:2"), rule(2, "user:u1", "deny", "folder:2")}, member, nil, nil},
		{"a deny for a subject the audience lacks does not count",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:2"), rule(2, "role:staff", "deny", "folder:2")}, member,
			[]string{"10", "11", "16"}, []string{"1", "2", "3", "4"}},
		{"a level whose rules name only other audiences is passed over",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:1"), rule(2, "segment:tier=silver", "deny", "folder:4")}, member,
			[]string{"10", "11", "12", "16", "19"}, []string{"1", "2", "3", "4", "5"}},
		{"a video allow beats a folder deny",
			[]entitle.Rule{rule(1, "everyone", "deny", "folder:1"), rule(2, "role:member", "allow", "video:11")}, member,
			[]string{"11"}, []string{"1", "2", "3"}},
		{"a video deny beats a folder allow, for every placement",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:1"), rule(2, "everyone", "deny", "video:16")}, member,
			[]string{"10", "11", "12", "19"}, []string{"1", "2", "3", "4", "5"}},
		{"multi-placement: visible through any placement",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:5"), rule(2, "everyone", "deny", "folder:4")}, member,
			[]string{"12", "16", "19"}, []string{"1", "5"}},
		{"multi-placement: a folder is not lit by a placement that is denied there",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:4"), rule(2, "everyone", "deny", "folder:5")}, member,
			[]string{"10", "16"}, []string{"1", "2", "3", "4"}},
		{"hidden, transcoding, deleted and unplaced videos are invisible even when named",
			[]entitle.Rule{rule(1, "everyone", "allow", "video:13"), rule(2, "everyone", "allow", "video:14"),
				rule(3, "everyone", "allow", "video:15"), rule(4, "everyone", "allow", "video:17")}, member, nil, nil},
		{"placements under a deleted folder do not count",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:6"), rule(2, "everyone", "allow", "video:18")}, member, nil, nil},
		{"a user rule names one user only",
			[]entitle.Rule{rule(1, "user:u2", "allow", "folder:1")}, member, nil, nil},
		{"a segment needs the exact value",
			[]entitle.Rule{rule(1, "segment:tier=Gold", "allow", "folder:1")}, member, nil, nil},
		{"rules on unknown targets change nothing",
			[]entitle.Rule{rule(1, "everyone", "allow", "folder:999"), rule(2, "everyone", "deny", "video:999"),
				rule(3, "everyone", "allow", "folder:5")}, member, []string{"12", "16", "19"}, []string{"1", "5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, err := entitle.New(snap, tc.rules, 1, nil)
			require.NoError(t, err)
			view := x.Visible(tc.aud)
			require.Equal(t, nonNil(tc.videos), view.VideoIDs())
			require.ElementsMatch(t, nonNil(tc.folders), view.FolderIDs())
			for _, id := range snap.VideoIDs() {
				require.Equal(t, view.Video(id), x.Check(tc.aud, id), id)
				require.Equal(t, view.Video(id), x.Explain(tc.aud, id).Allowed, id)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestExplain(t *testing.T) {
	snap := library(t)
	rules := []entitle.Rule{
		rule(1, "everyone", "allow", "folder:1"),
		rule(2, "role:member", "deny", "folder:3"),
		rule(3, "role:member", "allow", "video:11"),
		rule(4, "everyone", "deny", "folder:3"),
		rule(5, "user:u1", "allow", "folder:4"),
	}
	x, err := entitle.New(snap, rules, 1, nil)
	require.NoError(t, err)
	member := entitle.NewAudience("u9", []string{"member"}, nil)
	u1 := entitle.NewAudience("u1", []string{"member"}, nil)
	folder := func(id string) entitle.Target { return entitle.Target{Kind: entitle.FolderTarget, ID: id} }
	video := func(id string) entitle.Target { return entitle.Target{Kind: entitle.VideoTarget, ID: id} }
	tests := []struct {
		name    string
		aud     entitle.Audience
		video   string
		allowed bool
		reason  entitle.Reason
		rule    int64
		level   int
		target  entitle.Target
		via     string
	}{
		{"video-level allow", member, "11", true, entitle.ReasonRule, 3, 0, video("11"), ""},
		{"deny at the folder's parent; lowest-id deny reported", member, "10", false, entitle.ReasonRule, 2, 2, folder("3"), "4"},
		{"user allow at the video's folder", u1, "10", true, entitle.ReasonRule, 5, 1, folder("4"), "4"},
		{"allow at the root", member, "12", true, entitle.ReasonRule, 1, 2, folder("1"), "5"},
		{"multi-placement reports the allowed placement", member, "16", true, entitle.ReasonRule, 1, 2, folder("1"), "5"},
		{"hidden", member, "13", false, entitle.ReasonHidden, 0, -1, entitle.Target{}, ""},
		{"transcoding", member, "14", false, entitle.ReasonNotPlayable, 0, -1, entitle.Target{}, ""},
		{"unplaced", member, "15", false, entitle.ReasonNotInLibrary, 0, -1, entitle.Target{}, ""},
		{"deleted", member, "17", false, entitle.ReasonDeleted, 0, -1, entitle.Target{}, ""},
		{"only under a deleted folder", member, "18", false, entitle.ReasonNotInLibrary, 0, -1, entitle.Target{}, ""},
		{"unknown", member, "404", false, entitle.ReasonNotInLibrary, 0, -1, entitle.Target{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := x.Explain(tc.aud, tc.video)
			require.Equal(t, tc.allowed, d.Allowed)
			require.Equal(t, tc.reason, d.Reason)
			require.Equal(t, tc.level, d.Level)
			require.Equal(t, tc.target, d.Target)
			require.Equal(t, tc.via, d.Via)
			if tc.rule == 0 {
				require.Nil(t, d.Rule)
			} else {
				require.NotNil(t, d.Rule)
				require.Equal(t, tc.rule, d.Rule.ID)
			}
			require.Equal(t, tc.allowed, x.Check(tc.aud, tc.video))
		})
	}

	t.Run("no rule matches", func(t *testing.T) {
		y, err := entitle.New(snap, []entitle.Rule{rule(1, "role:staff", "allow", "folder:1")}, 1, nil)
		require.NoError(t, err)
		d := y.Explain(member, "10")
		require.Equal(t, entitle.Decision{Reason: entitle.ReasonNoRule, Level: -1}, d)
	})
	t.Run("the returned rule is a copy", func(t *testing.T) {
		d := x.Explain(member, "11")
		d.Rule.Effect = entitle.Deny
		require.True(t, x.Explain(member, "11").Allowed)
	})
}

func TestNewRejectsBadInput(t *testing.T) {
	snap := library(t)
	_, err := entitle.New(nil, nil, 1, nil)
	require.ErrorIs(t, err, entitle.ErrInvalid)
	for _, r := range []entitle.Rule{
		{ID: 1, Subject: entitle.Subject{Kind: "group", Name: "x"}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow},
		{ID: 2, Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: "tag", ID: "1"}, Effect: entitle.Allow},
		{ID: 3, Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "abc"}, Effect: entitle.Allow},
		{ID: 4, Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: "maybe"},
		{ID: 5, Subject: entitle.Subject{Kind: entitle.Segment, Name: "tier"}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow},
	} {
		_, err := entitle.New(snap, []entitle.Rule{rule(9, "everyone", "allow", "folder:1"), r}, 1, nil)
		require.ErrorIs(t, err, entitle.ErrInvalid, "rule %d", r.ID)
		require.ErrorContains(t, err, fmt.Sprintf("rule %d", r.ID))
	}
	_, err = entitle.New(snap, nil, 1, &entitle.Options{MaxCachedAudiences: -1})
	require.ErrorIs(t, err, entitle.ErrInvalid)
}

// A subject built by hand with stray fields means what its canonical form says.
func TestNonCanonicalSubjects(t *testing.T) {
	snap := library(t)
	r := entitle.Rule{ID: 1, Subject: entitle.Subject{Kind: entitle.Role, Name: "member", Value: "stray"},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: "5"}, Effect: entitle.Allow}
	x, err := entitle.New(snap, []entitle.Rule{r}, 1, nil)
	require.NoError(t, err)
	require.True(t, x.Check(entitle.NewAudience("", []string{"member"}, nil), "12"))
	require.Equal(t, "member", x.Rules()[0].Subject.Name)
	require.Empty(t, x.Rules()[0].Subject.Value)
}

func TestAudience(t *testing.T) {
	a := entitle.NewAudience("u1", []string{"b", "a", "b", ""}, map[string]string{"k": "v", "e": "", "": "x"})
	require.Equal(t, []string{"a", "b"}, a.Roles())
	require.Equal(t, map[string]string{"k": "v"}, a.Segments())
	require.Equal(t, "u1", a.User())
	require.Equal(t, a.Key(), entitle.NewAudience("u2", []string{"a", "b"}, map[string]string{"k": "v"}).Key())
	// The key is injective: separators inside names cannot forge another audience.
	distinct := []entitle.Audience{
		entitle.NewAudience("", []string{"a", "b"}, nil),
		entitle.NewAudience("", []string{"ab"}, nil),
		entitle.NewAudience("", []string{"a1:b"}, nil),
		entitle.NewAudience("", nil, map[string]string{"a": "b"}),
		entitle.NewAudience("", nil, map[string]string{"a": "b=c"}),
		entitle.NewAudience("", nil, map[string]string{"a=b": "c"}),
		entitle.NewAudience("", nil, nil),
	}
	seen := map[string]int{}
	for i, d := range distinct {
		if j, dup := seen[d.Key()]; dup {
			t.Fatalf("audiences %d and %d share key %q", i, j, d.Key())
		}
		seen[d.Key()] = i
	}
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"everyone", true}, {"role:a", true}, {"role:c", false}, {"segment:k=v", true},
		{"segment:k=w", false}, {"user:u1", true}, {"user:u2", false},
	} {
		s, err := entitle.ParseSubject(tc.s)
		require.NoError(t, err)
		require.Equal(t, tc.want, a.Matches(s), tc.s)
	}
	require.False(t, entitle.Audience{}.Matches(entitle.Subject{Kind: entitle.User, Name: ""}))
}

func TestViewSharing(t *testing.T) {
	snap := library(t)
	rules := []entitle.Rule{
		rule(1, "role:member", "allow", "folder:1"),
		rule(2, "user:u1", "deny", "folder:5"),
	}
	x, err := entitle.New(snap, rules, 1, nil)
	require.NoError(t, err)
	u1 := entitle.NewAudience("u1", []string{"member"}, nil)
	u2 := entitle.NewAudience("u2", []string{"member"}, nil)
	u3 := entitle.NewAudience("u3", []string{"member", "unused-role"}, map[string]string{"unused": "x"})
	// u2 and u3 match the same rule subjects: one view. u1 is named by a rule: its own view.
	require.Same(t, x.Visible(u2), x.Visible(u3))
	require.Equal(t, x.CacheKey(u2), x.CacheKey(entitle.NewAudience("u4", []string{"member"}, nil)), "unnamed users share a key")
	require.NotEqual(t, x.CacheKey(u1), x.CacheKey(u2), "a named user has a key of its own")
	require.NotSame(t, x.Visible(u1), x.Visible(u2))
	require.False(t, x.Check(u1, "12"))
	require.True(t, x.Check(u2, "12"))
	// Asking in the other order gives the same answers (no luck involved).
	y, err := entitle.New(snap, rules, 1, nil)
	require.NoError(t, err)
	require.True(t, y.Check(u2, "12"))
	require.False(t, y.Check(u1, "12"))
}

func TestCacheBoundKeepsAnswers(t *testing.T) {
	snap := library(t)
	x, err := entitle.New(snap, []entitle.Rule{rule(1, "role:r1", "allow", "folder:5"), rule(2, "role:r2", "allow", "folder:2")},
		1, &entitle.Options{MaxCachedAudiences: 2})
	require.NoError(t, err)
	for i := range 50 {
		a := entitle.NewAudience(fmt.Sprint("u", i), []string{fmt.Sprint("r", i%3)}, nil)
		require.Equal(t, i%3 == 1, x.Check(a, "12"), i)
		require.Equal(t, i%3 == 2, x.Check(a, "11"), i)
	}
}

func TestConcurrentVisible(t *testing.T) {
	snap := library(t)
	x, err := entitle.New(snap, []entitle.Rule{rule(1, "role:r1", "allow", "folder:5"), rule(2, "user:u3", "allow", "video:10")},
		1, &entitle.Options{MaxCachedAudiences: 3})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				a := entitle.NewAudience(fmt.Sprint("u", (g+i)%5), []string{fmt.Sprint("r", i%2)}, nil)
				want12, want10 := i%2 == 1, (g+i)%5 == 3
				if x.Check(a, "12") != want12 || x.Check(a, "10") != want10 {
					errs <- fmt.Errorf("goroutine %d iteration %d: wrong answer", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestWithSnapshot(t *testing.T) {
	snap := library(t)
	rules := []entitle.Rule{rule(1, "role:member", "allow", "folder:1"), rule(2, "user:u1", "deny", "folder:5")}
	x, err := entitle.New(snap, rules, 3, nil)
	require.NoError(t, err)
	member := entitle.NewAudience("u2", []string{"member"}, nil)
	before := x.Visible(member)

	// A metadata edit: video 12's title.
	vs := snap.Videos()
	for i := range vs {
		if vs[i].VimeoID == "12" {
			vs[i].Title = "renamed"
		}
	}
	edited, err := tree.New(8, snap.Folders(), vs, snap.Placements())
	require.NoError(t, err)
	y, err := x.WithSnapshot(edited)
	require.NoError(t, err)
	require.Same(t, edited, y.Snapshot())
	require.Same(t, snap, x.Snapshot(), "x is unchanged")
	require.Equal(t, x.Version(), y.Version())
	require.Equal(t, x.Rules(), y.Rules())
	require.Same(t, before, y.Visible(member), "the view cache is shared")
	require.Equal(t, "renamed", y.ExplainDetail(member, "12").Title)
	require.NotEqual(t, "renamed", x.ExplainDetail(member, "12").Title)
	require.False(t, y.Check(entitle.NewAudience("u1", []string{"member"}, nil), "12"))

	// A snapshot of another size is refused.
	fewer, err := tree.New(8, snap.Folders(), vs[:len(vs)-1], nil)
	require.NoError(t, err)
	_, err = x.WithSnapshot(fewer)
	require.ErrorIs(t, err, entitle.ErrInvalid)
	_, err = x.WithSnapshot(nil)
	require.ErrorIs(t, err, entitle.ErrInvalid)
}
