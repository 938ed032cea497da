package pgstore_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/storetest"
	"github.com/vidlib/vidlib/tree"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// open returns a migrated store in a fresh schema.
func open(t testing.TB) *pgstore.Store {
	t.Helper()
	s := openRaw(t)
	_, err := s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

func openRaw(t testing.TB) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), testenv.PostgresURL(t), nil)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func TestTreeStore(t *testing.T) {
	storetest.TestTreeStore(t, func(t *testing.T) tree.Store { return open(t) })
	storetest.TestContentFeed(t, func(t *testing.T) storetest.FeedStore { return open(t) })
}

func TestUserStore(t *testing.T) {
	storetest.TestUserStore(t, func(t *testing.T) auth.UserStore { return open(t) })
}

func TestRuleStore(t *testing.T) {
	storetest.TestRuleStore(t, func(t *testing.T) entitle.RuleStore { return open(t) })
	storetest.TestRuleFeed(t, func(t *testing.T) storetest.RuleFeedStore { return open(t) })
}

var specTables = []string{
	"users", "user_identities", "roles", "user_roles", "folders", "videos", "folder_videos", "entitlements",
	"user_video_rankings", "watch_events", "watch_sessions", "provider_events", "sync_runs", "audit_logs",
	"hubspot_context", "dead_letters", "outbox", "processed_events", "versions", "sync_state",
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	s := openRaw(t)
	migs, err := pgstore.Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, migs)

	// Several instances starting at once apply each migration exactly once.
	var wg sync.WaitGroup
	applied := make([][]int, 3)
	for i := range applied {
		wg.Go(func() {
			a, err := s.Migrate(ctx)
			require.NoError(t, err)
			applied[i] = a
		})
	}
	wg.Wait()
	total := 0
	for _, a := range applied {
		total += len(a)
	}
	require.Equal(t, len(migs), total, "every migration applied once across concurrent callers")

	again, err := s.Migrate(ctx)
	require.NoError(t, err)
	require.Empty(t, again, "forward-only and idempotent")

	for _, table := range specTables {
		var exists bool
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT to_regclass(current_schema() || '.' || $1) IS NOT NULL`, table).Scan(&exists))
		require.True(t, exists, "table %s", table)
	}
	for _, idx := range []string{"folders_parent_idx", "folders_path_idx", "folders_vimeo_folder_id_key", "videos_vimeo_video_id_key"} {
		var exists bool
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT to_regclass(current_schema() || '.' || $1) IS NOT NULL`, idx).Scan(&exists))
		require.True(t, exists, "index %s", idx)
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	_, err := s.Pool().Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`)
	require.NoError(t, err)
	_, err = s.Migrate(ctx)
	require.ErrorContains(t, err, "newer vidlib")
}

func TestAuditLogsAreAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	_, err := s.Pool().Exec(ctx, `INSERT INTO audit_logs (event_id, occurred_at, actor, action, seq, actor_kind, object_kind, hash)
		VALUES (gen_random_uuid(), now(), 'admin', 'rule.added', 1, 'admin', 'rule', '\x00')`)
	require.NoError(t, err, "appending is allowed")
	for _, stmt := range []string{
		`UPDATE audit_logs SET actor = 'mallory'`,
		`DELETE FROM audit_logs`,
		`TRUNCATE audit_logs`,
	} {
		_, err := s.Pool().Exec(ctx, stmt)
		require.ErrorContains(t, err, "append-only", stmt)
	}
	var n int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_logs WHERE actor = 'admin'`).Scan(&n))
	require.Equal(t, 1, n)
}

// TestPathsFollowAdjacency checks the materialised path column itself (the
// snapshot derives paths from parent links, so only SQL can see the column).
func TestPathsFollowAdjacency(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	folders := []tree.Folder{{VimeoID: "1", Name: "root"}, {VimeoID: "2", ParentVimeoID: "1"}, {VimeoID: "3", ParentVimeoID: "1"}}
	parent := "2"
	for i := range 12 { // a 12-deep chain under 2
		id := string(rune('a'+i)) + "x"
		folders = append(folders, tree.Folder{VimeoID: id, ParentVimeoID: parent})
		parent = id
	}
	_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.UpsertFolders(ctx, folders) })
	require.NoError(t, err)
	mismatches := func() int {
		var n int
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM folders f LEFT JOIN folders p ON p.id = f.parent_id
			WHERE f.path <> coalesce(p.path, '/') || f.id || '/'`).Scan(&n))
		return n
	}
	require.Zero(t, mismatches())
	maxDepth := func() int {
		var depth int
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT max(array_length(string_to_array(trim(both '/' from path), '/'), 1)) FROM folders`).Scan(&depth))
		return depth
	}
	require.Equal(t, 14, maxDepth(), "1 → 2 → 12 levels")
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.MoveFolder(ctx, "2", "3") })
	require.NoError(t, err)
	require.Zero(t, mismatches(), "the move rewrote every path of the subtree")
	require.Equal(t, 15, maxDepth(), "1 → 3 → 2 → 12 levels")
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.MoveFolder(ctx, "dx", "") })
	require.NoError(t, err)
	require.Zero(t, mismatches())
	require.Equal(t, 9, maxDepth(), "dx and the 8 levels below it, now at the top")
}

