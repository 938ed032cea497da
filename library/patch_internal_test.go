package library

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

// stablePositions gives positions as entitle.Index.WithVideos keeps them: a
// video that stays a candidate (playable and placed) keeps its position, one
// that stops being one has -1, a new candidate gets the position it had
// before, if any, else one above every one given before. Folders keep theirs.
type stablePositions struct {
	folders map[string]int32
	videos  map[string]int32
	had     map[string]int32
	next    int32
}

func newStablePositions(snap *tree.Snapshot) *stablePositions {
	p := &stablePositions{folders: map[string]int32{}, videos: map[string]int32{}, had: map[string]int32{}}
	for i, id := range snap.FolderIDs() {
		p.folders[id] = int32(i)
	}
	p.update(snap)
	return p
}

// update moves the positions to snap.
func (p *stablePositions) update(snap *tree.Snapshot) {
	for id, pos := range p.videos {
		if v := snap.Video(id); pos >= 0 && (v == nil || !v.Playable() || len(snap.FoldersOf(id)) == 0) {
			p.videos[id] = -1
		}
	}
	for v := range snap.AllVideos() {
		if pos, ok := p.videos[v.VimeoID]; (!ok || pos < 0) && v.Playable() && len(snap.FoldersOf(v.VimeoID)) > 0 {
			if had, ok := p.had[v.VimeoID]; ok {
				p.videos[v.VimeoID] = had
				continue
			}
			p.videos[v.VimeoID], p.had[v.VimeoID] = p.next, p.next
			p.next++
		}
	}
}

func (p *stablePositions) FolderPos(id string) int32 {
	if pos, ok := p.folders[id]; ok {
		return pos
	}
	return -1
}

func (p *stablePositions) VideoPos(id string) int32 {
	if pos, ok := p.videos[id]; ok {
		return pos
	}
	return -1
}

// A content patched through random sequences of video moves, deletes,
// restores, new videos, sort-order, creation-time, picture, playability and
// text changes equals the content built from scratch for the same snapshot
// and positions: every folder's listing, covers and cover positions, every
// video's node (record, folders, position), the playable videos and the
// newest-first order; and its search index (an overlay of the root's)
// scores every query as one built from scratch does.
func TestPatchedContentEqualsBuilt(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) { testPatchedContent(t, seed) })
	}
}

func testPatchedContent(t *testing.T, seed uint64) {
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 50, Videos: 600, Depth: 4, Rules: 10, Roles: 3, Segments: 2, Seed: 20 + seed})
	require.NoError(t, err)
	snap, _, err := librarytest.WithText(g.Snapshot, 8+seed)
	require.NoError(t, err)
	other, _, err := librarytest.WithText(g.Snapshot, 9+seed)
	require.NoError(t, err)
	pos := newStablePositions(snap)
	c := buildContent(snap)
	c.setPositions(pos)
	root := c.searchIndex()

	queries := []string{"研修", "会社動画", "動", "ka", "lo ri", "men", "added", "zz"}
	for i, v := range other.Videos() {
		if i%40 == 0 {
			queries = append(queries, v.Title, strings.Fields(v.Description + " x")[0])
		}
	}
	for _, f := range snap.Folders()[:10] {
		queries = append(queries, f.Name)
	}

	rng := rand.New(rand.NewPCG(seed, 77))
	orig := snap.VideoIDs()
	ever := slices.Clone(orig)
	deleted := map[string]tree.Video{}
	cur, curSnap := c, snap
	counts := map[string]int{}
	for round := range 40 {
		var objs tree.Objects
		placementsOf := func(s *tree.Snapshot, video string) []tree.Placement {
			var ps []tree.Placement
			for _, f := range s.FoldersOf(video) {
				for p := range s.AllContents(f) {
					if p.VideoVimeoID == video {
						ps = append(ps, p)
					}
				}
			}
			return ps
		}
		vids, fids := curSnap.VideoIDs(), curSnap.FolderIDs()
		seen := map[string]bool{}
		for range 1 + rng.IntN(5) {
			id, f := vids[rng.IntN(len(vids))], fids[rng.IntN(len(fids))]
			if seen[id] {
				continue
			}
			seen[id] = true
			v := *curSnap.Video(id)
			ps := placementsOf(curSnap, id)
			op := ""
			switch k := rng.IntN(12); {
			case k < 2: // move (sometimes into two folders, sometimes nowhere)
				op = "move"
				ps = []tree.Placement{{FolderVimeoID: f, VideoVimeoID: id, SortOrder: rng.IntN(4)}}
				if g := fids[rng.IntN(len(fids))]; g != f && rng.IntN(3) == 0 {
					ps = append(ps, tree.Placement{FolderVimeoID: g, VideoVimeoID: id, SortOrder: rng.IntN(4)})
				}
				if rng.IntN(6) == 0 {
					ps = nil
				}
			case k == 2: // soft-delete
				op = "delete"
				deleted[id] = v
				v.DeletedAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
				ps = nil
			case k == 3: // restore one deleted before, or add a new one
				if len(deleted) > 0 && rng.IntN(2) == 0 {
					op = "restore"
					for did, dv := range deleted {
						id, v = did, dv
						break
					}
					delete(deleted, id)
					if seen[id] {
						continue
					}
					seen[id] = true
				} else {
					op = "add"
					id = "9" + strconv.Itoa(100000+round*10+len(objs.Videos))
					ever = append(ever, id)
					v.VimeoID, v.Title = id, "added "+id
				}
				ps = []tree.Placement{{FolderVimeoID: f, VideoVimeoID: id, SortOrder: rng.IntN(4)}}
			case k == 4: // sort order
				op = "reorder"
				for i := range ps {
					ps[i].SortOrder = rng.IntN(6)
				}
			case k == 5: // creation time
				op = "created"
				v.CreatedAt = v.CreatedAt.Add(time.Duration(rng.IntN(2000)-1000) * time.Hour)
			case k == 6: // pictures (having some or not, other ones)
				op = "pictures"
				switch {
				case len(v.Pictures) > 0 && rng.IntN(2) == 0:
					v.Pictures, v.ThumbnailURL = nil, ""
				default:
					v.ThumbnailURL = "https://i.vimeocdn.com/video/" + id + "_" + strconv.Itoa(round) + ".jpg"
					v.Pictures = []tree.Picture{{Width: 640, Height: 360, URL: v.ThumbnailURL}}
				}
			case k == 7: // playability
				op = "playable"
				if rng.IntN(2) == 0 {
					v.Hidden = !v.Hidden
				} else if v.Status == tree.StatusAvailable {
					v.Status = tree.StatusTranscoding
				} else {
					v.Status = tree.StatusAvailable
				}
			default: // text
				op = "text"
				src := other.Video(orig[rng.IntN(len(orig))])
				v.Title, v.Description, v.Tags = src.Title, src.Description, src.Tags
			}
			counts[op]++
			objs.Videos = append(objs.Videos, v)
			objs.Placements = append(objs.Placements, ps...)
		}
		next, err := curSnap.Patch(curSnap.Version()+1, objs)
		require.NoError(t, err, "round %d", round)
		ids := make([]string, len(objs.Videos))
		for i, v := range objs.Videos {
			ids[i] = v.VimeoID
		}
		pos.update(next)
		if rng.IntN(2) == 0 {
			cur.recent() // the patch then keeps the order rather than sorting anew
		}
		cur, curSnap = cur.patchVideos(next, ids, pos), next

		want := buildContent(next)
		want.setPositions(pos)
		msg := "round " + strconv.Itoa(round)
		requireSameContent(t, want, cur, ever, msg)

		got := cur.searchIndex()
		require.Same(t, root.postingIndex, got.postingIndex, "%s: the overlay shares the root's postings", msg)
		fresh := buildSearchIndexShards(want, 1)
		require.Equal(t, nodeIDs(fresh.videos), nodeIDs(got.videos), "%s: the documents", msg)
		require.Equal(t, fresh.pos, got.pos, "%s: the documents' positions", msg)
		for _, q := range queries {
			require.Equal(t, scores(fresh, q), scores(got, q), "%s: %q", msg, q)
		}
	}
	for _, op := range []string{"move", "delete", "add", "restore", "reorder", "created", "pictures", "playable", "text"} {
		require.Positive(t, counts[op], op)
	}
}

