package vimeosource_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/vimeosource"
	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestFromWalkMatchesTheAccount walks a generated fake account and checks the
// mapped snapshot against the account's own model, object by object.
func TestFromWalkMatchesTheAccount(t *testing.T) {
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 7, Folders: 60, Videos: 500})
	require.NoError(t, err)
	embeds := map[int64]string{}
	for i, v := range acct.Videos()[:3] {
		embeds[v.ID] = []string{"private", "whitelist", "public"}[i]
		require.NoError(t, acct.SetEmbedPrivacy(v.ID, embeds[v.ID]))
	}
	tagged := map[int64][]string{}
	for i, v := range acct.Videos() {
		if i%7 == 0 {
			tags := []string{"Épisode " + strconv.Itoa(i), "研修", "Épisode " + strconv.Itoa(i)}
			require.NoError(t, acct.SetTags(v.ID, tags...))
			tagged[v.ID] = tags[:2] // repeated names are dropped
		}
	}
	srv := vimeotest.Start(t, acct, nil)
	c, err := vimeo.New(srv.Token(), &vimeo.Options{BaseURL: srv.URL()})
	require.NoError(t, err)
	res, err := c.Walk(context.Background(), itoa(root), nil)
	require.NoError(t, err)
	require.True(t, res.Trustworthy(), "%v", res.Problems)

	folders, videos, placements := vimeosource.FromWalk(res)
	snap, err := tree.New(0, folders, videos, placements)
	require.NoError(t, err)
	nf, nv := snap.Len()
	require.Equal(t, 60, nf)
	require.Equal(t, 500, nv)
	require.Equal(t, []string{itoa(root)}, snap.Roots())

	statuses := map[tree.VideoStatus]int{}
	for _, f := range acct.Folders() {
		got := snap.Folder(itoa(f.ID))
		if got == nil {
			continue // outside the root
		}
		require.Equal(t, f.Name, got.Name)
		if f.ID != root {
			require.Equal(t, itoa(f.ParentID), got.ParentVimeoID)
		}
	}
	for _, v := range acct.Videos() {
		got := snap.Video(itoa(v.ID))
		if got == nil {
			continue
		}
		require.Equal(t, v.Name, got.Title)
		require.Equal(t, []string{itoa(v.FolderID)}, snap.FoldersOf(got.VimeoID))
		require.True(t, got.Status.Valid(), got.Status)
		require.True(t, got.Visibility.Valid(), "visibility %q", got.Visibility)
		want := tree.EmbedPublic // the fake's default, as Vimeo's
		if e, ok := embeds[v.ID]; ok {
			want = tree.EmbedPrivacy(e)
		}
		require.Equal(t, want, got.EmbedPrivacy, "video %d", v.ID)
		if got.Visibility == tree.VisibilityUnlisted {
			require.NotEmpty(t, got.EmbedKey, "an unlisted video carries its hash")
		}
		require.Equal(t, tagged[v.ID], got.Tags)
		if v.PictureID == 0 {
			require.Nil(t, got.Pictures)
		} else {
			require.Len(t, got.Pictures, 7, "every size Vimeo renders")
			widest := got.Pictures[0]
			for _, p := range got.Pictures {
				require.Positive(t, p.Height)
				if p.Width > widest.Width {
					widest = p
				}
			}
			require.Equal(t, widest.URL, got.ThumbnailURL, "the thumbnail URL is the widest size")
		}
		statuses[got.Status]++
	}
	require.Greater(t, statuses[tree.StatusAvailable], 0)
	require.Greater(t, statuses[tree.StatusTranscoding]+statuses[tree.StatusTranscodeError], 0, "the generator makes some unplayable videos")
}

func TestVisibility(t *testing.T) {
	require.Equal(t, tree.VisibilityUnlisted, vimeosource.Visibility("unlisted"))
	require.Equal(t, tree.Visibility(""), vimeosource.Visibility("stock"), "unknown values map to unknown")
	require.Equal(t, tree.EmbedPrivate, vimeosource.EmbedPrivacy("private"))
	require.Equal(t, tree.EmbedPrivacy(""), vimeosource.EmbedPrivacy("anywhere"), "unknown values map to unknown")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// One mapping, called from both places: a video or folder read on its own
// maps to the record the walk made of it (a single read knows no position).
func TestSingleReadsMapLikeTheWalk(t *testing.T) {
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 11, Folders: 30, Videos: 200})
	require.NoError(t, err)
	for i, v := range acct.Videos()[:12] {
		require.NoError(t, acct.SetTags(v.ID, "tag "+strconv.Itoa(i), " "))
		require.NoError(t, acct.SetEmbedPrivacy(v.ID, []string{"private", "whitelist", "public"}[i%3]))
	}
	srv := vimeotest.Start(t, acct, nil)
	c, err := vimeo.New(srv.Token(), &vimeo.Options{BaseURL: srv.URL()})
	require.NoError(t, err)
	src, err := vimeosource.New(c, itoa(root), nil)
	require.NoError(t, err)
	ctx := context.Background()
	w, err := src.Walk(ctx)
	require.NoError(t, err)
	require.True(t, w.Complete, "%v", w.Problems)
	walked, err := tree.New(0, w.Folders, w.Videos, w.Placements)
	require.NoError(t, err)

	for _, wv := range w.Videos {
		rv, err := src.Video(ctx, wv.VimeoID)
		require.NoError(t, err)
		require.Equal(t, wv, rv.Video, "video %s", wv.VimeoID)
		require.Equal(t, walked.FoldersOf(wv.VimeoID), []string{rv.FolderVimeoID}, "folder of video %s", wv.VimeoID)
	}
	for _, wf := range w.Folders {
		rf, err := src.Folder(ctx, wf.VimeoID)
		require.NoError(t, err)
		got := rf.Folder
		require.Zero(t, got.SortOrder, "a single read knows no position")
		got.SortOrder = wf.SortOrder
		if wf.VimeoID == itoa(root) {
			got.ParentVimeoID = "" // the walk's root is its top level
		}
		require.Equal(t, wf, got, "folder %s", wf.VimeoID)
	}
}
