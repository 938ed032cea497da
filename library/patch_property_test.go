package library_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// patchStore is what the property test writes through and the Service reads.
type patchStore interface {
	library.Store
	tree.Store
	tree.ContentFeed
	AddRule(ctx context.Context, r entitle.Rule) (entitle.Rule, int64, error)
	RemoveRule(ctx context.Context, id int64) (int64, error)
}

// TestPatchedGenerationsEqualReloaded applies random sequences of video
// edits, moves, deletes, restores, placement changes, folder changes and
// rule changes through a real store, refreshes a Service (which patches),
// and compares its generation with one a second Service reloads from
// scratch (NoPatch): the snapshots, the index decisions and the answers to
// Home, Folder, Video, Playback and Search for several audiences.
func TestPatchedGenerationsEqualReloaded(t *testing.T) {
	t.Run("memstore", func(t *testing.T) {
		renamed := 0
		for seed := range uint64(6) {
			t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
				renamed += testPatchedEqualsReloaded(t, memstore.New(), seed, 60)
			})
		}
		// A folder change that keeps the folders as the index compiles
		// them (a rename that keeps the siblings' order) patches the
		// index, not the listings.
		require.Positive(t, renamed, "folder renames patched the index")
	})
	t.Run("pgstore", func(t *testing.T) {
		ctx := context.Background()
		st, err := pgstore.Open(ctx, testenv.PostgresURL(t), nil)
		require.NoError(t, err)
		t.Cleanup(st.Close)
		_, err = st.Migrate(ctx)
		require.NoError(t, err)
		testPatchedEqualsReloaded(t, st, 99, 40)
	})
}

var patchWords = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}

func patchVideo(rng *rand.Rand, id string) tree.Video {
	w := func() string { return patchWords[rng.IntN(len(patchWords))] }
	v := tree.Video{
		VimeoID: id, Title: w() + " " + w() + " " + id, Description: "about " + w(), Tags: []string{w()},
		Status: tree.StatusAvailable, Visibility: tree.VisibilityDisable, DurationSeconds: 10 + rng.IntN(100),
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1000)) * time.Hour),
	}
	if rng.IntN(3) > 0 {
		v.ThumbnailURL = "https://i.vimeocdn.com/video/" + id + "_" + w() + ".jpg"
		v.Pictures = []tree.Picture{{Width: 640, Height: 360, URL: v.ThumbnailURL}}
	}
	return v
}

// seedLibrary writes a random library through st: a root ("1"), folders
// under random parents and videos (patchVideo) placed in random folders.
func seedLibrary(t *testing.T, st tree.Store, rng *rand.Rand, newID func() string, folders, videos int) {
	t.Helper()
	ctx := context.Background()
	_, err := st.Update(ctx, func(tx tree.Tx) error {
		fs := []tree.Folder{{VimeoID: "1", Name: "Library"}}
		for i := range folders {
			fs = append(fs, tree.Folder{VimeoID: newID(), ParentVimeoID: fs[rng.IntN(len(fs))].VimeoID,
				Name: patchWords[rng.IntN(len(patchWords))] + " folder", SortOrder: i % 3})
		}
		if err := tx.UpsertFolders(ctx, fs); err != nil {
			return err
		}
		var vs []tree.Video
		var ps []tree.Placement
		for range videos {
			v := patchVideo(rng, newID())
			vs = append(vs, v)
			ps = append(ps, tree.Placement{FolderVimeoID: fs[rng.IntN(len(fs))].VimeoID, VideoVimeoID: v.VimeoID, SortOrder: rng.IntN(5)})
		}
		if err := tx.UpsertVideos(ctx, vs); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, ps)
	})
	require.NoError(t, err)
}

