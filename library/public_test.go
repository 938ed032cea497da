package library_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	lt "github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

var anonymous = library.Viewer{Anonymous: true}

func addRule(t *testing.T, st interface {
	AddRule(context.Context, entitle.Rule) (entitle.Rule, int64, error)
}, subject, target string, eff entitle.Effect, reason entitle.LockReason) {
	t.Helper()
	s, err := entitle.ParseSubject(subject)
	require.NoError(t, err)
	tg, err := entitle.ParseTarget(target)
	require.NoError(t, err)
	_, _, err = st.AddRule(context.Background(), entitle.Rule{Subject: s, Target: tg, Effect: eff, LockReason: reason})
	require.NoError(t, err)
}

// Anonymous viewers see public content only, and nothing without a public
// rule; teasers list videos locked, with a detail and no playback.
func TestPublicAndTeasers(t *testing.T) {
	ctx := context.Background()
	lib, st := seeded(t, nil)

	require.False(t, lib.PublicEnabled(), "no public rule yet")
	h, err := lib.Home(ctx, anonymous)
	require.NoError(t, err)
	require.Empty(t, h.Folders)
	require.Empty(t, h.Videos)
	_, err = lib.Folder(ctx, anonymous, lt.Public, "", 0)
	require.ErrorIs(t, err, library.ErrNotFound)

	addRule(t, st, "public", "folder:"+lt.Public, entitle.Allow, "")
	addRule(t, st, "public", "folder:"+lt.Secret, entitle.Deny, "") // "everyone" does not speak for anonymous visitors
	addRule(t, st, "everyone", "folder:"+lt.Engineering, entitle.Teaser, entitle.LockUpgrade)
	addRule(t, st, "public", "video:2001", entitle.Teaser, entitle.LockSignIn)
	require.NoError(t, lib.Refresh(ctx))
	require.True(t, lib.PublicEnabled())

	// Anonymous: the public folder (without Secret), and 2001 locked for sign-in.
	h, err = lib.Home(ctx, anonymous)
	require.NoError(t, err)
	require.Len(t, h.Folders, 1)
	require.NotNil(t, h.Folders[0].Cover, "the public folder's cover is one of its public videos")
	require.Equal(t, "1201", h.Folders[0].Cover.VideoID)
	h.Folders[0].Cover = nil
	require.Equal(t, []library.FolderSummary{{ID: lt.Public, Name: "Public", FolderCount: 0, VideoCount: 5}}, h.Folders)
	require.Equal(t, []string{"2001"}, videoIDs(h.Videos))
	require.True(t, h.Videos[0].Locked)
	require.Equal(t, "sign_in", h.Videos[0].LockReason)
	hb, err := lib.HomeJSON(ctx, anonymous)
	require.NoError(t, err)
	for _, hidden := range []string{"Sales", "Engineering", "Secret", "1001", "1101", "1206"} {
		require.NotContains(t, string(hb.JSON), hidden, "nothing else leaks, counts included")
	}
	for _, id := range []string{lt.Sales, lt.Deals, lt.Engineering, lt.Secret, "999"} {
		_, err := lib.Folder(ctx, anonymous, id, "", 0)
		require.ErrorIs(t, err, library.ErrNotFound, id)
		_, err = lib.FolderJSON(ctx, anonymous, id, "", 0)
		require.ErrorIs(t, err, library.ErrNotFound, id)
	}
	for _, id := range []string{"1001", "1101", "1206", "999"} {
		_, err := lib.Video(ctx, anonymous, id)
		require.ErrorIs(t, err, library.ErrNotFound, id)
		_, err = lib.Playback(ctx, anonymous, id)
		require.ErrorIs(t, err, library.ErrNotFound, id)
	}
	p, err := lib.Playback(ctx, anonymous, "1201")
	require.NoError(t, err)
	require.Equal(t, "1201", p.VideoID)
	d, err := lib.Video(ctx, anonymous, "2001")
	require.NoError(t, err)
	require.True(t, d.Locked)
	require.Equal(t, "sign_in", d.LockReason)
	_, err = lib.PlaybackJSON(ctx, anonymous, "2001")
	var le *library.LockedError
	require.True(t, errors.As(err, &le), "%v", err)
	require.Equal(t, "sign_in", le.Reason)
	require.ErrorIs(t, err, library.ErrLocked)

	// Carol (signed in, no role): public content too, 2001 playable (her
	// "everyone allow" beats the public teaser at the same level), and
	// Engineering listed locked for an upgrade.
	h, err = lib.Home(ctx, carol)
	require.NoError(t, err)
	require.Equal(t, []string{lt.Engineering, lt.Public}, folderIDs(h.Folders))
	require.False(t, h.Videos[0].Locked)
	fp, err := lib.Folder(ctx, carol, lt.Engineering, "", 0)
	require.NoError(t, err)
	require.Equal(t, []library.VideoSummary{{ID: "1101", Title: "Video 1101", ThumbnailURL: "https://i.vimeocdn.com/video/1101.jpg", Thumbnails: []library.Thumbnail{},
		DurationSeconds: 64, CreatedAt: lt.Base.Add(4 * 60e9), Locked: true, LockReason: "upgrade"}}, fp.Videos)
	vb, err := lib.VideoJSON(ctx, carol, "1101")
	require.NoError(t, err)
	require.Contains(t, string(vb.JSON), `"locked":true,"lock_reason":"upgrade"}`)
	_, err = lib.Playback(ctx, carol, "1101")
	require.True(t, errors.As(err, &le))
	require.Equal(t, "upgrade", le.Reason)

	// Bob (role eng): allow beats the teaser at the Engineering level.
	d, err = lib.Video(ctx, bob, "1101")
	require.NoError(t, err)
	require.False(t, d.Locked)
	vb, err = lib.VideoJSON(ctx, bob, "1101")
	require.NoError(t, err)
	require.NotContains(t, string(vb.JSON), "locked", "the cached locked detail is not served to bob")
	_, err = lib.Playback(ctx, bob, "1101")
	require.NoError(t, err)
}

// Videos whose Vimeo privacy keeps the embed from playing are not in the
// library, unless a setting lets password videos through.
func TestVimeoPrivacyHidesVideos(t *testing.T) {
	ctx := context.Background()
	for _, allow := range []bool{false, true} {
		lib, st := seeded(t, &library.Options{PollInterval: -1, Index: &entitle.Options{AllowPasswordVideos: allow}})
		_, err := st.Update(ctx, func(tx tree.Tx) error {
			_, videos, _ := lt.SeedTree()
			for i := range videos {
				switch videos[i].VimeoID {
				case "1201":
					videos[i].Visibility = tree.VisibilityPassword
				case "1202":
					videos[i].EmbedPrivacy = tree.EmbedPrivate
				case "1203":
					videos[i].Visibility = tree.VisibilityNobody
				}
			}
			return tx.UpsertVideos(ctx, videos)
		})
		require.NoError(t, err)
		require.NoError(t, lib.Refresh(ctx))
		p, err := lib.Folder(ctx, carol, lt.Public, "", 0)
		require.NoError(t, err)
		want := []string{"1204", "1205"}
		if allow {
			want = []string{"1201", "1204", "1205"}
		}
		require.Equal(t, want, videoIDs(p.Videos), "allow password: %v", allow)
		_, err = lib.Playback(ctx, carol, "1202")
		require.ErrorIs(t, err, library.ErrNotFound)
	}
}
