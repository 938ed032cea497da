package library_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/rank"
)

// announcer is a library.FeedChanges for tests. announce returns once the
// Service has applied the change: the channel is unbuffered and the
// Service applies changes in order, so the send that follows (of a user
// no test serves) completes only after the change was applied.
type announcer struct {
	ch   chan string
	once sync.Once
}

func newAnnouncer() *announcer { return &announcer{ch: make(chan string)} }

func (a *announcer) Subscribe(context.Context) (<-chan string, func()) {
	return a.ch, func() { a.once.Do(func() { close(a.ch) }) }
}

func (a *announcer) announce(user string) {
	a.ch <- user
	a.ch <- "u-nobody"
}

// running starts lib.Run until the test ends.
func running(t *testing.T, lib *library.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = lib.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	require.NoError(t, lib.WaitReady(ctx))
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCachedFeedsAreReadOncePerChange(t *testing.T) {
	ctx := context.Background()
	computed := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	src := &feeds{m: map[string]*rank.Feed{alice.UserID: {UserID: alice.UserID, ComputedAt: computed, Items: []rank.Item{
		{VideoID: "1201", Score: 3, Reason: rank.Reason{Kind: rank.ReasonNew, FolderID: "12"}},
		{VideoID: "1001", Score: 2},
		{VideoID: "1202", Score: 1, Reason: rank.Reason{Kind: rank.ReasonPopular, Audience: "sales"}},
	}}}}
	ann := newAnnouncer()
	clk := &clock{t: computed}
	lib, st := seeded(t, &library.Options{PollInterval: -1, Feeds: src, FeedChanges: ann, FeedMaxAge: time.Minute, Now: clk.now})
	running(t, lib)
	ids := func(v library.Viewer) []string {
		page, err := lib.Feed(ctx, v, "", 10)
		require.NoError(t, err)
		return feedIDs(page.Videos)
	}

	// One read serves the feed, its JSON and the home row.
	require.Equal(t, []string{"1201", "1001", "1202"}, ids(alice))
	_, err := lib.FeedJSON(ctx, alice, "", 10)
	require.NoError(t, err)
	row, err := lib.AppendRankedRowJSON(ctx, nil, alice, 2)
	require.NoError(t, err)
	require.Contains(t, string(row), `"reason":"New in Public"`)
	require.Equal(t, 1, src.asked)

	// A new feed is served once it is announced, not before.
	src.m[alice.UserID] = &rank.Feed{UserID: alice.UserID, ComputedAt: computed.Add(time.Hour), Items: []rank.Item{{VideoID: "1203"}, {VideoID: "1201"}}}
	require.Equal(t, []string{"1201", "1001", "1202"}, ids(alice))
	ann.announce(alice.UserID)
	require.Equal(t, []string{"1203", "1201"}, ids(alice))
	require.Equal(t, []string{"1203", "1201"}, ids(alice))
	require.Equal(t, 2, src.asked)

	// Access lost: gone at once from the cached feed, which is not read again.
	s, err := entitle.ParseSubject("role:sales")
	require.NoError(t, err)
	_, _, err = st.AddRule(ctx, entitle.Rule{Subject: s, Target: entitle.Target{Kind: entitle.VideoTarget, ID: "1203"}, Effect: entitle.Deny})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	require.Equal(t, []string{"1201"}, ids(alice))
	require.Equal(t, 2, src.asked)

	// A new content generation reads it again; so does age.
	require.NoError(t, lib.Reload(ctx))
	require.Equal(t, []string{"1201"}, ids(alice))
	require.Equal(t, 3, src.asked)
	clk.add(59 * time.Second)
	require.Equal(t, []string{"1201"}, ids(alice))
	require.Equal(t, 3, src.asked)
	clk.add(time.Second)
	require.Equal(t, []string{"1201"}, ids(alice))
	require.Equal(t, 4, src.asked)

	// "" (changes missed): every cached feed is read again on its next use.
	ann.announce("")
	require.Equal(t, []string{"1201"}, ids(alice))
	require.Equal(t, 5, src.asked)

	// No feed yet is remembered too, until announced.
	require.Empty(t, ids(bob))
	require.Empty(t, ids(bob))
	require.Equal(t, 6, src.asked)
	src.m[bob.UserID] = &rank.Feed{UserID: bob.UserID, Items: []rank.Item{{VideoID: "1101"}}}
	ann.announce(bob.UserID)
	require.Equal(t, []string{"1101"}, ids(bob))
	require.Equal(t, 7, src.asked)
}

func TestFeedCacheKeepsTheUsersServedLast(t *testing.T) {
	ctx := context.Background()
	feed := func(user string) *rank.Feed { return &rank.Feed{UserID: user, Items: []rank.Item{{VideoID: "1001"}}} }
	src := &feeds{m: map[string]*rank.Feed{alice.UserID: feed(alice.UserID), bob.UserID: feed(bob.UserID), gold.UserID: feed(gold.UserID)}}
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: src, FeedChanges: newAnnouncer(), MaxCachedFeeds: 2})
	read := func(v library.Viewer) int {
		before := src.asked
		_, err := lib.Feed(ctx, v, "", 10)
		require.NoError(t, err)
		return src.asked - before
	}
	require.Equal(t, 1, read(alice))
	require.Equal(t, 1, read(bob))
	require.Equal(t, 0, read(alice))
	require.Equal(t, 1, read(gold)) // bob, served least recently, makes room
	require.Equal(t, 0, read(alice))
	require.Equal(t, 0, read(gold))
	require.Equal(t, 1, read(bob))
}

