package library_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
)

// The encoded answers are byte for byte what encoding/json makes of the
// typed answers, on a library whose names and titles need escaping, for
// every folder page, video and home of many audiences.
func TestEncodedAnswersAreJSONMarshal(t *testing.T) {
	ctx := context.Background()
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 80, Videos: 700, Depth: 5, Rules: 60, Roles: 4, Segments: 2, Seed: 3, Awkward: true})
	require.NoError(t, err)
	st := librarytest.NewStatic(g.Snapshot, g.Rules)
	lib, err := library.New(st, &library.Options{PollInterval: -1, PageSize: 4})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	rng := rand.New(rand.NewPCG(5, 5))
	marshal := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}

	pages, videos, covers := 0, 0, 0
	for i := range 12 {
		v := library.Viewer{UserID: "u"}
		for _, r := range g.Roles {
			if rng.IntN(2) == 0 {
				v.Roles = append(v.Roles, r)
			}
		}
		if i%3 == 0 {
			v.Segments = map[string]string{"tier": g.Segments[rng.IntN(len(g.Segments))]}
		}
		h, err := lib.Home(ctx, v)
		require.NoError(t, err)
		hb, err := lib.HomeJSON(ctx, v)
		require.NoError(t, err)
		require.Equal(t, marshal(h), string(hb.JSON))

		for _, fid := range g.Snapshot.FolderIDs() {
			for cursor := ""; ; {
				p, err := lib.Folder(ctx, v, fid, cursor, 0)
				if err != nil {
					require.ErrorIs(t, err, library.ErrNotFound)
					_, err = lib.FolderJSON(ctx, v, fid, cursor, 0)
					require.ErrorIs(t, err, library.ErrNotFound)
					break
				}
				b, err := lib.FolderJSON(ctx, v, fid, cursor, 0)
				require.NoError(t, err)
				require.Equal(t, marshal(p), string(b.JSON), "folder %s cursor %q", fid, cursor)
				pages++
				if strings.Contains(string(b.JSON), `"cover":{`) {
					covers++
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
		}
		for _, id := range g.Snapshot.VideoIDs() {
			d, err := lib.Video(ctx, v, id)
			if err != nil {
				require.ErrorIs(t, err, library.ErrNotFound)
				continue
			}
			b, err := lib.VideoJSON(ctx, v, id)
			require.NoError(t, err)
			require.Equal(t, marshal(d), string(b.JSON), "video %s", id)
			videos++
		}
	}
	require.Greater(t, pages, 100, "enough folder pages compared")
	require.Greater(t, videos, 1000, "enough videos compared")
	require.Greater(t, covers, 20, "enough folder covers compared")
}