// requireSameContent compares a patched content with one built from scratch
// for the same snapshot and positions; ids are every video id there was.
func requireSameContent(t *testing.T, want, got *content_, ids []string, msg string) {
	t.Helper()
	require.Equal(t, len(want.folders), len(got.folders), msg)
	for id, wf := range want.folders {
		gf := got.folders[id]
		require.NotNil(t, gf, "%s: folder %s", msg, id)
		wl, gl := want.list(wf), got.list(gf)
		require.Equal(t, nodeIDs(wl.videos), keyIDs(got, gl.videos), "%s: folder %s lists", msg, id)
		require.Equal(t, nodeIDs(wl.covers), keyIDs(got, gl.covers), "%s: folder %s covers", msg, id)
		require.Equal(t, wl.coverPos, gl.coverPos, "%s: folder %s cover positions", msg, id)
		require.Equal(t, wf.pos, gf.pos, "%s: folder %s position", msg, id)
	}
	for _, id := range ids {
		wv, gv := want.video(id), got.video(id)
		if wv == nil {
			require.Nil(t, gv, "%s: video %s is gone", msg, id)
			continue
		}
		require.NotNil(t, gv, "%s: video %s", msg, id)
		require.Equal(t, *wv.v, *gv.v, "%s: video %s", msg, id)
		require.Equal(t, wv.pos, gv.pos, "%s: video %s position", msg, id)
		require.Equal(t, folderIDsOf(wv.folders), folderIDsOf(gv.folders), "%s: video %s folders", msg, id)
	}
	wp, gp := nodeIDs(want.playable), keyIDs(got, got.playable)
	slices.Sort(wp)
	slices.Sort(gp)
	require.Equal(t, wp, gp, "%s: the playable videos", msg)
	require.Equal(t, nodeIDs(want.recent()), keyIDs(got, got.recent()), "%s: newest first", msg)
}

func nodeIDs(vs []*videoNode) []string {
	out := make([]string, len(vs))
	for i, vn := range vs {
		out[i] = vn.v.VimeoID
	}
	return out
}

// keyIDs are the ids of key nodes, read through the content (a key node
// whose video is gone shows as "gone").
func keyIDs(c *content_, vs []*videoNode) []string {
	out := make([]string, len(vs))
	for i, vn := range vs {
		out[i] = "gone"
		if cv := c.cur(vn); cv != nil {
			out[i] = cv.v.VimeoID
		}
	}
	return out
}

func folderIDsOf(fs []*folderNode) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ref.ID
	}
	return out
}
