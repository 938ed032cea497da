package memstore

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

var _ tree.Store = (*Store)(nil)

// treeState is the mirror. Update clones it, lets fn change the clone, and
// swaps the clone in only when fn succeeds: a failed transaction leaves the
// store exactly as it was.
type treeState struct {
	version      int64
	nextFolderID int64
	nextVideoID  int64
	folders      map[string]tree.Folder
	videos       map[string]tree.Video
	placements   map[string]map[string]int // video → folder → sort order
	syncRuns     []tree.SyncRun
	syncState    map[string][]byte // named sync state; replaced, never mutated, by a transaction
}

func newTreeState() *treeState {
	return &treeState{
		folders:    map[string]tree.Folder{},
		videos:     map[string]tree.Video{},
		placements: map[string]map[string]int{},
	}
}

func (s *treeState) clone() *treeState {
	c := *s
	c.folders = maps.Clone(s.folders)
	c.videos = maps.Clone(s.videos)
	c.placements = make(map[string]map[string]int, len(s.placements))
	for v, fs := range s.placements {
		c.placements[v] = maps.Clone(fs)
	}
	return &c
}

// LoadSnapshot implements tree.Store.
func (s *Store) LoadSnapshot(ctx context.Context, opts tree.LoadOptions) (*tree.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.treeMu.RLock()
	st := s.tree
	folders := make([]tree.Folder, 0, len(st.folders))
	for _, f := range st.folders {
		if opts.IncludeDeleted || !f.Deleted() {
			folders = append(folders, f)
		}
	}
	videos := make([]tree.Video, 0, len(st.videos))
	for _, v := range st.videos {
		if opts.IncludeDeleted || !v.Deleted() {
			videos = append(videos, v)
		}
	}
	var ps []tree.Placement
	for vid, fs := range st.placements {
		for fid, order := range fs {
			if !opts.IncludeDeleted && (st.folders[fid].Deleted() || st.videos[vid].Deleted()) {
				continue
			}
			ps = append(ps, tree.Placement{FolderVimeoID: fid, VideoVimeoID: vid, SortOrder: order})
		}
	}
	version := st.version
	s.treeMu.RUnlock()
	return tree.New(version, folders, videos, ps)
}

// ContentVersion implements tree.Store.
func (s *Store) ContentVersion(ctx context.Context) (int64, error) {
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	return s.tree.version, ctx.Err()
}

// Update implements tree.Store.
func (s *Store) Update(ctx context.Context, fn func(tree.Tx) error) (int64, error) {
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	t := &treeTx{st: s.tree.clone(), now: norm(time.Now())}
	if err := fn(t); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if t.dirty {
		t.st.version++
		s.recordChanges(t.st.version, t.folders, t.videos)
	}
	s.tree = t.st
	// The events of the change join the relay's outbox as the change commits.
	if len(t.outbox) > 0 {
		s.ev.enqueueOutbox(t.now, t.outbox...)
	}
	return t.st.version, nil
}

type treeTx struct {
	st              *treeState
	now             time.Time
	dirty           bool
	folders, videos map[string]bool       // what changed, for the change feed
	outbox          []events.OutboxRecord // written to the outbox on commit

	syncStateOwned bool // st.syncState is this transaction's own copy
}

func (t *treeTx) changedFolder(id string) {
	t.dirty = true
	if t.folders == nil {
		t.folders = map[string]bool{}
	}
	t.folders[id] = true
}

func (t *treeTx) changedVideo(id string) {
	t.dirty = true
	if t.videos == nil {
		t.videos = map[string]bool{}
	}
	t.videos[id] = true
}

