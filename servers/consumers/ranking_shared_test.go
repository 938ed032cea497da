package consumers_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/rank/ranktest"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

// treeReads counts the tree and rule reads the pipeline makes.
type treeReads struct {
	*memstore.Store
	loads atomic.Int64
}

func (s *treeReads) LoadSnapshot(ctx context.Context, o tree.LoadOptions) (*tree.Snapshot, error) {
	s.loads.Add(1)
	return s.Store.LoadSnapshot(ctx, o)
}

func (s *treeReads) ListRules(ctx context.Context) ([]entitle.Rule, int64, error) {
	s.loads.Add(1)
	return s.Store.ListRules(ctx)
}

// In one process with the library, the pipeline ranks over the library's
// loaded index: the same feeds as over its own copy, no tree or rules read
// from the store, and a rule change reaches the feeds once the library has
// loaded it.
func TestRankingOverTheLibrarysIndex(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, alice, bob := rankingStore(t)
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	reads := &treeReads{Store: st}
	bus, err := membus.New(nil)
	require.NoError(t, err)
	k, err := consumers.NewRanking(reads, bus, &consumers.RankingOptions{Index: lib, VersionPoll: 10 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, k.Full(ctx))
	require.ElementsMatch(t, []string{"1001", "2001", "1201", "1202", "1203", "1204", "1205"}, storedIDs(t, st, alice))
	require.ElementsMatch(t, []string{"1101", "2001", "1201", "1202", "1203", "1204", "1205"}, storedIDs(t, st, bob))
	require.Zero(t, reads.loads.Load(), "no second copy of the tree and rules")

	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, bus) }()
	rules, _, err := st.ListRules(ctx)
	require.NoError(t, err)
	_, err = st.RemoveRule(ctx, rules[0].ID) // Sales loses its folder
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond) // polls see the library's index, still the old one
	require.Contains(t, storedIDs(t, st, alice), "1001")
	require.NoError(t, lib.Refresh(ctx))
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
	require.Zero(t, reads.loads.Load())
}

// The pipeline over the library's index, on random libraries, rules, rule
// changes and watch histories: no stored feed ever holds a video the user may
// not see (the independent oracle, with the rules of the index ranked over).
func TestSharedIndexFeedsNeverHoldWhatTheUserMayNotSee(t *testing.T) {
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 16))
	checked := 0
	for round := range 6 {
		g, err := librarytest.Generate(librarytest.GenOptions{Folders: 10 + r.IntN(30), Videos: 30 + r.IntN(150), Depth: 1 + r.IntN(5),
			Rules: 5 + r.IntN(25), Roles: 4, Segments: 3, Seed: seed + uint64(round)})
		require.NoError(t, err)
		st := memstore.New()
		_, err = st.Update(ctx, func(tx tree.Tx) error {
			if err := tx.UpsertFolders(ctx, g.Snapshot.Folders()); err != nil {
				return err
			}
			if err := tx.UpsertVideos(ctx, g.Snapshot.Videos()); err != nil {
				return err
			}
			return tx.PlaceVideos(ctx, g.Snapshot.Placements())
		})
		require.NoError(t, err)
		for _, rule := range g.Rules {
			rule.ID = 0
			_, _, err := st.AddRule(ctx, rule)
			require.NoError(t, err)
		}
		type user struct {
			id    string
			roles []string
			segs  map[string]string
		}
		var users []user
		ids := g.Snapshot.VideoIDs()
		for i := range 6 {
			u, _, err := st.ProvisionUser(ctx, auth.Identity{Issuer: "https://issuer.test", Subject: fmt.Sprint("s", i)}, auth.User{Email: fmt.Sprint("u", i, "@example.com")})
			require.NoError(t, err)
			us := user{id: u.ID, segs: map[string]string{"tier": g.Segments[r.IntN(len(g.Segments))]}}
			for _, role := range g.Roles {
				if r.IntN(2) == 0 {
					us.roles = append(us.roles, role)
				}
			}
			require.NoError(t, st.RecordAudience(ctx, u.ID, us.roles, us.segs))
			for range r.IntN(6) { // watched anything, visible or not
				watch(t, st, u.ID, ids[r.IntN(len(ids))], r.IntN(2) == 0)
			}
			users = append(users, us)
		}
		lib, err := library.New(st, &library.Options{PollInterval: -1})
		require.NoError(t, err)
		require.NoError(t, lib.Refresh(ctx))
		k, err := consumers.NewRanking(st, &recordingPublisher{}, &consumers.RankingOptions{Index: lib})
		require.NoError(t, err)
		for change := range 4 {
			require.NoError(t, k.Full(ctx))
			idx, err := lib.Index()
			require.NoError(t, err)
			rules := idx.Rules()
			for _, u := range users {
				f, err := st.RankedFeed(ctx, u.id, 0)
				if err != nil {
					require.ErrorIs(t, err, rank.ErrNoFeed)
					continue
				}
				for _, it := range f.Items {
					require.True(t, ranktest.Visible(g.Snapshot, rules, u.id, u.roles, u.segs, it.VideoID),
						"round %d change %d: %s ranked %s", round, change, u.id, it.VideoID)
					checked++
				}
			}
			// Rules change (some removed, a deny added), then the library loads them.
			cur, _, err := st.ListRules(ctx)
			require.NoError(t, err)
			for _, rule := range cur {
				if r.IntN(4) == 0 {
					_, err := st.RemoveRule(ctx, rule.ID)
					require.NoError(t, err)
				}
			}
			folders := g.Snapshot.Folders()
			_, _, err = st.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: entitle.Role, Name: g.Roles[r.IntN(len(g.Roles))]},
				Target: entitle.Target{Kind: entitle.FolderTarget, ID: folders[r.IntN(len(folders))].VimeoID}, Effect: entitle.Deny})
			if !errors.Is(err, entitle.ErrDuplicate) { // a rule for that subject and folder exists: the change is the removals
				require.NoError(t, err)
			}
			require.NoError(t, lib.Refresh(ctx))
		}
	}
	require.Greater(t, checked, 300, "the generator must produce feeds to check")
	t.Logf("checked %d ranked items", checked)
}
