package vimeo_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func TestRecentPollsDownToTheWatermark(t *testing.T) {
	for _, epochHeader := range []bool{false, true} {
		name := "http date"
		if epochHeader {
			name = "epoch Last-Modified"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, &vimeotest.GenerateOptions{Seed: 12, Folders: 10, Videos: 250},
				&vimeotest.Options{LastModifiedEpoch: epochHeader}, nil)
			ctx := t.Context()

			// First poll: no watermark yet, one page.
			first, err := e.c.Recent(ctx, nil)
			require.NoError(t, err)
			require.Len(t, first.Videos, 100)
			require.Equal(t, 1, first.Calls)
			require.NotEmpty(t, first.LastModified)
			newest := e.acct.Videos()[len(e.acct.Videos())-1]
			require.True(t, first.Watermark.Equal(newest.Modified), "%s vs %s", first.Watermark, newest.Modified)

			// Nothing changed: 304, one call.
			same, err := e.c.Recent(ctx, &vimeo.RecentOptions{Since: first.Watermark, LastModified: first.LastModified})
			require.NoError(t, err)
			require.True(t, same.NotModified)
			require.Empty(t, same.Videos)
			require.Equal(t, 1, same.Calls)
			require.True(t, same.Watermark.Equal(first.Watermark))
			require.Equal(t, first.LastModified, same.LastModified)
			reqs := e.srv.Requests()
			require.Equal(t, first.LastModified, reqs[len(reqs)-1].IfModified, "Last-Modified is sent back verbatim")

			// Two edits later: exactly those two, newest first, in one call.
			e.clk.Advance(time.Minute)
			vs := e.acct.Videos()
			require.NoError(t, e.acct.RenameVideo(vs[3].ID, "renamed"))
			e.clk.Advance(time.Minute)
			require.NoError(t, e.acct.SetPrivacy(vs[7].ID, "unlisted"))
			next, err := e.c.Recent(ctx, &vimeo.RecentOptions{Since: first.Watermark.Add(time.Second), LastModified: same.LastModified})
			require.NoError(t, err)
			require.False(t, next.NotModified)
			require.Equal(t, []string{id(vs[7].ID), id(vs[3].ID)}, videoIDs(next.Videos))
			require.Equal(t, "unlisted", next.Videos[0].PrivacyView)
			require.Equal(t, vs[7].Hash, next.Videos[0].Hash)
			require.True(t, next.Watermark.After(first.Watermark))
			require.Equal(t, 1, next.Calls)
			require.NotEqual(t, first.LastModified, next.LastModified)
		})
	}
}

func videoIDs(vs []vimeo.Video) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func TestRecentPagesAndTruncates(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 13, Folders: 5, Videos: 400}, nil, nil)
	ctx := t.Context()
	since := e.clk.Now().Add(time.Hour).UTC().Truncate(time.Second)
	e.clk.Advance(time.Hour + time.Second) // edits land after the watermark's second
	vs := e.acct.Videos()
	for _, v := range vs[:150] {
		require.NoError(t, e.acct.RenameVideo(v.ID, v.Name+" (edited)"))
	}
	res, err := e.c.Recent(ctx, &vimeo.RecentOptions{Since: since})
	require.NoError(t, err)
	require.Len(t, res.Videos, 150)
	require.Equal(t, 2, res.Calls, "stops at the first video older than the watermark")
	require.False(t, res.Truncated)
	require.Equal(t, e.srv.Requests()[0].IfModified, since.Format("Mon, 02 Jan 2006 15:04:05 GMT"), "Since sent as an HTTP date")

	res, err = e.c.Recent(ctx, &vimeo.RecentOptions{Since: since, MaxPages: 1})
	require.NoError(t, err)
	require.True(t, res.Truncated)
	require.Len(t, res.Videos, 100)
}

func TestRecentFolders(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 14, Folders: 20, Videos: 30}, nil, nil)
	ctx := t.Context()
	base, err := e.c.Recent(ctx, &vimeo.RecentOptions{Folders: true})
	require.NoError(t, err)
	require.NotEmpty(t, base.Folders)

	e.clk.Advance(time.Minute)
	fs := e.acct.Folders()
	require.NoError(t, e.acct.RenameFolder(fs[4].ID, "Renamed"))
	res, err := e.c.Recent(ctx, &vimeo.RecentOptions{Since: base.Watermark.Add(time.Second), LastModified: base.LastModified,
		Folders: true, FolderSince: base.FolderWatermark.Add(time.Second)})
	require.NoError(t, err)
	require.True(t, res.NotModified, "no video changed")
	require.Len(t, res.Folders, 1)
	require.Equal(t, id(fs[4].ID), res.Folders[0].ID)
	require.Equal(t, "Renamed", res.Folders[0].Name)
	require.True(t, res.Folders[0].ParentKnown)
	require.True(t, res.FolderWatermark.After(base.FolderWatermark))
	require.Equal(t, 2, res.Calls)
}
