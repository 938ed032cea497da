package tree_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var dt0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fo(id, parent, name string, order int) tree.Folder {
	return tree.Folder{VimeoID: id, ParentVimeoID: parent, Name: name, SortOrder: order, CreatedAt: dt0, ModifiedAt: dt0}
}

func vi(id, title string) tree.Video {
	return tree.Video{VimeoID: id, Title: title, Status: tree.StatusAvailable, Visibility: tree.VisibilityAnybody, CreatedAt: dt0, ModifiedAt: dt0}
}

func pl(folder, video string, order int) tree.Placement {
	return tree.Placement{FolderVimeoID: folder, VideoVimeoID: video, SortOrder: order}
}

func deleted[T tree.Folder | tree.Video](x T) T {
	switch v := any(&x).(type) {
	case *tree.Folder:
		v.DeletedAt = dt0.Add(time.Hour)
	case *tree.Video:
		v.DeletedAt = dt0.Add(time.Hour)
	}
	return x
}

type side struct {
	folders    []tree.Folder
	videos     []tree.Video
	placements []tree.Placement
}

func (s side) snap(t *testing.T) *tree.Snapshot {
	snap, err := tree.New(0, s.folders, s.videos, s.placements)
	require.NoError(t, err)
	return snap
}

// base is a small library: root 1 with folders 2 (with 4 under it) and 3,
// videos 10..13.
func base() side {
	return side{
		folders:    []tree.Folder{fo("1", "", "Root", 0), fo("2", "1", "Sales", 0), fo("3", "1", "Support", 1), fo("4", "2", "Deals", 0)},
		videos:     []tree.Video{vi("10", "Intro"), vi("11", "Pitch"), vi("12", "Help"), vi("13", "Closing")},
		placements: []tree.Placement{pl("1", "10", 2), pl("2", "11", 1), pl("3", "12", 0), pl("4", "13", 0)},
	}
}

func TestDiffGolden(t *testing.T) {
	cases := map[string]func() (local, remote side){
		"unchanged":    func() (side, side) { return base(), base() },
		"empty_mirror": func() (side, side) { return side{}, base() },
		"everything_gone": func() (side, side) {
			return base(), side{folders: []tree.Folder{fo("1", "", "Root", 0)}}
		},
		"renames_and_edits": func() (side, side) {
			l, r := base(), base()
			r.folders[2].Name = "Customer Support"
			r.folders[1].SortOrder = 5 // only the position: folder.updated
			r.videos[0].Title = "Welcome"
			r.videos[0].Visibility = tree.VisibilityUnlisted
			r.videos[0].EmbedKey = "abc123"
			r.videos[1].Status = tree.StatusTranscoding
			r.videos[1].DurationSeconds = 0
			r.videos[2].ThumbnailURL = "https://i.vimeocdn.com/video/12_640.jpg"
			r.videos[2].Description = "new words"
			r.videos[3].ModifiedAt = dt0.Add(time.Minute) // only the timestamp
			l.videos[3].Hidden = true                     // the mirror's own: never a difference
			return l, r
		},
		"moves": func() (side, side) {
			l, r := base(), base()
			r.folders[3] = fo("4", "3", "Deals", 0)       // subtree move
			r.placements[0] = pl("3", "10", 1)            // video move
			r.placements[1] = pl("2", "11", 7)            // same folder, new position
			r.videos[0].ModifiedAt = dt0.Add(time.Minute) // a move bumps modified_time: no separate update
			return l, r
		},
		"swap_parent_and_child": func() (side, side) {
			// 2 was the parent of 4; now 4 is the parent of 2.
			l, r := base(), base()
			r.folders[1] = fo("2", "4", "Sales", 0)
			r.folders[3] = fo("4", "1", "Deals", 3)
			return l, r
		},
		"restores": func() (side, side) {
			l, r := base(), base()
			l.folders[1] = deleted(l.folders[1])
			l.folders[3] = deleted(l.folders[3])
			l.videos[1] = deleted(l.videos[1])
			r.folders[3] = fo("4", "3", "Deals (back)", 0) // restored elsewhere and renamed
			return l, r
		},
		"restore_keeps_gone_cascade_deleted": func() (side, side) {
			l, r := base(), base()
			// 2 was deleted with 4 under it (one instant); 3 separately.
			l.folders[1] = deleted(l.folders[1])
			l.folders[3] = deleted(l.folders[3])
			l.folders = append(l.folders, deleted(fo("5", "4", "Old deals", 0)), deleted(fo("6", "2", "Gone too", 1)))
			l.folders[4].DeletedAt = dt0.Add(-time.Hour) // deleted before, on its own: not in the cascade
			r.folders = r.folders[:3:3]                  // 2 is back; 4 (with 5 under it) and 6 are not
			r.videos = []tree.Video{r.videos[0], r.videos[1], r.videos[2]}
			r.placements = r.placements[:3:3]
			l.videos[3] = deleted(l.videos[3])
			return l, r
		},
		"creates_under_new_folders": func() (side, side) {
			l, r := base(), base()
			r.folders = append(r.folders, fo("6", "5", "Q2", 0), fo("5", "4", "2026", 0))
			r.videos = append(r.videos, vi("14", "Forecast"), vi("15", "Plan"))
			r.placements = append(r.placements, pl("6", "14", 0), pl("5", "15", 0))
			return l, r
		},
		"deletes_children_first": func() (side, side) {
			l, r := base(), base()
			r.folders = r.folders[:3:3]                                     // 4 gone
			r.folders = append([]tree.Folder{}, r.folders[0], r.folders[2]) // 2 gone too
			r.videos = []tree.Video{r.videos[0], r.videos[2]}
			r.placements = []tree.Placement{r.placements[0], r.placements[2]}
			l.videos[3] = deleted(l.videos[3]) // already deleted: not again
			return l, r
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			l, r := mk()
			changes := tree.Diff(l.snap(t), r.snap(t))
			var b strings.Builder
			for _, c := range changes {
				b.WriteString(c.String())
				b.WriteByte('\n')
			}
			golden := filepath.Join("testdata", "diff_"+name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./tree -run TestDiffGolden -update")
			require.Equal(t, string(want), b.String())

			// Applying the changes to the local side gives the remote side.
			got := applyToSides(t, l, changes)
			requireSameSnapshot(t, r.snap(t), got)
		})
	}
}

