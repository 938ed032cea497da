package library_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

func TestNotReadyUntilLoaded(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	lib, err := library.New(st, nil)
	require.NoError(t, err)
	require.False(t, lib.Ready())
	_, err = lib.Home(ctx, carol)
	require.ErrorIs(t, err, library.ErrNotReady)
	_, err = lib.FolderJSON(ctx, carol, librarytest.Public, "", 0)
	require.ErrorIs(t, err, library.ErrNotReady)
	_, err = lib.VideoJSON(ctx, carol, "1201")
	require.ErrorIs(t, err, library.ErrNotReady)
	require.NoError(t, lib.Refresh(ctx))
	require.True(t, lib.Ready())
	require.Equal(t, library.Status{}.Ready, false)
	s := lib.Status()
	require.Equal(t, 7, s.Folders)
	require.Equal(t, 11, s.Videos)
	require.Equal(t, 7, s.Rules)
}

func TestNewValidates(t *testing.T) {
	_, err := library.New(nil, nil)
	require.ErrorIs(t, err, library.ErrInvalid)
	_, err = library.New(memstore.New(), &library.Options{PageSize: 500, MaxPageSize: 100})
	require.ErrorIs(t, err, library.ErrInvalid)
}

func TestHome(t *testing.T) {
	lib, _ := seeded(t, nil)
	ctx := context.Background()

	// Public's cover is its first video with thumbnails (1201).
	cover := &library.Cover{VideoID: "1201", Thumbnails: []library.Thumbnail{
		{Width: 295, Height: 166, URL: "https://i.vimeocdn.com/video/1201-d_295x166"},
		{Width: 640, Height: 360, URL: "https://i.vimeocdn.com/video/1201-d_640x360"},
	}}
	h, err := lib.Home(ctx, carol)
	require.NoError(t, err)
	require.Equal(t, []library.FolderSummary{{ID: librarytest.Public, Name: "Public", FolderCount: 0, VideoCount: 5, Cover: cover}}, h.Folders)
	require.Equal(t, cover.Thumbnails, h.Rows[0].Videos[4].Thumbnails)
	require.Equal(t, []library.Thumbnail{}, h.Rows[0].Videos[0].Thumbnails, "never null")
	require.Equal(t, []string{"2001"}, videoIDs(h.Videos))
	require.Len(t, h.Rows, 1)
	require.Equal(t, library.RowRecentlyAdded, h.Rows[0].Kind)
	require.Equal(t, []string{"1205", "1204", "1203", "1202", "1201", "2001"}, videoIDs(h.Rows[0].Videos))

	h, err = lib.Home(ctx, alice)
	require.NoError(t, err)
	require.Equal(t, []library.FolderSummary{
		{ID: librarytest.Sales, Name: "Sales", FolderCount: 1, VideoCount: 0}, // Drafts holds only a transcoding video
		{ID: librarytest.Public, Name: "Public", FolderCount: 0, VideoCount: 5, Cover: cover},
	}, h.Folders)
	require.NotContains(t, videoIDs(h.Rows[0].Videos), "1002")
	require.Contains(t, videoIDs(h.Rows[0].Videos), "1001")

	h, err = lib.Home(ctx, gold)
	require.NoError(t, err)
	require.Equal(t, []library.FolderSummary{{ID: librarytest.Public, Name: "Public", FolderCount: 1, VideoCount: 5, Cover: cover}}, h.Folders)
	require.Equal(t, "1206", h.Rows[0].Videos[0].ID)
}