// Users without a feed yet are kept apart, sixteen per user with a feed the
// cache may keep (least recently served out first), and do not push feeds
// out: a process whose users mostly have none reads each once, not on every
// home page.
func TestFeedCacheKeepsUsersWithoutAFeedApart(t *testing.T) {
	ctx := context.Background()
	src := &feeds{m: map[string]*rank.Feed{alice.UserID: {UserID: alice.UserID, Items: []rank.Item{{VideoID: "1001"}}}}}
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: src, FeedChanges: newAnnouncer(), MaxCachedFeeds: 2})
	read := func(v library.Viewer) int {
		before := src.asked
		_, err := lib.Feed(ctx, v, "", 10)
		require.NoError(t, err)
		return src.asked - before
	}
	user := func(i int) library.Viewer {
		return library.Viewer{UserID: fmt.Sprintf("u-new-%02d", i), Roles: []string{"eng"}}
	}
	require.Equal(t, 1, read(alice))
	for i := range 32 { // the bound: 16 × MaxCachedFeeds
		require.Equal(t, 1, read(user(i)), "user %d", i)
	}
	for i := range 32 {
		require.Equal(t, 0, read(user(i)), "user %d is kept", i)
	}
	require.Equal(t, 0, read(alice), "users without a feed do not push a feed out")
	require.Equal(t, 1, read(user(32))) // user 0, served least recently, makes room
	require.Equal(t, 0, read(user(1)))  // the others stay
	require.Equal(t, 1, read(user(0)))  // user 0 is read again (and pushes out user 2)
	require.Equal(t, 1, read(user(2)))  // and pushes out user 3

	// A feed that appears unannounced is served after FeedMaxAge, as for any
	// kept feed: the kept "none yet" is served until then.
	src.m[user(10).UserID] = &rank.Feed{UserID: user(10).UserID, Items: []rank.Item{{VideoID: "1001"}}}
	require.Equal(t, 0, read(user(10)), "not announced: the kept empty feed is served until FeedMaxAge")
}

func TestFeedErrorsAreNotCached(t *testing.T) {
	ctx := context.Background()
	src := &feeds{err: context.DeadlineExceeded}
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: src, FeedChanges: newAnnouncer()})
	for range 2 {
		_, err := lib.Feed(ctx, alice, "", 10)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	require.Equal(t, 2, src.asked)
	src.err = nil
	src.m = map[string]*rank.Feed{alice.UserID: {Items: []rank.Item{{VideoID: "1201"}}}}
	page, err := lib.Feed(ctx, alice, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"1201"}, feedIDs(page.Videos))
}

// gatedFeeds blocks each read until it is released.
type gatedFeeds struct {
	mu      sync.Mutex
	feed    *rank.Feed
	entered chan struct{}
	release chan struct{}
}

func (g *gatedFeeds) RankedFeed(context.Context, string, int64) (*rank.Feed, error) {
	g.mu.Lock()
	f := g.feed
	g.mu.Unlock()
	g.entered <- struct{}{}
	<-g.release
	return f, nil
}