// descendants returns the folder and every folder below it.
func (t *treeTx) subtree(root string) []string {
	children := map[string][]string{}
	for id, f := range t.st.folders {
		children[f.ParentVimeoID] = append(children[f.ParentVimeoID], id)
	}
	out := []string{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// isUnder reports whether folder sits in the subtree of root (root included).
func (t *treeTx) isUnder(folder, root string) bool {
	for id, n := folder, 0; id != "" && n <= len(t.st.folders); id, n = t.st.folders[id].ParentVimeoID, n+1 {
		if id == root {
			return true
		}
	}
	return false
}

// UpsertFolders implements tree.Tx.
func (t *treeTx) UpsertFolders(ctx context.Context, folders []tree.Folder) error {
	if err := tree.ValidateFolders(folders); err != nil {
		return err
	}
	for _, f := range folders {
		if f.ParentVimeoID != "" {
			if _, ok := t.st.folders[f.ParentVimeoID]; !ok {
				return tree.Errorf(tree.ErrOrphan, "folder", f.VimeoID, "parent %q is not in the mirror", f.ParentVimeoID)
			}
		}
		cur, exists := t.st.folders[f.VimeoID]
		if !exists {
			if t.st.folders[f.ParentVimeoID].Deleted() {
				return tree.Errorf(tree.ErrConflict, "folder", f.VimeoID, "parent %q is deleted", f.ParentVimeoID)
			}
			t.st.nextFolderID++
			t.st.folders[f.VimeoID] = tree.Folder{
				ID: t.st.nextFolderID, VimeoID: f.VimeoID, ParentVimeoID: f.ParentVimeoID, Name: f.Name,
				SortOrder: f.SortOrder, CreatedAt: norm(f.CreatedAt), ModifiedAt: norm(f.ModifiedAt),
			}
			t.changedFolder(f.VimeoID)
			continue
		}
		if cur.ParentVimeoID != f.ParentVimeoID {
			if err := t.MoveFolder(ctx, f.VimeoID, f.ParentVimeoID); err != nil {
				return err
			}
			cur = t.st.folders[f.VimeoID]
		}
		next := cur
		next.Name, next.SortOrder, next.CreatedAt, next.ModifiedAt = f.Name, f.SortOrder, norm(f.CreatedAt), norm(f.ModifiedAt)
		if next != cur {
			t.st.folders[f.VimeoID] = next
			t.changedFolder(f.VimeoID)
		}
	}
	return nil
}

// MoveFolder implements tree.Tx.
func (t *treeTx) MoveFolder(_ context.Context, vimeoID, newParent string) error {
	cur, ok := t.st.folders[vimeoID]
	if !ok {
		return tree.Errorf(tree.ErrNotFound, "folder", vimeoID, "not in the mirror")
	}
	if vimeoID == newParent {
		return tree.Errorf(tree.ErrCycle, "folder", vimeoID, "cannot move into itself")
	}
	var parent tree.Folder
	if newParent != "" {
		if parent, ok = t.st.folders[newParent]; !ok {
			return tree.Errorf(tree.ErrNotFound, "folder", newParent, "not in the mirror")
		}
	}
	if cur.ParentVimeoID == newParent {
		return nil
	}
	if newParent != "" && t.isUnder(newParent, vimeoID) {
		return tree.Errorf(tree.ErrCycle, "folder", vimeoID, "cannot move under its own subtree (%q)", newParent)
	}
	if parent.Deleted() && !cur.Deleted() {
		return tree.Errorf(tree.ErrConflict, "folder", vimeoID, "new parent %q is deleted", newParent)
	}
	cur.ParentVimeoID = newParent
	t.st.folders[vimeoID] = cur
	t.changedFolder(vimeoID)
	return nil
}

// DeleteFolder implements tree.Tx.
func (t *treeTx) DeleteFolder(_ context.Context, vimeoID string) error {
	if _, ok := t.st.folders[vimeoID]; !ok {
		return tree.Errorf(tree.ErrNotFound, "folder", vimeoID, "not in the mirror")
	}
	ts := t.tick()
	for _, id := range t.subtree(vimeoID) {
		f := t.st.folders[id]
		if !f.Deleted() {
			f.DeletedAt = ts
			t.st.folders[id] = f
			t.changedFolder(id)
		}
	}
	return nil
}

// tick returns a timestamp distinct from every earlier one in the transaction,
// like PostgreSQL's clock_timestamp, so deletes can be told apart.
func (t *treeTx) tick() time.Time {
	t.now = t.now.Add(time.Microsecond)
	return t.now
}

// RestoreFolder implements tree.Tx.
func (t *treeTx) RestoreFolder(_ context.Context, vimeoID string) error {
	cur, ok := t.st.folders[vimeoID]
	if !ok {
		return tree.Errorf(tree.ErrNotFound, "folder", vimeoID, "not in the mirror")
	}
	if !cur.Deleted() {
		return nil
	}
	if t.st.folders[cur.ParentVimeoID].Deleted() {
		return tree.Errorf(tree.ErrConflict, "folder", vimeoID, "its parent is deleted: restore the parent first")
	}
	// Parents before children: a descendant deleted with the folder comes
	// back only if its parent is live again (one moved while deleted may sit
	// under a folder deleted at another time, which stays deleted).
	when := cur.DeletedAt
	for _, id := range t.subtree(vimeoID) {
		f := t.st.folders[id]
		if f.DeletedAt.Equal(when) && (id == vimeoID || !t.st.folders[f.ParentVimeoID].Deleted()) {
			f.DeletedAt = time.Time{}
			t.st.folders[id] = f
			t.changedFolder(id)
		}
	}
	return nil
}

// UpsertVideos implements tree.Tx.
func (t *treeTx) UpsertVideos(_ context.Context, videos []tree.Video) error {
	if err := tree.ValidateVideos(videos); err != nil {
		return err
	}
	for _, v := range videos {
		cur, exists := t.st.videos[v.VimeoID]
		next := v
		next.CreatedAt, next.ModifiedAt = norm(v.CreatedAt), norm(v.ModifiedAt)
		// Own the slices: the caller may reuse its own, and loaded snapshots
		// share these with the store (never mutated, only replaced).
		next.Pictures, next.Tags = cloneOrNil(v.Pictures), cloneOrNil(v.Tags)
		if exists {
			next.ID, next.Hidden, next.DeletedAt, next.UpdatedAt = cur.ID, cur.Hidden, cur.DeletedAt, cur.UpdatedAt
			if reflect.DeepEqual(next, cur) {
				continue
			}
		} else {
			t.st.nextVideoID++
			next.ID, next.Hidden, next.DeletedAt = t.st.nextVideoID, false, time.Time{}
		}
		next.UpdatedAt = t.now
		t.st.videos[v.VimeoID] = next
		t.changedVideo(v.VimeoID)
	}
	return nil
}

// cloneOrNil copies s, with an empty slice as nil (the store's one form of
// "none", so that an upsert of an empty list is no change).
func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func (t *treeTx) knownVideos(ids []string) error {
	for _, id := range ids {
		if _, ok := t.st.videos[id]; !ok {
			return tree.Errorf(tree.ErrNotFound, "video", id, "not in the mirror")
		}
	}
	return nil
}

// PlaceVideos implements tree.Tx.
func (t *treeTx) PlaceVideos(_ context.Context, ps []tree.Placement) error {
	next := map[string]map[string]int{}
	for _, p := range ps {
		if _, ok := t.st.folders[p.FolderVimeoID]; !ok {
			return tree.Errorf(tree.ErrNotFound, "folder", p.FolderVimeoID, "not in the mirror")
		}
		if err := t.knownVideos([]string{p.VideoVimeoID}); err != nil {
			return err
		}
		if next[p.VideoVimeoID] == nil {
			next[p.VideoVimeoID] = map[string]int{}
		}
		if _, dup := next[p.VideoVimeoID][p.FolderVimeoID]; dup {
			return tree.Errorf(tree.ErrDuplicate, "placement", p.VideoVimeoID, "placed twice in folder %q", p.FolderVimeoID)
		}
		next[p.VideoVimeoID][p.FolderVimeoID] = p.SortOrder
	}
	for vid, fs := range next {
		if !maps.Equal(t.st.placements[vid], fs) {
			t.st.placements[vid] = fs
			t.changedVideo(vid)
		}
	}
	return nil
}

// UnplaceVideos implements tree.Tx.
func (t *treeTx) UnplaceVideos(_ context.Context, vimeoIDs []string) error {
	if err := t.knownVideos(vimeoIDs); err != nil {
		return err
	}
	for _, id := range vimeoIDs {
		if len(t.st.placements[id]) > 0 {
			t.changedVideo(id)
		}
		delete(t.st.placements, id)
	}
	return nil
}

func (t *treeTx) setDeleted(ids []string, deleted bool) error {
	if err := t.knownVideos(ids); err != nil {
		return err
	}
	for _, id := range ids {
		v := t.st.videos[id]
		if v.Deleted() == deleted {
			continue
		}
		v.DeletedAt = time.Time{}
		if deleted {
			v.DeletedAt = t.now
		}
		v.UpdatedAt = t.now
		t.st.videos[id] = v
		t.changedVideo(id)
	}
	return nil
}

// DeleteVideos implements tree.Tx.
func (t *treeTx) DeleteVideos(_ context.Context, ids []string) error { return t.setDeleted(ids, true) }

// RestoreVideos implements tree.Tx.
func (t *treeTx) RestoreVideos(_ context.Context, ids []string) error {
	return t.setDeleted(ids, false)
}

// SetVideoHidden implements tree.Tx.
func (t *treeTx) SetVideoHidden(_ context.Context, vimeoID string, hidden bool) error {
	if err := t.knownVideos([]string{vimeoID}); err != nil {
		return err
	}
	v := t.st.videos[vimeoID]
	if v.Hidden != hidden {
		v.Hidden, v.UpdatedAt = hidden, t.now
		t.st.videos[vimeoID] = v
		t.changedVideo(vimeoID)
	}
	return nil
}

// EnqueueOutbox implements tree.Tx.
func (t *treeTx) EnqueueOutbox(_ context.Context, topic, key string, payload []byte) error {
	if err := events.ValidateOutbox(topic, key, payload); err != nil {
		return fmt.Errorf("%w: %v", tree.ErrInvalid, err)
	}
	t.outbox = append(t.outbox, events.OutboxRecord{Topic: topic, Key: key, Payload: slices.Clone(payload)})
	return nil
}

// StartSyncRun implements tree.SyncRuns.
func (s *Store) StartSyncRun(_ context.Context, run tree.SyncRun) (tree.SyncRun, error) {
	if run.Trigger == "" {
		return tree.SyncRun{}, fmt.Errorf("%w: sync run without a trigger", tree.ErrInvalid)
	}
	if run.StartedAt.IsZero() {
		run.StartedAt = time.Now()
	}
	run.StartedAt = norm(run.StartedAt)
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	run.ID = int64(len(s.tree.syncRuns) + 1)
	run.FinishedAt, run.Complete, run.Held, run.APICalls = time.Time{}, false, false, 0
	run.Counts, run.Errors = map[string]int{}, []string{}
	run.Changes, run.ChangesTotal, run.HeldChanges = nil, 0, nil
	run.HeldStatus, run.HeldBy, run.HeldDecidedAt = "", "", time.Time{}
	s.tree.syncRuns = append(s.tree.syncRuns, run)
	return run, nil
}

// FinishSyncRun implements tree.SyncRuns.
func (s *Store) FinishSyncRun(_ context.Context, run tree.SyncRun) error {
	status, err := tree.FinishHeldStatus(run)
	if err != nil {
		return err
	}
	changes, err := copyChanges(run.Changes)
	if err != nil {
		return err
	}
	held, err := copyChanges(run.HeldChanges)
	if err != nil {
		return err
	}
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	if run.ID < 1 || run.ID > int64(len(s.tree.syncRuns)) {
		return fmt.Errorf("%w: sync run %d", tree.ErrNotFound, run.ID)
	}
	cur := &s.tree.syncRuns[run.ID-1]
	if !cur.FinishedAt.IsZero() {
		return fmt.Errorf("%w: sync run %d is already finished", tree.ErrConflict, run.ID)
	}
	if run.FinishedAt.IsZero() {
		run.FinishedAt = time.Now()
	}
	run.FinishedAt = norm(run.FinishedAt)
	cur.FinishedAt, cur.Complete, cur.Held, cur.APICalls = run.FinishedAt, run.Complete, run.Held, run.APICalls
	cur.Counts = maps.Clone(run.Counts)
	if cur.Counts == nil {
		cur.Counts = map[string]int{}
	}
	cur.Errors = append([]string{}, run.Errors...)
	cur.Changes, cur.ChangesTotal, cur.HeldChanges, cur.HeldStatus = changes, max(run.ChangesTotal, len(run.Changes)), held, status
	return nil
}

// ListSyncRuns implements tree.SyncRuns.
func (s *Store) ListSyncRuns(_ context.Context, before int64, limit int) ([]tree.SyncRun, error) {
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	var out []tree.SyncRun
	for i := len(s.tree.syncRuns) - 1; i >= 0 && len(out) < limit; i-- {
		r := s.tree.syncRuns[i]
		if before > 0 && r.ID >= before {
			continue
		}
		out = append(out, cloneRun(r))
	}
	return out, nil
}

// norm stores times as PostgreSQL does: UTC, to the microsecond. It keeps the
// two stores' answers identical and makes == on records meaningful.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