func TestFolder(t *testing.T) {
	lib, _ := seeded(t, nil)
	ctx := context.Background()

	p, err := lib.Folder(ctx, alice, librarytest.Sales, "", 0)
	require.NoError(t, err)
	require.Equal(t, library.FolderRef{ID: librarytest.Sales, Name: "Sales"}, p.Folder)
	require.Empty(t, p.Breadcrumb)
	require.Equal(t, []library.FolderSummary{{ID: librarytest.Deals, Name: "Deals", VideoCount: 1}}, p.Folders)
	require.Empty(t, p.Videos)
	require.Empty(t, p.NextCursor)

	p, err = lib.Folder(ctx, alice, librarytest.Deals, "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{librarytest.Sales}, refIDs(p.Breadcrumb))
	require.Equal(t, []string{"1001"}, videoIDs(p.Videos))

	p, err = lib.Folder(ctx, gold, librarytest.Secret, "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{librarytest.Public}, refIDs(p.Breadcrumb))
	require.Equal(t, []string{"1206"}, videoIDs(p.Videos))

	// The root is reachable; its listing is Home's.
	p, err = lib.Folder(ctx, carol, librarytest.Root, "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{librarytest.Public}, folderIDs(p.Folders))
	require.Equal(t, []string{"2001"}, videoIDs(p.Videos))

	for _, c := range []struct {
		v  library.Viewer
		id string
	}{
		{alice, librarytest.Drafts},      // exists, nothing visible inside
		{carol, librarytest.Sales},       // exists, not entitled
		{carol, librarytest.Secret},      // denied
		{bob, librarytest.Deals},         // other role
		{alice, "999999"},                // does not exist
		{alice, librarytest.Engineering}, // other role
	} {
		_, err := lib.Folder(ctx, c.v, c.id, "", 0)
		require.ErrorIs(t, err, library.ErrNotFound, "%s %s", c.v.UserID, c.id)
		_, err = lib.FolderJSON(ctx, c.v, c.id, "", 0)
		require.ErrorIs(t, err, library.ErrNotFound, "%s %s", c.v.UserID, c.id)
	}
	for _, id := range []string{"", "abc", "12a", "-1", "1/2", "123456789012345678901"} {
		_, err := lib.Folder(ctx, alice, id, "", 0)
		require.ErrorIs(t, err, library.ErrInvalid, id)
	}
}

func TestFolderPagination(t *testing.T) {
	lib, st := seeded(t, nil)
	ctx := context.Background()

	var got []string
	cursor := ""
	for range 10 {
		p, err := lib.Folder(ctx, gold, librarytest.Public, cursor, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Folders)+len(p.Videos), 2)
		got = append(got, folderIDs(p.Folders)...)
		got = append(got, videoIDs(p.Videos)...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	require.Equal(t, []string{librarytest.Secret, "1201", "1202", "1203", "1204", "1205"}, got)

	// A change between pages: the next page continues after the last item seen.
	p, err := lib.Folder(ctx, carol, librarytest.Public, "", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"1201", "1202"}, videoIDs(p.Videos))
	_, err = st.Update(ctx, func(tx tree.Tx) error { return tx.DeleteVideos(ctx, []string{"1201"}) })
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	p2, err := lib.Folder(ctx, carol, librarytest.Public, p.NextCursor, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"1203", "1204"}, videoIDs(p2.Videos))

	for _, c := range []string{"!!", "bm9wZQ", "MXwtMXx2MQ", "MnwxfHYx", "MXwxfHgx", "MXwxfHZhYmM"} {
		_, err := lib.Folder(ctx, carol, librarytest.Public, c, 0)
		require.ErrorIs(t, err, library.ErrInvalid, c)
		_, err = lib.FolderJSON(ctx, carol, librarytest.Public, c, 0)
		require.ErrorIs(t, err, library.ErrInvalid, c)
	}
	for _, l := range []int{-1, library.DefaultMaxPageSize + 1} {
		_, err := lib.Folder(ctx, carol, librarytest.Public, "", l)
		require.ErrorIs(t, err, library.ErrInvalid)
	}
}

func TestVideo(t *testing.T) {
	lib, _ := seeded(t, nil)
	ctx := context.Background()

	d, err := lib.Video(ctx, alice, "1001")
	require.NoError(t, err)
	require.Equal(t, "Video 1001", d.Title)
	require.Equal(t, &library.FolderRef{ID: librarytest.Deals, Name: "Deals"}, d.Folder)
	require.Equal(t, []string{librarytest.Sales, librarytest.Deals}, refIDs(d.Breadcrumb))

	d, err = lib.Video(ctx, carol, "2001")
	require.NoError(t, err)
	require.Equal(t, librarytest.Root, d.Folder.ID)
	require.Empty(t, d.Breadcrumb)

	d, err = lib.Video(ctx, gold, "1206")
	require.NoError(t, err)
	require.Equal(t, []string{librarytest.Public, librarytest.Secret}, refIDs(d.Breadcrumb))

	for _, c := range []struct {
		v  library.Viewer
		id string
	}{
		{alice, "1002"}, {alice, "1011"}, {bob, "1011"}, {carol, "1101"}, {carol, "1206"}, {alice, "1206"}, {carol, "424242"},
	} {
		_, err := lib.Video(ctx, c.v, c.id)
		require.ErrorIs(t, err, library.ErrNotFound, "%s %s", c.v.UserID, c.id)
		_, err = lib.VideoJSON(ctx, c.v, c.id)
		require.ErrorIs(t, err, library.ErrNotFound, "%s %s", c.v.UserID, c.id)
		_, err = lib.PlaybackJSON(ctx, c.v, c.id)
		require.ErrorIs(t, err, library.ErrNotFound, "%s %s", c.v.UserID, c.id)
	}
	_, err = lib.Video(ctx, alice, "x1")
	require.ErrorIs(t, err, library.ErrInvalid)
	_, err = lib.Playback(ctx, alice, "")
	require.ErrorIs(t, err, library.ErrInvalid)
}

type recAuditor struct {
	mu   sync.Mutex
	recs []library.AccessRecord
	err  error
}

func (a *recAuditor) RecordAccess(_ context.Context, r library.AccessRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.recs = append(a.recs, r)
	return nil
}

func TestPlayback(t *testing.T) {
	aud := &recAuditor{}
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Auditor: aud})
	ctx := context.Background()

	p, err := lib.Playback(ctx, bob, "1101")
	require.NoError(t, err)
	require.Equal(t, "https://player.vimeo.com/video/1101?h="+librarytest.EmbedKey, p.EmbedURL)
	require.Contains(t, p.EmbedHTML, `<iframe src="https://player.vimeo.com/video/1101?h=abc123"`)
	p, err = lib.Playback(ctx, carol, "1201")
	require.NoError(t, err)
	require.Equal(t, "https://player.vimeo.com/video/1201", p.EmbedURL)

	_, err = lib.Playback(ctx, carol, "1101")
	require.ErrorIs(t, err, library.ErrNotFound)
	require.Equal(t, []library.AccessRecord{
		{Action: "playback", UserID: "u-bob", VideoID: "1101", Allowed: true, Time: aud.recs[0].Time},
		{Action: "playback", UserID: "u-carol", VideoID: "1201", Allowed: true, Time: aud.recs[1].Time},
		{Action: "playback", UserID: "u-carol", VideoID: "1101", Allowed: false, Time: aud.recs[2].Time},
	}, aud.recs)

	aud.err = errors.New("audit down")
	_, err = lib.PlaybackJSON(ctx, carol, "1201")
	require.ErrorIs(t, err, library.ErrUnavailable)
	_, err = lib.PlaybackJSON(ctx, carol, "1101") // a denial stays a 404 even so
	require.ErrorIs(t, err, library.ErrNotFound)
}