// testPatchedEqualsReloaded runs steps random rounds of changes through st
// (seed picks them), comparing the patching Service with a reloading one
// after each, and returns how many generations patched the index after a
// folder change.
func testPatchedEqualsReloaded(t *testing.T, st patchStore, seed uint64, steps int) int {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 21))
	next := 1000
	newID := func() string { next++; return strconv.Itoa(next) }

	// The initial library: a root, folders, videos placed in them, rules.
	seedLibrary(t, st, rng, newID, 14, 50)
	all := func() *tree.Snapshot {
		s, err := st.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
		require.NoError(t, err)
		return s
	}
	subjects := []entitle.Subject{
		{Kind: entitle.Everyone}, {Kind: entitle.Role, Name: "r0"}, {Kind: entitle.Role, Name: "r1"},
		{Kind: entitle.Segment, Name: "tier", Value: "gold"}, {Kind: entitle.User, Name: "u1"},
	}
	var ruleIDs []int64
	addRule := func(s *tree.Snapshot) {
		tgt := entitle.Target{Kind: entitle.FolderTarget, ID: s.FolderIDs()[rng.IntN(len(s.FolderIDs()))]}
		if rng.IntN(4) == 0 {
			tgt = entitle.Target{Kind: entitle.VideoTarget, ID: s.VideoIDs()[rng.IntN(len(s.VideoIDs()))]}
		}
		eff := entitle.Allow
		if rng.IntN(4) == 0 {
			eff = entitle.Deny
		}
		r, _, err := st.AddRule(ctx, entitle.Rule{Subject: subjects[rng.IntN(len(subjects))], Target: tgt, Effect: eff})
		if err == nil {
			ruleIDs = append(ruleIDs, r.ID)
		}
	}
	for range 12 {
		addRule(all())
	}

	core, logs := observer.New(zap.InfoLevel)
	// WarmSearch as the servers run: the searches below build each
	// generation's index, so the next one's is an overlay or a derivation
	// of it (a reload builds its own from scratch).
	lib, err := library.New(st, &library.Options{PollInterval: -1, RecentlyAdded: 8, Logger: zap.New(core), WarmSearch: true})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))

	viewers := []library.Viewer{
		{UserID: "u0"}, {UserID: "u1"}, {UserID: "u2", Roles: []string{"r0"}},
		{UserID: "u3", Roles: []string{"r0", "r1"}, Segments: map[string]string{"tier": "gold"}},
		{UserID: "u1", Roles: []string{"r1"}},
	}
	for step := range steps {
		var ops []string
		n := 1 + rng.IntN(3)
		if rng.IntN(3) == 0 {
			n = 1
		}
		s := all() // read before the transaction: a memstore Update holds the tree
		_, err := st.Update(ctx, func(tx tree.Tx) error {
			fids, vids := s.FolderIDs(), s.VideoIDs()
			for range n {
				f, v := fids[rng.IntN(len(fids))], vids[rng.IntN(len(vids))]
				var err error
				switch k := rng.IntN(20); {
				case k < 9: // a metadata edit (the common case, patched in place)
					nv := patchVideo(rng, v)
					old := s.Video(v)
					nv.Status, nv.Visibility, nv.EmbedPrivacy, nv.CreatedAt = old.Status, old.Visibility, old.EmbedPrivacy, old.CreatedAt
					if rng.IntN(4) > 0 { // keep whether it has thumbnails
						nv.Pictures, nv.ThumbnailURL = nil, ""
						if len(old.Pictures) > 0 {
							nv.Pictures = []tree.Picture{{Width: 1280, Height: 720, URL: "https://i.vimeocdn.com/video/" + v + "_" + strconv.Itoa(step)}}
						}
					}
					ops = append(ops, "edit "+v)
					err = tx.UpsertVideos(ctx, []tree.Video{nv})
				case k == 9: // status or privacy
					nv := *s.Video(v)
					nv.Status = []tree.VideoStatus{tree.StatusAvailable, tree.StatusTranscoding}[rng.IntN(2)]
					nv.Visibility = []tree.Visibility{tree.VisibilityDisable, tree.VisibilityNobody}[rng.IntN(2)]
					ops = append(ops, "status "+v)
					err = tx.UpsertVideos(ctx, []tree.Video{nv})
				case k == 10:
					ops = append(ops, "hide "+v)
					err = tx.SetVideoHidden(ctx, v, !s.Video(v).Hidden)
				case k == 11:
					if s.Video(v).Deleted() {
						ops = append(ops, "restore video "+v)
						err = tx.RestoreVideos(ctx, []string{v})
					} else {
						ops = append(ops, "delete video "+v)
						err = tx.DeleteVideos(ctx, []string{v})
					}
				case k == 12: // move a video, sometimes into two folders, sometimes nowhere
					ps := []tree.Placement{{FolderVimeoID: f, VideoVimeoID: v, SortOrder: rng.IntN(5)}}
					if g := fids[rng.IntN(len(fids))]; g != f && rng.IntN(3) == 0 {
						ps = append(ps, tree.Placement{FolderVimeoID: g, VideoVimeoID: v, SortOrder: rng.IntN(5)})
					}
					ops = append(ops, "place "+v)
					if rng.IntN(5) == 0 {
						err = tx.UnplaceVideos(ctx, []string{v})
					} else {
						err = tx.PlaceVideos(ctx, ps)
					}
				case k == 13: // a new video
					nv := patchVideo(rng, newID())
					ops = append(ops, "new video "+nv.VimeoID)
					if err = tx.UpsertVideos(ctx, []tree.Video{nv}); err == nil && !s.Folder(f).Deleted() {
						err = tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: f, VideoVimeoID: nv.VimeoID}})
					}
				case k == 14: // rename or reorder a folder
					nf := *s.Folder(f)
					nf.Name = patchWords[rng.IntN(len(patchWords))] + " renamed"
					if rng.IntN(2) == 0 {
						nf.SortOrder = rng.IntN(3)
					}
					ops = append(ops, "rename "+f)
					err = tx.UpsertFolders(ctx, []tree.Folder{nf})
				case k == 15: // move a folder
					p := fids[rng.IntN(len(fids))]
					if f == "1" || s.Folder(p).Deleted() || s.Folder(f).Deleted() || slices.Contains(s.Subtree(f), p) {
						continue
					}
					ops = append(ops, "move "+f+" under "+p)
					err = tx.MoveFolder(ctx, f, p)
				case k == 16:
					if f == "1" {
						continue
					}
					if s.Folder(f).Deleted() {
						if s.Folder(s.Folder(f).ParentVimeoID).Deleted() {
							continue
						}
						ops = append(ops, "restore folder "+f)
						err = tx.RestoreFolder(ctx, f)
					} else {
						ops = append(ops, "delete folder "+f)
						err = tx.DeleteFolder(ctx, f)
					}
				case k == 17: // a new folder
					if s.Folder(f).Deleted() {
						continue
					}
					id := newID()
					ops = append(ops, "new folder "+id)
					err = tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: id, ParentVimeoID: f, Name: "new " + patchWords[rng.IntN(len(patchWords))]}})
				default: // a rule change (with or without content changes)
					if len(ruleIDs) > 0 && rng.IntN(2) == 0 {
						i := rng.IntN(len(ruleIDs))
						ops = append(ops, "remove rule")
						_, err = st.RemoveRule(ctx, ruleIDs[i])
						ruleIDs = slices.Delete(ruleIDs, i, i+1)
					} else {
						ops = append(ops, "add rule")
						addRule(s)
					}
				}
				if err != nil {
					return fmt.Errorf("%v: %w", ops, err)
				}
			}
			return nil
		})
		require.NoError(t, err)
		require.NoError(t, lib.Refresh(ctx))
		ref, err := library.New(st, &library.Options{PollInterval: -1, RecentlyAdded: 8, NoPatch: true})
		require.NoError(t, err)
		require.NoError(t, ref.Refresh(ctx))
		requireSameGeneration(t, ref, lib, all(), viewers, fmt.Sprintf("step %d %v", step, ops))
	}
	patched := logs.FilterMessage("generation patched").Len()
	kept := logs.FilterMessage("generation patched").FilterField(zap.Bool("index_kept", true)).
		FilterField(zap.Bool("listings_patched", true)).Len()
	reloads := logs.FilterMessage("reloading the tree").All()
	require.Empty(t, reloads, "every change was patched in")
	require.Greater(t, patched, steps/2, "content changes were patched")
	require.Greater(t, kept, steps/10, "metadata edits kept the index and the listings")
	// Moves, deletes, restores, new videos and status changes (with no
	// folder change in the same step) patch the index and the listings.
	moved := logs.FilterMessage("generation patched").FilterField(zap.Bool("index_kept", false)).
		FilterField(zap.Bool("listings_patched", true)).Len()
	require.Greater(t, moved, steps/10, "changes of videos alone patched the index and the listings")
	renamed := 0 // the index patched after a folder change
	for _, e := range logs.FilterMessage("generation patched").FilterField(zap.Bool("index_patched", true)).All() {
		if e.ContextMap()["folders_changed"].(int64) > 0 {
			renamed++
		}
	}
	t.Logf("%d generations patched: %d kept the index and the listings, %d patched both, %d patched the index after a folder change", patched, kept, moved, renamed)
	return renamed
}

