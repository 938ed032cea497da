package tree

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// settle returns local with changes applied, at version: the snapshot a
// store would load (IncludeDeleted) after committing them, computed in
// memory by running the same applier against memTx, which has the Tx
// semantics every store implements (store/storetest checks them): cascading
// folder deletes and restores, upserts that keep what only the mirror owns,
// placements replaced per video. What it cannot know it leaves as local had
// it: internal ids of new objects are 0 and UpdatedAt is not moved (nothing
// the mirror decides reads them); deletion times are its own, distinct per
// delete and later than every earlier one, which is all Diff compares.
func settle(ctx context.Context, local *Snapshot, changes []Change, version int64, now time.Time) (*Snapshot, error) {
	tx := newMemTx(local, now)
	if err := applyBatch(ctx, tx, changes); err != nil {
		return nil, fmt.Errorf("tree: settle: %w", err)
	}
	return tx.snapshot(version)
}

// memTx is a Tx over maps: the mirror's model of a store, for settle.
type memTx struct {
	folders    map[string]Folder
	videos     map[string]Video
	placements map[string]map[string]int // video → folder → sort order
	now        time.Time
}

func newMemTx(local *Snapshot, now time.Time) *memTx {
	fs, vs := local.Len()
	t := &memTx{folders: make(map[string]Folder, fs), videos: make(map[string]Video, vs),
		placements: make(map[string]map[string]int, vs), now: now.UTC().Truncate(time.Microsecond)}
	for f := range local.AllFolders() {
		t.folders[f.VimeoID] = *f
		if f.DeletedAt.After(t.now) {
			t.now = f.DeletedAt
		}
	}
	for v := range local.AllVideos() {
		t.videos[v.VimeoID] = *v
		if v.DeletedAt.After(t.now) {
			t.now = v.DeletedAt
		}
	}
	for _, p := range local.Placements() {
		ps := t.placements[p.VideoVimeoID]
		if ps == nil {
			ps = map[string]int{}
			t.placements[p.VideoVimeoID] = ps
		}
		ps[p.FolderVimeoID] = p.SortOrder
	}
	return t
}

// tick returns a deletion time later than every other one.
func (t *memTx) tick() time.Time {
	t.now = t.now.Add(time.Microsecond)
	return t.now
}

func (t *memTx) snapshot(version int64) (*Snapshot, error) {
	var ps []Placement
	for vid, fs := range t.placements {
		for fid, order := range fs {
			ps = append(ps, Placement{FolderVimeoID: fid, VideoVimeoID: vid, SortOrder: order})
		}
	}
	return New(version, slices.Collect(maps.Values(t.folders)), slices.Collect(maps.Values(t.videos)), ps)
}

// storeTime is a time as the stores keep it: UTC, microseconds.
func storeTime(x time.Time) time.Time {
	if x.IsZero() {
		return time.Time{}
	}
	return x.UTC().Truncate(time.Microsecond)
}

func (t *memTx) known(kind, id string) error {
	var ok bool
	if kind == "folder" {
		_, ok = t.folders[id]
	} else {
		_, ok = t.videos[id]
	}
	if !ok {
		return Errorf(ErrNotFound, kind, id, "not in the mirror")
	}
	return nil
}

func (t *memTx) UpsertFolders(_ context.Context, folders []Folder) error {
	for _, f := range folders {
		next := f
		next.CreatedAt, next.ModifiedAt = storeTime(f.CreatedAt), storeTime(f.ModifiedAt)
		next.ID, next.DeletedAt = 0, time.Time{}
		if cur, ok := t.folders[f.VimeoID]; ok {
			next.ID, next.DeletedAt = cur.ID, cur.DeletedAt
		}
		t.folders[f.VimeoID] = next
	}
	return nil
}