func TestMe(t *testing.T) {
	lib, _ := seeded(t, nil)
	m, err := lib.Me(context.Background(), alice)
	require.NoError(t, err)
	require.Equal(t, &library.Me{User: library.MeUser{ID: "u-alice", Email: "alice@example.com", Name: "Alice"},
		Roles: []string{"sales"}, Segments: map[string]string{}}, m)
}

func TestJSONMatchesTyped(t *testing.T) {
	lib, _ := seeded(t, nil)
	ctx := context.Background()
	for _, v := range []library.Viewer{alice, bob, carol, gold} {
		h, err := lib.Home(ctx, v)
		require.NoError(t, err)
		b, err := lib.HomeJSON(ctx, v)
		require.NoError(t, err)
		var hj library.Home
		require.NoError(t, json.Unmarshal(b.JSON, &hj))
		require.Equal(t, h.Folders, hj.Folders)
		require.Equal(t, videoIDs(h.Rows[0].Videos), videoIDs(hj.Rows[0].Videos))
		b2, err := lib.HomeJSON(ctx, v)
		require.NoError(t, err)
		require.Same(t, b, b2, "cached per audience")

		fp, err := lib.Folder(ctx, v, librarytest.Public, "", 3)
		require.NoError(t, err)
		fb, err := lib.FolderJSON(ctx, v, librarytest.Public, "", 3)
		require.NoError(t, err)
		var fj library.FolderPage
		require.NoError(t, json.Unmarshal(fb.JSON, &fj))
		require.Equal(t, fp.NextCursor, fj.NextCursor)
		require.Equal(t, fp.Folders, fj.Folders)
		require.Equal(t, videoIDs(fp.Videos), videoIDs(fj.Videos))
		require.NotEmpty(t, fb.Gzip())
	}
}

