package entitle

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

func TestTeaserAndPublicValidation(t *testing.T) {
	folder := Target{Kind: FolderTarget, ID: "1"}
	for _, tc := range []struct {
		name string
		rule Rule
		err  string // "" valid
	}{
		{"public allow", Rule{Subject: Subject{Kind: Public}, Target: folder, Effect: Allow}, ""},
		{"public deny", Rule{Subject: Subject{Kind: Public}, Target: folder, Effect: Deny}, ""},
		{"teaser upgrade", Rule{Subject: Subject{Kind: Everyone}, Target: folder, Effect: Teaser, LockReason: LockUpgrade}, ""},
		{"public teaser sign_in", Rule{Subject: Subject{Kind: Public}, Target: folder, Effect: Teaser, LockReason: LockSignIn}, ""},
		{"teaser without reason", Rule{Subject: Subject{Kind: Everyone}, Target: folder, Effect: Teaser}, "a teaser rule needs a lock reason: sign_in, upgrade, purchase"},
		{"teaser bad reason", Rule{Subject: Subject{Kind: Everyone}, Target: folder, Effect: Teaser, LockReason: "later"}, `lock reason "later": want sign_in, upgrade, purchase`},
		{"allow with reason", Rule{Subject: Subject{Kind: Everyone}, Target: folder, Effect: Allow, LockReason: LockUpgrade}, "only a teaser rule has a lock reason"},
		{"sign_in for signed-in subject", Rule{Subject: Subject{Kind: Role, Name: "free"}, Target: folder, Effect: Teaser, LockReason: LockSignIn}, "sign_in is for the public subject (role:free is signed in already)"},
		{"bad effect", Rule{Subject: Subject{Kind: Everyone}, Target: folder, Effect: "maybe"}, `effect "maybe": want allow, deny or teaser`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rule.Validate()
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorContains(t, err, tc.err)
		})
	}
	s, err := ParseSubject("public")
	require.NoError(t, err)
	require.Equal(t, Subject{Kind: Public}, s)
	require.Equal(t, "public", s.String())
	_, err = ParseSubject("public:x")
	require.ErrorIs(t, err, ErrInvalid)
}