// A feed read before its change was announced is served, but not kept:
// the next request reads the new one.
func TestAFeedReadAcrossAChangeIsNotKept(t *testing.T) {
	ctx := context.Background()
	src := &gatedFeeds{feed: &rank.Feed{Items: []rank.Item{{VideoID: "1201"}}}, entered: make(chan struct{}), release: make(chan struct{})}
	ann := newAnnouncer()
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: src, FeedChanges: ann})
	running(t, lib)
	got := make(chan []string)
	go func() {
		page, err := lib.Feed(ctx, alice, "", 10)
		if err != nil {
			got <- []string{err.Error()}
			return
		}
		got <- feedIDs(page.Videos)
	}()
	<-src.entered
	src.mu.Lock()
	src.feed = &rank.Feed{Items: []rank.Item{{VideoID: "1202"}}}
	src.mu.Unlock()
	ann.announce(alice.UserID)
	src.release <- struct{}{}
	require.Equal(t, []string{"1201"}, <-got)
	go func() { <-src.entered; src.release <- struct{}{} }()
	page, err := lib.Feed(ctx, alice, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"1202"}, feedIDs(page.Videos))
	// Kept now.
	page, err = lib.Feed(ctx, alice, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"1202"}, feedIDs(page.Videos))
}

// The home row is the first videos of Feed, in the row's shape.
func TestRankedRowIsTheFeedsHead(t *testing.T) {
	ctx := context.Background()
	items := []rank.Item{{VideoID: "1002"}, {VideoID: "1001", Reason: rank.Reason{Kind: rank.ReasonWatched, VideoID: "1201", FolderID: "12"}},
		{VideoID: "1201"}, {VideoID: "1202"}}
	src := &feeds{m: map[string]*rank.Feed{alice.UserID: {Items: items}}}
	for _, ann := range []library.FeedChanges{nil, newAnnouncer()} {
		lib, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: src, FeedChanges: ann})
		for range 2 {
			row, err := lib.AppendRankedRowJSON(ctx, []byte("x"), alice, 2)
			require.NoError(t, err)
			page, err := lib.Feed(ctx, alice, "", 2)
			require.NoError(t, err)
			want, err := json.Marshal(struct {
				Kind   string              `json:"kind"`
				Title  string              `json:"title"`
				Videos []library.FeedVideo `json:"videos"`
			}{library.RowRankedForYou, library.RankedRowTitle, page.Videos})
			require.NoError(t, err)
			require.Equal(t, "x"+string(want), string(row))
		}
		row, err := lib.AppendRankedRowJSON(ctx, []byte("x"), bob, 2)
		require.NoError(t, err)
		require.Equal(t, "x", string(row), "no feed: no row")
	}
}

func TestFeedsWithoutAnnouncementsAgeOut(t *testing.T) {
	ctx := context.Background()
	src := &feeds{m: map[string]*rank.Feed{alice.UserID: {UserID: alice.UserID, Items: []rank.Item{{VideoID: "1201"}}}}}
	clk := &clock{t: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: src, FeedChanges: library.NewLocalFeedChanges(), // nobody announces
		FeedMaxAge: 30 * time.Second, Now: clk.now})
	running(t, lib)
	ids := func() []string {
		page, err := lib.Feed(ctx, alice, "", 10)
		require.NoError(t, err)
		return feedIDs(page.Videos)
	}

	// Kept: the home row and the feed read the store once.
	require.Equal(t, []string{"1201"}, ids())
	_, err := lib.AppendRankedRowJSON(ctx, nil, alice, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"1201"}, ids())
	require.Equal(t, 1, src.asked)

	// A new feed, unannounced, is served once the kept one is FeedMaxAge old.
	src.m[alice.UserID] = &rank.Feed{UserID: alice.UserID, Items: []rank.Item{{VideoID: "1202"}, {VideoID: "1201"}}}
	clk.add(29 * time.Second)
	require.Equal(t, []string{"1201"}, ids())
	require.Equal(t, 1, src.asked)
	clk.add(time.Second)
	require.Equal(t, []string{"1202", "1201"}, ids())
	require.Equal(t, 2, src.asked)
}