func TestOutboxCommitsWithTheChange(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	count := func() int {
		var n int
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n))
		return n
	}
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: "1"}}); err != nil {
			return err
		}
		if err := tx.EnqueueOutbox(ctx, "vimeo.sync.normalized", "folder:1", []byte(`{"x":1}`)); err != nil {
			return err
		}
		return tree.ErrConflict // fail after writing
	})
	require.ErrorIs(t, err, tree.ErrConflict)
	require.Zero(t, count(), "the event of a rolled-back change is not kept")
	v, err := s.Update(ctx, func(tx tree.Tx) error {
		return tx.EnqueueOutbox(ctx, "vimeo.sync.normalized", "folder:1", []byte(`{"x":1}`))
	})
	require.NoError(t, err)
	require.Zero(t, v, "an outbox row alone is not a content change")
	require.Equal(t, 1, count())
	var topic, key, payload string
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT topic, key, convert_from(payload, 'UTF8') FROM outbox`).Scan(&topic, &key, &payload))
	require.Equal(t, []string{"vimeo.sync.normalized", "folder:1", `{"x":1}`}, []string{topic, key, payload})
}

func TestAnalyticsConformance(t *testing.T) {
	storetest.TestAnalyticsStore(t, func(t *testing.T) storetest.AnalyticsStore { return open(t) })
}

func TestChatContextConformance(t *testing.T) {
	storetest.TestChatContextStore(t, func(t *testing.T) storetest.ChatContextStore { return open(t) })
}

// TestContentFeedGap: a version whose feed entries are gone (pruned, or
// written before the feed existed) is ErrFeedGap, never a partial answer.
func TestContentFeedGap(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for i := range 3 {
		_, err := s.Update(ctx, func(tx tree.Tx) error {
			return tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: "1", Name: strconv.Itoa(i)}})
		})
		require.NoError(t, err)
	}
	c, err := s.ContentChangesSince(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, tree.ContentChanges{From: 1, To: 3, Folders: []string{"1"}}, c)
	_, err = s.Pool().Exec(ctx, `DELETE FROM content_changes WHERE version = 2`)
	require.NoError(t, err)
	_, err = s.ContentChangesSince(ctx, 1)
	require.ErrorIs(t, err, tree.ErrFeedGap)
	c, err = s.ContentChangesSince(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, tree.ContentChanges{From: 2, To: 3, Folders: []string{"1"}}, c)
}

// TestRuleFeedGap: a version whose feed entry is gone (pruned, written
// before the feed existed) or was never written (a bulk load) is
// entitle.ErrFeedGap, never a partial answer.
func TestRuleFeedGap(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	var ids []int64
	for i := range 3 {
		r, _, err := s.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: entitle.Role, Name: "r" + strconv.Itoa(i)},
			Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow})
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	c, err := s.RuleChangesSince(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[1], ids[2]}, []int64{c.Added[0].ID, c.Added[1].ID})
	_, err = s.Pool().Exec(ctx, `DELETE FROM rule_changes WHERE version = 2`)
	require.NoError(t, err)
	_, err = s.RuleChangesSince(ctx, 1)
	require.ErrorIs(t, err, entitle.ErrFeedGap)
	c, err = s.RuleChangesSince(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, int64(3), c.To)
	require.Len(t, c.Added, 1)

	_, v, err := s.BulkAddRules(ctx, []entitle.Rule{{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.VideoTarget, ID: "7"}, Effect: entitle.Deny}})
	require.NoError(t, err)
	require.Equal(t, int64(4), v)
	_, err = s.RuleChangesSince(ctx, 3)
	require.ErrorIs(t, err, entitle.ErrFeedGap, "a bulk load writes no entry")
	_, v, err = s.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.VideoTarget, ID: "8"}, Effect: entitle.Deny})
	require.NoError(t, err)
	c, err = s.RuleChangesSince(ctx, 4)
	require.NoError(t, err)
	require.Equal(t, entitle.RuleChanges{From: 4, To: v, Added: c.Added}, c)
	require.Len(t, c.Added, 1)
}
