package consumers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/store/memstore"
)

// feedCache records what the pipeline caches.
type feedCache struct {
	mu    sync.Mutex
	feeds map[string]*rank.Feed
}

func (c *feedCache) SetRankedFeed(_ context.Context, f *rank.Feed, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.feeds[f.UserID] = f
	return nil
}

func rankingStore(t *testing.T) (*memstore.Store, string, string) {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	var ids []string
	for _, p := range []struct{ sub, role string }{{"alice", "sales"}, {"bob", "eng"}} {
		u, _, err := st.ProvisionUser(ctx, auth.Identity{Issuer: "https://issuer.test", Subject: p.sub}, auth.User{Email: p.sub + "@example.com"})
		require.NoError(t, err)
		require.NoError(t, st.PutRole(ctx, auth.Role{Name: p.role}))
		require.NoError(t, st.GrantRole(ctx, u.ID, p.role))
		ids = append(ids, u.ID)
	}
	return st, ids[0], ids[1]
}

func watch(t *testing.T, st *memstore.Store, user, video string, complete bool) analytics.Applied {
	t.Helper()
	at := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	sid := uuid.NewString()
	evs := []analytics.Event{{ID: uuid.NewString(), Type: analytics.TypePlaybackStarted, SessionID: sid, UserID: user, VideoID: video, OccurredAt: at, ReceivedAt: at}}
	typ, pos := analytics.TypeHeartbeat, 30.0
	if complete {
		typ, pos = analytics.TypeCompleted, 60
	}
	evs = append(evs, analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: sid, UserID: user, VideoID: video, Position: pos,
		OccurredAt: at.Add(time.Duration(pos) * time.Second), ReceivedAt: at.Add(time.Duration(pos) * time.Second)})
	out, err := st.ApplyWatchEvents(context.Background(), evs, analytics.Rules{}.WithDefaults())
	require.NoError(t, err)
	return out
}

func featuresMessage(t *testing.T, user, video string) events.Message {
	t.Helper()
	e, err := events.New(context.Background(), events.Event{Type: analytics.EventTypeFeatures, Source: "test", Subject: "video:" + video, Key: "user:" + user},
		analytics.Features{UserID: user, VideoID: video, LastEventAt: time.Now()})
	require.NoError(t, err)
	m, err := e.Message(events.TopicRankingFeatures)
	require.NoError(t, err)
	return m
}

func storedIDs(t *testing.T, st *memstore.Store, user string) []string {
	t.Helper()
	f, err := st.RankedFeed(context.Background(), user, 0)
	require.NoError(t, err)
	out := []string{}
	for _, it := range f.Items {
		out = append(out, it.VideoID)
	}
	return out
}

func TestRankingPipeline(t *testing.T) {
	ctx := context.Background()
	st, alice, bob := rankingStore(t)
	pub := &recordingPublisher{}
	cache := &feedCache{feeds: map[string]*rank.Feed{}}
	k, err := consumers.NewRanking(st, pub, &consumers.RankingOptions{Cache: cache})
	require.NoError(t, err)

	require.NoError(t, k.Full(ctx))
	// alice (sales): Deals' 1001 (1002 is denied), the public videos and Welcome; bob (eng) Engineering's 1101 instead.
	require.ElementsMatch(t, []string{"1001", "2001", "1201", "1202", "1203", "1204", "1205"}, storedIDs(t, st, alice))
	require.ElementsMatch(t, []string{"1101", "2001", "1201", "1202", "1203", "1204", "1205"}, storedIDs(t, st, bob))
	require.Equal(t, storedIDs(t, st, alice)[0], cache.feeds[alice].Items[0].VideoID, "the cache holds the same feed")
	require.Len(t, pub.Messages(), 2)
	require.Equal(t, events.TopicRankingUpdated, pub.Messages()[0].Topic)

	// alice finishes 1201 and starts 1202: her feed changes with the next features.
	watch(t, st, alice, "1201", true)
	watch(t, st, alice, "1202", false)
	require.NoError(t, k.Handle(ctx, ptr(featuresMessage(t, alice, "1202"))))
	require.NoError(t, k.Dirty(ctx))
	got := storedIDs(t, st, alice)
	require.NotContains(t, got, "1201", "a finished video leaves the feed")
	require.Equal(t, "1202", got[0], "continue watching first")
	f, err := st.RankedFeed(ctx, alice, 0)
	require.NoError(t, err)
	require.Equal(t, rank.ReasonContinue, f.Items[0].Reason.Kind)
	require.Len(t, pub.Messages(), 3, "one ranking.updated for the one recomputed user")

	// A user whose roles come from token groups (none granted): the audience
	// the API recorded decides what is ranked for them.
	ctx2 := context.Background()
	carol, _, err := st.ProvisionUser(ctx2, auth.Identity{Issuer: "https://issuer.test", Subject: "carol"}, auth.User{Email: "carol@example.com"})
	require.NoError(t, err)
	require.NoError(t, st.RecordAudience(ctx2, carol.ID, []string{"eng"}, nil))
	require.NoError(t, k.Full(ctx))
	require.Contains(t, storedIDs(t, st, carol.ID), "1101", "Engineering, through the recorded role")

	// Sales loses its folder: after the version change alice's feed has no Sales video.
	rules, _, err := st.ListRules(ctx)
	require.NoError(t, err)
	require.Equal(t, entitle.Target{Kind: entitle.FolderTarget, ID: librarytest.Sales}, rules[0].Target)
	_, err = st.RemoveRule(ctx, rules[0].ID)
	require.NoError(t, err)
	require.NoError(t, k.Full(ctx))
	require.NotContains(t, storedIDs(t, st, alice), "1001")
}

func ptr[T any](v T) *T { return &v }

func TestRankingRunConsumesFeatures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, alice, _ := rankingStore(t)
	bus, err := membus.New(nil)
	require.NoError(t, err)
	k, err := consumers.NewRanking(st, bus, &consumers.RankingOptions{Debounce: 10 * time.Millisecond, VersionPoll: 20 * time.Millisecond})
	require.NoError(t, err)
	updated := make(chan string, 100)
	go func() {
		_ = bus.Subscribe(ctx, events.Subscription{Group: "t", Topics: []string{events.TopicRankingUpdated}}, func(_ context.Context, m *events.Message) error {
			e, err := m.Event()
			if err == nil {
				var u consumers.RankingUpdated
				if e.DecodeData(&u) == nil {
					updated <- u.UserID
				}
			}
			return nil
		})
	}()
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, bus) }()
	require.Eventually(t, func() bool { _, err := st.RankedFeed(ctx, alice, 0); return err == nil }, 5*time.Second, 10*time.Millisecond)

	watch(t, st, alice, "1203", false)
	require.NoError(t, bus.Publish(ctx, featuresMessage(t, alice, "1203")))
	require.Eventually(t, func() bool { return storedIDs(t, st, alice)[0] == "1203" }, 5*time.Second, 10*time.Millisecond)

	// A rule change is seen through the version poll.
	rules, _, err := st.ListRules(ctx)
	require.NoError(t, err)
	_, err = st.RemoveRule(ctx, rules[0].ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, id := range storedIDs(t, st, alice) {
			if id == "1001" {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.NotEmpty(t, updated)
}