func TestRefreshFollowsVersions(t *testing.T) {
	lib, st := seeded(t, nil)
	ctx := context.Background()
	before, err := lib.HomeJSON(ctx, carol)
	require.NoError(t, err)
	_, err = lib.Video(ctx, carol, "1101")
	require.ErrorIs(t, err, library.ErrNotFound)

	// An entitlement change: only the index is rebuilt.
	_, _, err = st.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: librarytest.Engineering}, Effect: entitle.Allow})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	_, err = lib.Video(ctx, carol, "1101")
	require.NoError(t, err)
	after, err := lib.HomeJSON(ctx, carol)
	require.NoError(t, err)
	require.NotEqual(t, before.ETag, after.ETag)
	require.Contains(t, string(after.JSON), `"Engineering"`)

	// A mirrored edit: the tree is reloaded.
	_, err = st.Update(ctx, func(tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: librarytest.Engineering, ParentVimeoID: librarytest.Root, Name: "R&D", SortOrder: 1}})
	})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	h, err := lib.Home(ctx, carol)
	require.NoError(t, err)
	require.Contains(t, h.Folders, library.FolderSummary{ID: librarytest.Engineering, Name: "R&D", VideoCount: 1})

	// Hiding a video takes it out everywhere.
	_, err = st.Update(ctx, func(tx tree.Tx) error { return tx.SetVideoHidden(ctx, "1101", true) })
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	_, err = lib.VideoJSON(ctx, carol, "1101")
	require.ErrorIs(t, err, library.ErrNotFound)
	_, err = lib.FolderJSON(ctx, carol, librarytest.Engineering, "", 0)
	require.ErrorIs(t, err, library.ErrNotFound)
}

func TestSharedCache(t *testing.T) {
	cache := newMapCache()
	a, st := seeded(t, &library.Options{PollInterval: -1, Cache: cache})
	ctx := context.Background()
	ha, err := a.HomeJSON(ctx, alice)
	require.NoError(t, err)
	fa, err := a.FolderJSON(ctx, alice, librarytest.Sales, "", 0)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, _, sets := cache.stats(); return sets == 2 }, 10e9, 1e6)

	// A second instance on the same store finds both in the shared cache.
	b, err := library.New(st, &library.Options{PollInterval: -1, Cache: cache})
	require.NoError(t, err)
	require.NoError(t, b.Refresh(ctx))
	_, hits0, _ := cache.stats()
	hb, err := b.HomeJSON(ctx, alice)
	require.NoError(t, err)
	fb, err := b.FolderJSON(ctx, alice, librarytest.Sales, "", 0)
	require.NoError(t, err)
	_, hits1, _ := cache.stats()
	require.Equal(t, hits0+2, hits1)
	require.Equal(t, ha.JSON, hb.JSON)
	require.Equal(t, fa.ETag, fb.ETag)

	// Another audience is another key.
	_, err = b.HomeJSON(ctx, bob)
	require.NoError(t, err)
	_, hits2, _ := cache.stats()
	require.Equal(t, hits1, hits2)

	// Subtree invalidation reaches the shared cache.
	require.NoError(t, b.InvalidateFolder(ctx, librarytest.Sales))
	require.Equal(t, []string{librarytest.Sales, librarytest.Deals, librarytest.Drafts}, cache.invalidated[0])
	require.ErrorIs(t, b.InvalidateFolder(ctx, "777"), library.ErrNotFound)
}