// requireSameGeneration compares what two services serve.
func requireSameGeneration(t *testing.T, want, got *library.Service, all *tree.Snapshot, viewers []library.Viewer, msg string) {
	t.Helper()
	ctx := context.Background()
	sa, sb := want.Status(), got.Status()
	require.Equal(t, sa.ContentVersion, sb.ContentVersion, msg)
	require.Equal(t, sa.EntitlementVersion, sb.EntitlementVersion, msg)
	snapA, snapB := library.GenerationSnapshot(want), library.GenerationSnapshot(got)
	require.Equal(t, snapA.Version(), snapB.Version(), msg)
	idxA, err := want.Index()
	require.NoError(t, err)
	idxB, err := got.Index()
	require.NoError(t, err)
	// The index names things (explanations, the ranking pipeline, the
	// admin) from the generation's own snapshot, also when it was kept.
	require.Same(t, snapB, idxB.Snapshot(), "%s: the index's snapshot", msg)
	require.Equal(t, idxA.Version(), idxB.Version(), msg)
	require.Equal(t, idxA.Rules(), idxB.Rules(), "%s: the rules", msg)
	require.Equal(t, snapA.FolderIDs(), snapB.FolderIDs(), msg)
	require.Equal(t, snapA.Folders(), snapB.Folders(), msg)
	require.Equal(t, snapA.Videos(), snapB.Videos(), msg)
	require.Equal(t, snapA.Placements(), snapB.Placements(), msg)
	for _, id := range snapA.VideoIDs() {
		require.Equal(t, snapA.FoldersOf(id), snapB.FoldersOf(id), msg)
	}
	same := func(what string, x, y *library.Body, errX, errY error) {
		t.Helper()
		if errX != nil || errY != nil {
			require.Error(t, errX, "%s: %s", msg, what)
			require.Error(t, errY, "%s: %s", msg, what)
			require.Equal(t, errors.Is(errX, library.ErrNotFound), errors.Is(errY, library.ErrNotFound), "%s: %s", msg, what)
			return
		}
		require.Equal(t, string(x.JSON), string(y.JSON), "%s: %s", msg, what)
	}
	for _, v := range viewers {
		aud := entitle.NewAudience(v.UserID, v.Roles, v.Segments)
		va, vb := idxA.Visible(aud), idxB.Visible(aud)
		require.Equal(t, va.VideoIDs(), vb.VideoIDs(), "%s: %s sees", msg, v.UserID)
		require.Equal(t, va.FolderIDs(), vb.FolderIDs(), "%s: %s sees", msg, v.UserID)
		for _, id := range all.VideoIDs() {
			require.Equal(t, idxA.Check(aud, id), idxB.Check(aud, id), "%s: check %s", msg, id)
		}
		x, errX := want.HomeJSON(ctx, v)
		y, errY := got.HomeJSON(ctx, v)
		same("home", x, y, errX, errY)
		for _, id := range all.FolderIDs() {
			x, errX := want.FolderJSON(ctx, v, id, "", 0)
			y, errY := got.FolderJSON(ctx, v, id, "", 0)
			same("folder "+id, x, y, errX, errY)
		}
		for _, id := range all.VideoIDs() {
			x, errX := want.VideoJSON(ctx, v, id)
			y, errY := got.VideoJSON(ctx, v, id)
			same("video "+id, x, y, errX, errY)
			x, errX = want.PlaybackJSON(ctx, v, id)
			y, errY = got.PlaybackJSON(ctx, v, id)
			same("playback "+id, x, y, errX, errY)
		}
		for _, q := range append(slices.Clone(patchWords), "folder", "renamed", "al", "charlie delta") {
			x, errX := want.SearchJSON(ctx, v, library.SearchQuery{Q: q, Limit: 100})
			y, errY := got.SearchJSON(ctx, v, library.SearchQuery{Q: q, Limit: 100})
			same("search "+q, x, y, errX, errY)
		}
	}
}
