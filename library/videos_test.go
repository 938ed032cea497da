package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
)

// TestVisibleVideosIsPlaybacksAccessCheck: random libraries, rules and
// viewers; lists of ids known and unknown, malformed, repeated, in any
// order. VisibleVideos yields exactly the ids Playback allows, in the list's
// order with their indexes, and the summary of each is the detail's; it
// stops when told to.
func TestVisibleVideosIsPlaybacksAccessCheck(t *testing.T) {
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 12))
	yielded := 0
	for round := range 20 {
		g, err := librarytest.Generate(librarytest.GenOptions{Folders: 10 + r.IntN(30), Videos: 20 + r.IntN(150), Depth: 1 + r.IntN(5),
			Rules: 5 + r.IntN(30), Roles: 4, Segments: 3, Seed: uint64(round) + seed})
		require.NoError(t, err)
		lib, err := library.New(librarytest.NewStatic(g.Snapshot, g.Rules), &library.Options{PollInterval: -1})
		require.NoError(t, err)
		all := g.Snapshot.VideoIDs()
		for i := range 5 {
			v := library.Viewer{UserID: fmt.Sprintf("u%d", i), Segments: map[string]string{"tier": g.Segments[r.IntN(len(g.Segments))]}}
			for _, role := range g.Roles {
				if r.IntN(2) == 0 {
					v.Roles = append(v.Roles, role)
				}
			}
			if round == 0 && i == 0 {
				require.ErrorIs(t, lib.VisibleVideos(ctx, v, all, func(int, library.VideoSummary) bool { return true }), library.ErrNotReady)
				require.NoError(t, lib.Refresh(ctx))
			} else if i == 0 {
				require.NoError(t, lib.Refresh(ctx))
			}
			var ids []string
			for range 1 + r.IntN(80) {
				switch r.IntN(6) {
				case 0:
					ids = append(ids, fmt.Sprint(900_000_000+r.IntN(1000))) // unknown
				case 1:
					ids = append(ids, "not an id:"+fmt.Sprint(r.IntN(9)))
				default:
					ids = append(ids, all[r.IntN(len(all))])
				}
			}
			var want []int
			for j, id := range ids {
				if _, err := lib.Playback(ctx, v, id); err == nil {
					want = append(want, j)
				}
			}
			stopAfter := len(want) + 1
			if len(want) > 0 && r.IntN(3) == 0 {
				stopAfter = 1 + r.IntN(len(want))
			}
			var got []int
			require.NoError(t, lib.VisibleVideos(ctx, v, ids, func(j int, s library.VideoSummary) bool {
				d, err := lib.Video(ctx, v, ids[j])
				require.NoError(t, err)
				require.Equal(t, library.VideoSummary{ID: d.ID, Title: d.Title, ThumbnailURL: d.ThumbnailURL, Thumbnails: d.Thumbnails,
					DurationSeconds: d.DurationSeconds, CreatedAt: d.CreatedAt}, s)
				got = append(got, j)
				return len(got) < stopAfter
			}))
			require.Equal(t, want[:min(len(want), stopAfter)], got)
			yielded += len(got)
		}
	}
	require.Positive(t, yielded, "some videos were visible")
}
