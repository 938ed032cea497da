package memstore_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/storetest"
	"github.com/vidlib/vidlib/tree"
)

func TestTreeStore(t *testing.T) {
	storetest.TestTreeStore(t, func(*testing.T) tree.Store { return memstore.New() })
	storetest.TestContentFeed(t, func(*testing.T) storetest.FeedStore { return memstore.New() })
}

func TestUserStore(t *testing.T) {
	storetest.TestUserStore(t, func(*testing.T) auth.UserStore { return memstore.New() })
}

func TestRuleStore(t *testing.T) {
	storetest.TestRuleStore(t, func(*testing.T) entitle.RuleStore { return memstore.New() })
	storetest.TestRuleFeed(t, func(*testing.T) storetest.RuleFeedStore { return memstore.New() })
}

// TestTreeOutboxReachesTheRelay: the events a tree transaction enqueues are
// relayed when it commits, and vanish with it when it fails.
func TestTreeOutboxReachesTheRelay(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		require.NoError(t, tx.EnqueueOutbox(ctx, events.TopicVimeoSyncNormalized, "video:1", []byte(`{"n":1}`)))
		return errors.New("boom")
	})
	require.Error(t, err)
	_, err = s.Update(ctx, func(tx tree.Tx) error {
		if err := tx.EnqueueOutbox(ctx, events.TopicVimeoSyncNormalized, "video:1", nil); err == nil {
			return errors.New("an empty payload was accepted")
		}
		if err := tx.EnqueueOutbox(ctx, events.TopicVimeoSyncNormalized, "video:1", []byte(`{"n":2}`)); err != nil {
			return err
		}
		return tx.EnqueueOutbox(ctx, events.TopicAudit, "video:1", []byte(`{"n":3}`))
	})
	require.NoError(t, err)
	var got []string
	n, err := s.RelayOutbox(ctx, 100, func(_ context.Context, batch []events.OutboxRecord) []error {
		for _, r := range batch {
			got = append(got, r.Topic+" "+string(r.Payload))
		}
		return make([]error, len(batch))
	})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{events.TopicVimeoSyncNormalized + ` {"n":2}`, events.TopicAudit + ` {"n":3}`}, got)
}

func TestAnalyticsConformance(t *testing.T) {
	storetest.TestAnalyticsStore(t, func(*testing.T) storetest.AnalyticsStore { return memstore.New() })
}

func TestChatContextConformance(t *testing.T) {
	storetest.TestChatContextStore(t, func(*testing.T) storetest.ChatContextStore { return memstore.New() })
}

// TestContentFeedRetention: the feed keeps tree.FeedRetention versions;
// further back is ErrFeedGap.
func TestContentFeedRetention(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	for i := range tree.FeedRetention + 2 {
		_, err := s.Update(ctx, func(tx tree.Tx) error {
			return tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: "1", Name: strconv.Itoa(i)}})
		})
		require.NoError(t, err)
	}
	_, err := s.ContentChangesSince(ctx, 1)
	require.ErrorIs(t, err, tree.ErrFeedGap)
	c, err := s.ContentChangesSince(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, tree.ContentChanges{From: 2, To: tree.FeedRetention + 2, Folders: []string{"1"}}, c)
}

// TestRuleFeedRetention: the feed keeps entitle.FeedRetention versions;
// further back is entitle.ErrFeedGap.
func TestRuleFeedRetention(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	r, _, err := s.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow})
	require.NoError(t, err)
	for range entitle.FeedRetention / 2 {
		_, err := s.RemoveRule(ctx, r.ID)
		require.NoError(t, err)
		r, _, err = s.AddRule(ctx, r)
		require.NoError(t, err)
	}
	v, err := s.EntitlementVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(entitle.FeedRetention+1), v)
	_, err = s.RuleChangesSince(ctx, 0)
	require.ErrorIs(t, err, entitle.ErrFeedGap)
	c, err := s.RuleChangesSince(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, []int64{1}, c.Removed, "the first rule, removed, then re-added under new ids")
	require.Equal(t, []entitle.Rule{r}, c.Added)
}
