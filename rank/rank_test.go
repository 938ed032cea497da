package rank

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
)

func TestRankReasons(t *testing.T) {
	l := newLib()
	q3 := l.video("11", "Q3 review", daysAgo(100))
	q4 := l.video("11", "Q4 plan", daysAgo(90))
	pipe := l.video("10", "Pipeline basics", daysAgo(120))
	half := l.video("30", "Half watched", daysAgo(200))
	hot := l.video("30", "Popular deploys", daysAgo(300))
	fresh := l.video("20", "Welcome", daysAgo(1))
	old := l.video("20", "Old onboarding", daysAgo(400))
	idx := l.index(t, allow("role:member", "1"))

	// Other members made "Popular deploys" popular.
	var users []User
	for i := range 5 {
		users = append(users, User{ID: "p" + itoa(i), Roles: []string{"member"},
			History: []Watch{{VideoID: hot, WatchedSeconds: 100, Ratio: 1, Completed: true, LastAt: daysAgo(2)}}})
	}
	alice := User{ID: "alice", Roles: []string{"member"}, History: []Watch{
		{VideoID: q3, WatchedSeconds: 600, Ratio: 1, Completed: true, LastAt: daysAgo(1)},
		{VideoID: half, WatchedSeconds: 60, Ratio: 0.4, LastAt: daysAgo(0.5)},
	}}
	m, err := New(idx, append(users, alice), &Options{Now: clock})
	require.NoError(t, err)

	feed := m.Rank(&alice)
	view := idx.Visible(alice.Audience())
	text := map[string]string{}
	for _, it := range feed.Items {
		text[it.VideoID] = it.Reason.Text(idx.Snapshot(), view)
	}
	require.Equal(t, []string{half, q4, pipe, hot, fresh, old}, ids(feed), "continue first, then her folders, then popular, then new")
	require.NotContains(t, ids(feed), q3, "a completed video is not recommended again")
	require.Equal(t, "Continue watching", text[half])
	require.Equal(t, "Because you watched Q3 review in Q3", text[q4])
	require.Equal(t, "Because you watched Q3 review in Sales", text[pipe])
	require.Equal(t, "Popular with members", text[hot])
	require.Equal(t, "New in Onboarding", text[fresh])

	// Cold start: popular within the audience, then new.
	bob := User{ID: "bob", Roles: []string{"member"}}
	cold := m.Rank(&bob)
	require.Equal(t, []string{hot, half, q3, fresh, q4, pipe}, ids(cold)[:6], "watched by members (most first), then newest first")
	require.Equal(t, ReasonPopular, cold.Items[0].Reason.Kind)
	require.Equal(t, ReasonNew, cold.Items[3].Reason.Kind)

	// Another audience: sales only sees Sales; popularity there is its own.
	carol := User{ID: "carol", Roles: []string{"sales"}}
	idx2 := l.index(t, allow("role:member", "1"), allow("role:sales", "10"))
	m2, err := New(idx2, users, &Options{Now: clock})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{q3, q4, pipe}, ids(m2.Rank(&carol)))
}

func TestReasonNeverNamesWhatIsNotVisible(t *testing.T) {
	l := newLib()
	q3 := l.video("11", "Q3 review", daysAgo(100))
	q4 := l.video("11", "Q4 plan", daysAgo(90))
	idx := l.index(t, allow("role:member", "1"))
	alice := User{ID: "alice", Roles: []string{"member"}, History: []Watch{{VideoID: q3, Ratio: 1, Completed: true, LastAt: daysAgo(1)}}}
	m, err := New(idx, nil, &Options{Now: clock})
	require.NoError(t, err)
	feed := m.Rank(&alice)
	require.Equal(t, []string{q4}, ids(feed))
	r := feed.Items[0].Reason
	require.Equal(t, ReasonWatched, r.Kind)
	require.Equal(t, r, DecodeReason(r.Encode()))

	// Q3 review is denied now: the stored reason no longer names it.
	idx2 := l.index(t, allow("role:member", "1"), entitle.Rule{Subject: entitle.Subject{Kind: entitle.Role, Name: "member"},
		Target: entitle.Target{Kind: entitle.VideoTarget, ID: q3}, Effect: entitle.Deny})
	require.Equal(t, "Recommended for you", r.Text(idx2.Snapshot(), idx2.Visible(alice.Audience())))
	require.Equal(t, "Because you watched Q3 review in Q3", r.Text(idx.Snapshot(), idx.Visible(alice.Audience())))
	require.Equal(t, Reason{Kind: ReasonForYou}, DecodeReason("garbage"))
}

func TestDiversity(t *testing.T) {
	l := newLib()
	var users []User
	for i := range 12 { // twelve popular videos in Sales, a few less popular elsewhere
		id := l.video("10", "s"+itoa(i), daysAgo(10))
		for j := range 10 {
			users = append(users, User{ID: "u" + itoa(j), Roles: []string{"member"}, History: []Watch{{VideoID: id, Ratio: 1, Completed: true, LastAt: daysAgo(1)}}})
		}
	}
	for _, f := range []string{"20", "30", "11"} {
		for i := range 2 {
			l.video(f, f+"-"+itoa(i), daysAgo(50))
		}
	}
	for i := range 8 {
		l.folder(itoa(40+i), "1", "extra")
		l.video(itoa(40+i), "x"+itoa(i), daysAgo(60))
	}
	idx := l.index(t, allow("role:member", "1"))
	for _, tc := range []struct{ per, want int }{{3, 3}, {1, 1}, {5, 5}} {
		m, err := New(idx, users, &Options{Now: clock, MaxPerFolder: tc.per})
		require.NoError(t, err)
		feed := m.Rank(&User{ID: "new", Roles: []string{"member"}})
		require.Len(t, feed.Items, 26)
		n := 0
		for _, it := range feed.Items[:10] {
			if idx.Snapshot().FoldersOf(it.VideoID)[0] == "10" {
				n++
			}
		}
		require.Equal(t, tc.want, n, "Sales videos in the top 10 with MaxPerFolder %d", tc.per)
	}
}

func TestSizeAndFilter(t *testing.T) {
	l := newLib()
	for i := range 30 {
		l.video([]string{"10", "20", "30"}[i%3], "v"+itoa(i), daysAgo(float64(i)))
	}
	idx := l.index(t, allow("everyone", "1"))
	m, err := New(idx, nil, &Options{Now: clock, Size: 7})
	require.NoError(t, err)
	u := User{ID: "u"}
	feed := m.Rank(&u)
	require.Len(t, feed.Items, 7)
	require.Equal(t, l.byTitle["v0"], feed.Items[0].VideoID, "cold start without popularity: newest first")

	idx2 := l.index(t, allow("everyone", "1"), deny("everyone", "20"))
	kept := Filter(idx2, u.Audience(), feed.Items)
	for _, it := range kept {
		require.NotEqual(t, "20", idx.Snapshot().FoldersOf(it.VideoID)[0])
	}
	require.Less(t, len(kept), len(feed.Items))
	require.Empty(t, Filter(nil, u.Audience(), feed.Items))

	_, err = New(idx, nil, &Options{Size: -1})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = New(nil, nil, nil)
	require.ErrorIs(t, err, ErrInvalid)
}