func (t *memTx) UpsertVideos(_ context.Context, videos []Video) error {
	for _, v := range videos {
		next := v
		next.CreatedAt, next.ModifiedAt = storeTime(v.CreatedAt), storeTime(v.ModifiedAt)
		next.ID, next.Hidden, next.DeletedAt, next.UpdatedAt = 0, false, time.Time{}, time.Time{}
		if cur, ok := t.videos[v.VimeoID]; ok {
			next.ID, next.Hidden, next.DeletedAt, next.UpdatedAt = cur.ID, cur.Hidden, cur.DeletedAt, cur.UpdatedAt
		}
		t.videos[v.VimeoID] = next
	}
	return nil
}

func (t *memTx) PlaceVideos(_ context.Context, ps []Placement) error {
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.VideoVimeoID] {
			seen[p.VideoVimeoID] = true
			t.placements[p.VideoVimeoID] = map[string]int{}
		}
		t.placements[p.VideoVimeoID][p.FolderVimeoID] = p.SortOrder
	}
	return nil
}

func (t *memTx) UnplaceVideos(_ context.Context, ids []string) error {
	for _, id := range ids {
		delete(t.placements, id)
	}
	return nil
}

func (t *memTx) MoveFolder(_ context.Context, id, parent string) error {
	if err := t.known("folder", id); err != nil {
		return err
	}
	f := t.folders[id]
	f.ParentVimeoID = parent
	t.folders[id] = f
	return nil
}

// subtree returns the folder and its descendants as the maps now have them.
func (t *memTx) subtree(id string) []string {
	children := map[string][]string{}
	for cid, f := range t.folders {
		if f.ParentVimeoID != "" {
			children[f.ParentVimeoID] = append(children[f.ParentVimeoID], cid)
		}
	}
	out := []string{id}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

func (t *memTx) DeleteFolder(_ context.Context, id string) error {
	if err := t.known("folder", id); err != nil {
		return err
	}
	ts := t.tick()
	for _, d := range t.subtree(id) {
		if f := t.folders[d]; !f.Deleted() {
			f.DeletedAt = ts
			t.folders[d] = f
		}
	}
	return nil
}

func (t *memTx) RestoreFolder(_ context.Context, id string) error {
	if err := t.known("folder", id); err != nil {
		return err
	}
	cur := t.folders[id]
	if !cur.Deleted() {
		return nil
	}
	if p, ok := t.folders[cur.ParentVimeoID]; ok && p.Deleted() {
		return Errorf(ErrConflict, "folder", id, "its parent is deleted: restore the parent first")
	}
	// Parents before children, as the stores do: a descendant comes back
	// only with its parent.
	for _, d := range t.subtree(id) {
		if f := t.folders[d]; f.DeletedAt.Equal(cur.DeletedAt) && (d == id || !t.folders[f.ParentVimeoID].Deleted()) {
			f.DeletedAt = time.Time{}
			t.folders[d] = f
		}
	}
	return nil
}

func (t *memTx) DeleteVideos(_ context.Context, ids []string) error {
	ts := t.tick()
	for _, id := range ids {
		if err := t.known("video", id); err != nil {
			return err
		}
		if v := t.videos[id]; !v.Deleted() {
			v.DeletedAt = ts
			t.videos[id] = v
		}
	}
	return nil
}

func (t *memTx) RestoreVideos(_ context.Context, ids []string) error {
	for _, id := range ids {
		if err := t.known("video", id); err != nil {
			return err
		}
		v := t.videos[id]
		v.DeletedAt = time.Time{}
		t.videos[id] = v
	}
	return nil
}

func (t *memTx) SetVideoHidden(_ context.Context, id string, hidden bool) error {
	if err := t.known("video", id); err != nil {
		return err
	}
	v := t.videos[id]
	v.Hidden = hidden
	t.videos[id] = v
	return nil
}

func (t *memTx) EnqueueOutbox(context.Context, string, string, []byte) error { return nil }

func (t *memTx) SetSyncState(context.Context, string, []byte) error { return nil }