// The precedence of §5 with public subjects and teasers, on the fixture:
// Root(1) > Teams(2) > Sales(3) holds 10; Root > Marketing(4) holds 11; 12 is in Root.
func TestTeaserPrecedence(t *testing.T) {
	snap, err := newTestSnap()
	require.NoError(t, err)
	pub, every := Subject{Kind: Public}, Subject{Kind: Everyone}
	premium := Subject{Kind: Role, Name: "premium"}
	f := func(id string) Target { return Target{Kind: FolderTarget, ID: id} }
	v := func(id string) Target { return Target{Kind: VideoTarget, ID: id} }
	rules := []Rule{
		{ID: 1, Subject: pub, Target: f("1"), Effect: Teaser, LockReason: LockSignIn},    // anonymous: everything locked…
		{ID: 2, Subject: pub, Target: f("4"), Effect: Allow},                             // …but Marketing is free for all
		{ID: 3, Subject: every, Target: f("2"), Effect: Teaser, LockReason: LockUpgrade}, // Teams is paid:
		{ID: 4, Subject: premium, Target: f("2"), Effect: Allow},                         // allow beats teaser at one level
		{ID: 5, Subject: every, Target: f("1"), Effect: Allow},
		{ID: 6, Subject: Subject{Kind: User, Name: "banned"}, Target: f("2"), Effect: Deny},  // deny beats both
		{ID: 7, Subject: premium, Target: v("12"), Effect: Teaser, LockReason: LockPurchase}, // the video level is more specific
	}
	x, err := New(snap, rules, 1, nil)
	require.NoError(t, err)
	type want struct {
		allowed bool
		lock    LockReason
		rule    int64
	}
	for _, tc := range []struct {
		name string
		a    Audience
		want map[string]want
	}{
		{"anonymous", Anonymous(), map[string]want{"10": {false, LockSignIn, 1}, "11": {true, "", 2}, "12": {false, LockSignIn, 1}}},
		{"signed in", NewAudience("u1", nil, nil), map[string]want{"10": {false, LockUpgrade, 3}, "11": {true, "", 2}, "12": {true, "", 5}}},
		{"premium", NewAudience("u2", []string{"premium"}, nil), map[string]want{"10": {true, "", 4}, "11": {true, "", 2}, "12": {false, LockPurchase, 7}}},
		{"banned premium", NewAudience("banned", []string{"premium"}, nil), map[string]want{"10": {false, "", 6}, "11": {true, "", 2}, "12": {false, LockPurchase, 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			view := x.Visible(tc.a)
			for id, w := range tc.want {
				d := x.Explain(tc.a, id)
				require.Equal(t, w.allowed, d.Allowed, id)
				require.Equal(t, w.lock, d.LockReason, id)
				require.Equal(t, w.lock != "", d.Locked, id)
				require.Equal(t, w.rule, d.Rule.ID, id)
				require.Equal(t, w.allowed, view.Video(id), id)
				lock, locked := view.Locked(id)
				require.Equal(t, w.lock, lock, id)
				require.Equal(t, w.lock != "", locked, id)
				require.Equal(t, w.allowed || locked, view.Listed(id), id)
			}
		})
	}
	// Teams is visible to the banned user only through nothing: hidden.
	require.False(t, x.CheckFolder(NewAudience("banned", []string{"premium"}, nil), "2"))
	// Anonymous visitors see the locked folder and share one cache key.
	require.True(t, x.CheckFolder(Anonymous(), "3"))
	require.Equal(t, x.CacheKey(Anonymous()), x.CacheKey(Anonymous()))
	require.NotEqual(t, x.CacheKey(Anonymous()), x.CacheKey(NewAudience("", nil, nil)))

	e := x.ExplainDetail(NewAudience("u1", nil, nil), "10")
	require.Contains(t, e.String(), `sees locked (upgrade) video "Q3 review" (10): rule #3 (teaser upgrade everyone) decides at level 2 (folder:2)`)
	require.Equal(t, "teaser (upgrade) for everyone on folder \"Teams\" (2)", x.DescribeRule(rules[2]))
	e = x.ExplainDetail(Anonymous(), "12")
	require.Equal(t, "public", e.Audience)
	require.Contains(t, e.String(), "adding allow for public on video")

	// Without a public rule, the anonymous audience sees nothing at all.
	y, err := New(snap, rules[2:], 1, nil)
	require.NoError(t, err)
	nf, nv := y.Visible(Anonymous()).Len()
	require.Zero(t, nf+nv+y.Visible(Anonymous()).LockedLen())
}

func TestVimeoPrivacyKeepsVideosOut(t *testing.T) {
	snap, err := tree.New(1, []tree.Folder{{VimeoID: "1", Name: "Root"}}, []tree.Video{
		{VimeoID: "10", Title: "Open", Status: tree.StatusAvailable, Visibility: tree.VisibilityAnybody},
		{VimeoID: "11", Title: "Locked away", Status: tree.StatusAvailable, Visibility: tree.VisibilityPassword},
		{VimeoID: "12", Title: "No embed", Status: tree.StatusAvailable, Visibility: tree.VisibilityAnybody, EmbedPrivacy: tree.EmbedPrivate},
	}, []tree.Placement{{FolderVimeoID: "1", VideoVimeoID: "10"}, {FolderVimeoID: "1", VideoVimeoID: "11"}, {FolderVimeoID: "1", VideoVimeoID: "12"}})
	require.NoError(t, err)
	rules := []Rule{{ID: 1, Subject: Subject{Kind: Everyone}, Target: Target{Kind: FolderTarget, ID: "1"}, Effect: Allow}}
	a := NewAudience("u", nil, nil)
	x, err := New(snap, rules, 1, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"10"}, x.Visible(a).VideoIDs())
	d := x.Explain(a, "11")
	require.Equal(t, ReasonPrivacy, d.Reason)
	require.Contains(t, d.Detail, "privacy.view is password")
	require.Contains(t, x.ExplainDetail(a, "12").String(), "privacy.embed is private")
	require.Equal(t, -1, int(x.VideoPos("12")), "no audience can ever see it")

	y, err := New(snap, rules, 1, &Options{AllowPasswordVideos: true})
	require.NoError(t, err)
	require.Equal(t, []string{"10", "11"}, y.Visible(a).VideoIDs(), "a setting lets password videos through")
}
