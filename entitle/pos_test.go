package entitle

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Positions depend on the snapshot alone, and FolderAt/VideoAt at a position
// answer what Folder/Video answer for the id.
func TestPositionsDependOnTheSnapshotAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 20 {
		snap := genLibrary(t, r, 60, 300)
		a, err := New(snap, genRules(r, snap, 40), 1, nil)
		require.NoError(t, err)
		b, err := New(snap, genRules(r, snap, 40), 2, nil)
		require.NoError(t, err)
		for _, id := range snap.FolderIDs() {
			require.Equal(t, a.FolderPos(id), b.FolderPos(id), "folder %s", id)
			require.GreaterOrEqual(t, a.FolderPos(id), int32(0))
		}
		for _, id := range snap.VideoIDs() {
			require.Equal(t, a.VideoPos(id), b.VideoPos(id), "video %s", id)
		}
		require.Equal(t, int32(-1), a.FolderPos("999999999"))
		require.Equal(t, int32(-1), a.VideoPos("nope"))
		for range 10 {
			aud := genAudience(r).audience()
			for _, x := range []*Index{a, b} {
				v := x.Visible(aud)
				for _, id := range snap.FolderIDs() {
					require.Equal(t, v.Folder(id), v.FolderAt(x.FolderPos(id)), "folder %s", id)
				}
				for _, id := range snap.VideoIDs() {
					require.Equal(t, v.Video(id), v.VideoAt(x.VideoPos(id)), "video %s", id)
				}
				require.False(t, v.FolderAt(-1))
				require.False(t, v.VideoAt(-1))
			}
		}
	}
}
