package tree

import (
	"context"
	"errors"
	"fmt"
)

// FolderWalker is a Source that can also walk one folder's subtree (the
// admin's "reconcile this folder"). tree/vimeosource implements it. The walk's
// RootVimeoID is the folder; its Complete has Walk's meaning for the subtree.
type FolderWalker interface {
	WalkFolder(ctx context.Context, folderVimeoID string) (*Walk, error)
}

// ReconcileFolder reconciles one folder's subtree on demand: it reads the
// folder, walks its subtree and applies what differs there, with the safety
// rules of Reconcile, scaled to the subtree:
//
//   - folders and videos found in the subtree are created, restored, moved
//     in, renamed and updated, at the positions the walk saw (a missing
//     ancestor of the folder is created first);
//   - objects the mirror has in the subtree but the walk did not list are
//     looked up one by one only after a complete walk: found elsewhere under
//     the root, they are moved there; gone (404) or outside the root, they
//     are deleted; 403 makes a video unavailable and keeps a folder;
//   - deletions beyond MaxDeleteShare of the whole tree are held, as in
//     Reconcile, unless opts.AllowMassDelete.
//
// The folder itself is the walk's top: if it is gone or outside the root, it
// is deleted with its subtree (each video confirmed by its own read). The run
// is recorded in sync_runs with opts.Trigger (default TriggerAdmin). Errors:
// ErrInvalid when the Source is not a FolderWalker, ErrNoRoot before the first
// reconciliation, ErrSource when the source failed.
func (m *Mirror) ReconcileFolder(ctx context.Context, folderVimeoID string, opts ReconcileOptions) (*Report, error) {
	fw, ok := m.src.(FolderWalker)
	if !ok {
		return nil, fmt.Errorf("%w: the source cannot walk a subtree (it is not a tree.FolderWalker)", ErrInvalid)
	}
	trigger := opts.Trigger
	if trigger == "" {
		trigger = TriggerAdmin
	}
	return m.incrementally(ctx, trigger, func(in *incremental, rep *Report) ([]Change, error) {
		local := in.local
		rf, err := in.fetchFolder(folderVimeoID)
		switch {
		case errors.Is(err, ErrNotFound) || (err == nil && !in.isUnder(rf)):
			if lf := local.Folder(folderVimeoID); lf == nil || lf.Deleted() {
				return nil, fmt.Errorf("%w: folder %s is not under the mirrored root", ErrNotFound, folderVimeoID)
			}
			if err := in.leftRoot(folderVimeoID); err != nil {
				return nil, err
			}
		case errors.Is(err, ErrForbidden):
			return nil, fmt.Errorf("%w: folder %s answers 403: kept", ErrSource, folderVimeoID)
		case err != nil:
			return nil, fmt.Errorf("%w: folder %s: %w", ErrSource, folderVimeoID, err)
		default:
			if err := m.reconcileSubtree(ctx, fw, in, rf, in.run); err != nil {
				return nil, err
			}
		}

		changes := in.changes
		var deletes []Change
		for _, c := range changes {
			if c.Kind.IsDelete() {
				deletes = append(deletes, c)
			}
		}
		if len(deletes) == 0 || opts.AllowMassDelete || !tooMany(local, deletes, m.opts.MaxDeleteShare) {
			return changes, nil
		}
		rep.Held = deletes
		keep := changes[:0:0]
		for _, c := range changes {
			if !c.Kind.IsDelete() {
				keep = append(keep, c)
			}
		}
		in.run.Errors = append(in.run.Errors, fmt.Sprintf("held %d deletions for an admin decision: more than %.0f%% of the tree", len(rep.Held), 100*m.opts.MaxDeleteShare))
		if m.opts.RecordHeld != nil {
			held, run := rep.Held, *in.run
			if _, err := m.store.Update(ctx, func(tx Tx) error { return m.opts.RecordHeld(ctx, tx, run, held) }); err != nil {
				return nil, fmt.Errorf("tree: record held run: %w", err)
			}
		}
		return keep, nil
	})
}