// applyToSides is an independent, obviously-correct oracle for what the
// changes mean: it edits flat lists by id.
func applyToSides(t *testing.T, l side, changes []tree.Change) *tree.Snapshot {
	folders := map[string]tree.Folder{}
	for _, f := range l.folders {
		folders[f.VimeoID] = f
	}
	videos := map[string]tree.Video{}
	for _, v := range l.videos {
		videos[v.VimeoID] = v
	}
	place := map[string]tree.Placement{}
	for _, p := range l.placements {
		place[p.VideoVimeoID] = p
	}
	for _, c := range changes {
		switch c.Kind {
		case tree.ChangeFolderCreated, tree.ChangeFolderRestored, tree.ChangeFolderMoved, tree.ChangeFolderRenamed, tree.ChangeFolderUpdated:
			folders[c.VimeoID] = *c.Folder
		case tree.ChangeFolderDeleted:
			delete(folders, c.VimeoID)
		case tree.ChangeVideoDeleted:
			delete(videos, c.VimeoID)
			delete(place, c.VimeoID)
		default:
			v := *c.Video
			videos[c.VimeoID] = v
			if c.Kind != tree.ChangeVideoUpdated {
				place[c.VimeoID] = tree.Placement{FolderVimeoID: c.To, VideoVimeoID: c.VimeoID, SortOrder: c.SortOrder}
			}
		}
	}
	var fs []tree.Folder
	for _, f := range folders {
		if !f.Deleted() {
			fs = append(fs, f)
		}
	}
	var vs []tree.Video
	var ps []tree.Placement
	for _, v := range videos {
		if v.Deleted() {
			continue
		}
		vs = append(vs, v)
		if p, ok := place[v.VimeoID]; ok {
			if f, ok := folders[p.FolderVimeoID]; ok && !f.Deleted() {
				ps = append(ps, p)
			}
		}
	}
	snap, err := tree.New(0, fs, vs, ps)
	require.NoError(t, err)
	return snap
}

func requireSameSnapshot(t *testing.T, want, got *tree.Snapshot) {
	t.Helper()
	require.Equal(t, want.FolderIDs(), got.FolderIDs())
	for _, id := range want.FolderIDs() {
		w, g := *want.Folder(id), *got.Folder(id)
		require.Equal(t, w.ParentVimeoID, g.ParentVimeoID, id)
		require.Empty(t, tree.FolderFieldsChanged(w, g), id)
	}
	require.Equal(t, want.VideoIDs(), got.VideoIDs())
	for _, id := range want.VideoIDs() {
		require.Empty(t, tree.VideoFieldsChanged(*want.Video(id), *got.Video(id)), id)
		require.Equal(t, want.FoldersOf(id), got.FoldersOf(id), id)
	}
	require.Equal(t, want.Placements(), got.Placements())
}