// reconcileSubtree decides the changes of a folder under the root: the
// folder (with missing ancestors), the walked subtree, then what the mirror
// has there that the walk did not list.
func (m *Mirror) reconcileSubtree(ctx context.Context, fw FolderWalker, in *incremental, rf *RemoteFolder, run *SyncRun) error {
	id := rf.Folder.VimeoID
	w, err := fw.WalkFolder(ctx, id)
	if err != nil {
		return fmt.Errorf("%w: walk folder %s: %w", ErrSource, id, err)
	}
	run.APICalls += w.Calls
	run.Complete = w.Complete
	run.Errors = append(run.Errors, w.Problems...)
	folders := make([]Folder, len(w.Folders))
	for i, f := range w.Folders {
		if f.VimeoID == id {
			f.ParentVimeoID = "" // the walk's top
		}
		folders[i] = f
	}
	remote, err := New(0, folders, w.Videos, w.Placements)
	if err != nil {
		return fmt.Errorf("%w: the walk of folder %s does not form a tree: %w", ErrSource, id, err)
	}
	if remote.Folder(id) == nil || remote.Folder(id).ParentVimeoID != "" {
		return fmt.Errorf("%w: the walk of folder %s does not start at it", ErrSource, id)
	}
	if err := in.ensureFolder(rf, 0); err != nil {
		return err
	}
	local := in.local
	for _, fid := range remote.FolderIDs()[1:] { // parents first; the top is done
		in.changes = append(in.changes, folderChanges(local.Folder(fid), remote.Folder(fid))...)
		in.live[fid] = true
		in.under[fid] = true
	}
	lp, rp := placementsByVideo(local), placementsByVideo(remote)
	for _, fid := range remote.FolderIDs() {
		for _, p := range remote.Contents(fid) {
			vid := p.VideoVimeoID
			if in.placed[vid] {
				continue
			}
			in.placed[vid] = true
			in.changes = append(in.changes, videoChanges(local.Video(vid), remote.Video(vid), lp[vid], rp[vid])...)
		}
	}
	if !w.Complete {
		run.Errors = append(run.Errors, fmt.Sprintf("the walk of folder %s was incomplete: nothing missing from it was looked up or deleted", id))
		return nil
	}
	// A restore inside the walked subtree keeps deleted the cascade the
	// source no longer has, as Diff makes a full reconciliation do.
	for i, c := range in.changes {
		if c.Kind == ChangeFolderRestored && remote.Folder(c.VimeoID) != nil {
			in.changes[i].KeepDeleted = cascadeGone(local, remote, c.VimeoID)
		}
	}
	// What the mirror has in the subtree and the walk did not list: videos
	// first (each read decides it), then folders, shallowest first.
	for _, vid := range local.SubtreeVideos(id) {
		if lv := local.Video(vid); lv == nil || lv.Deleted() || in.placed[vid] || remote.Video(vid) != nil {
			continue
		}
		rv, err := in.fetchVideo(vid)
		if err := in.video(vid, rv, err); err != nil {
			return err
		}
	}
	for _, fid := range local.Subtree(id) {
		if lf := local.Folder(fid); lf.Deleted() || remote.Folder(fid) != nil || in.gone[fid] || in.live[fid] {
			continue
		}
		rf, err := in.fetchFolder(fid)
		switch {
		case errors.Is(err, ErrNotFound) || (err == nil && !in.isUnder(rf)):
			if err := in.leftRoot(fid); err != nil {
				return err
			}
		case errors.Is(err, ErrForbidden):
			run.Errors = append(run.Errors, fmt.Sprintf("folder %s answers 403: kept", fid))
		case err != nil:
			return fmt.Errorf("%w: folder %s: %w", ErrSource, fid, err)
		default: // moved elsewhere under the root
			if err := in.ensureFolder(rf, 0); err != nil {
				return err
			}
		}
	}
	return nil
}
