package tree

import (
	"context"
	"fmt"
	"time"
)

// apply writes changes in order, BatchSize changes (whole objects) per
// transaction, each transaction also running MirrorOptions.Record; final runs
// in the last one (the poll cursor). local is the snapshot the changes were
// computed from. It returns the version after the last commit and how many
// changes committed.
//
// When every change committed and no other writer committed in between (each
// transaction moved the content version by at most one from the one before,
// starting at local's), the mirror remembers the changes: the next run, if
// the version has not moved since, settles them onto local in memory
// (settle) instead of loading the store again. Otherwise the cache is left
// behind the store's version, and the next run loads.
func (m *Mirror) apply(ctx context.Context, local *Snapshot, changes []Change, final func(Tx) error) (int64, int, error) {
	var version int64
	done := 0
	prev, alone := local.Version(), true
	for start := 0; start < len(changes) || (start == 0 && final != nil); {
		end := min(start+m.opts.BatchSize, len(changes))
		for end < len(changes) && end > start && changes[end].VimeoID == changes[end-1].VimeoID && changes[end].Kind.IsFolder() == changes[end-1].Kind.IsFolder() {
			end++ // keep one object's changes together
		}
		batch := changes[start:end]
		last := end == len(changes)
		v, err := m.store.Update(ctx, func(tx Tx) error {
			if err := applyBatch(ctx, tx, batch); err != nil {
				return err
			}
			if m.opts.Record != nil && len(batch) > 0 {
				if err := m.opts.Record(ctx, tx, batch); err != nil {
					return fmt.Errorf("tree: record changes: %w", err)
				}
			}
			if last && final != nil {
				return final(tx)
			}
			return nil
		})
		if err != nil {
			return version, done, fmt.Errorf("tree: apply changes %d..%d of %d: %w", start, end, len(changes), err)
		}
		version = v
		done = end
		if v != prev && (v != prev+1 || len(batch) == 0) {
			alone = false // another writer committed in between
		}
		prev = v
		if last {
			break
		}
		start = end
	}
	if len(changes) > 0 && alone && m.cache == local {
		m.applied = &applied{changes: changes, version: version, at: m.opts.Now()}
	}
	return version, done, nil
}

// applied is what one apply wrote on top of the mirror's cached snapshot.
type applied struct {
	changes []Change
	version int64     // the content version after them
	at      time.Time // when they were applied: deletions in settle are later
}

// applier accumulates consecutive writes of one kind so that a batch of
// changes becomes a few bulk statements, flushed in dependency order.
type applier struct {
	ctx context.Context
	tx  Tx

	folders      []Folder
	folderSeen   map[string]bool
	videos       []Video
	videoSeen    map[string]bool
	restores     []string
	places       []Placement
	placeSeen    map[string]bool
	videoDeletes []string
}

func applyBatch(ctx context.Context, tx Tx, changes []Change) error {
	a := &applier{ctx: ctx, tx: tx,
		folderSeen: map[string]bool{}, videoSeen: map[string]bool{}, placeSeen: map[string]bool{}}
	for _, c := range changes {
		if err := a.add(c); err != nil {
			return err
		}
	}
	return a.flush()
}

func (a *applier) flushFolders() error {
	if len(a.folders) == 0 {
		return nil
	}
	err := a.tx.UpsertFolders(a.ctx, a.folders)
	a.folders = nil
	return err
}

func (a *applier) flushVideos() error {
	if len(a.videos) > 0 {
		if err := a.tx.UpsertVideos(a.ctx, a.videos); err != nil {
			return err
		}
		a.videos = nil
	}
	if len(a.restores) > 0 {
		if err := a.tx.RestoreVideos(a.ctx, a.restores); err != nil {
			return err
		}
		a.restores = nil
	}
	if len(a.places) > 0 {
		if err := a.tx.PlaceVideos(a.ctx, a.places); err != nil {
			return err
		}
		a.places = nil
	}
	if len(a.videoDeletes) > 0 {
		if err := a.tx.DeleteVideos(a.ctx, a.videoDeletes); err != nil {
			return err
		}
		a.videoDeletes = nil
	}
	return nil
}

func (a *applier) flush() error {
	if err := a.flushFolders(); err != nil {
		return err
	}
	return a.flushVideos()
}

func (a *applier) add(c Change) error {
	if c.Kind.IsFolder() {
		if err := a.flushVideos(); err != nil {
			return err
		}
		if c.Folder != nil && c.Kind != ChangeFolderDeleted && !a.folderSeen[c.VimeoID] {
			a.folderSeen[c.VimeoID] = true
			a.folders = append(a.folders, *c.Folder)
		}
		switch c.Kind {
		case ChangeFolderRestored:
			if err := a.flushFolders(); err != nil {
				return err
			}
			if err := a.tx.RestoreFolder(a.ctx, c.VimeoID); err != nil {
				return err
			}
			for _, d := range c.KeepDeleted { // the cascade the source no longer has
				if err := a.tx.DeleteFolder(a.ctx, d); err != nil {
					return err
				}
			}
			return nil
		case ChangeFolderDeleted:
			if err := a.flushFolders(); err != nil {
				return err
			}
			return a.tx.DeleteFolder(a.ctx, c.VimeoID)
		}
		return nil
	}
	if err := a.flushFolders(); err != nil {
		return err
	}
	if c.Kind == ChangeVideoDeleted {
		if len(a.videos)+len(a.restores)+len(a.places) > 0 {
			if err := a.flushVideos(); err != nil {
				return err
			}
		}
		a.videoDeletes = append(a.videoDeletes, c.VimeoID)
		return nil
	}
	if len(a.videoDeletes) > 0 {
		if err := a.flushVideos(); err != nil {
			return err
		}
	}
	if c.Video != nil && !a.videoSeen[c.VimeoID] {
		a.videoSeen[c.VimeoID] = true
		a.videos = append(a.videos, *c.Video)
	}
	switch c.Kind {
	case ChangeVideoRestored:
		a.restores = append(a.restores, c.VimeoID)
		fallthrough
	case ChangeVideoCreated, ChangeVideoMoved, ChangeVideoReordered:
		if c.To != "" && !a.placeSeen[c.VimeoID] {
			a.placeSeen[c.VimeoID] = true
			a.places = append(a.places, Placement{FolderVimeoID: c.To, VideoVimeoID: c.VimeoID, SortOrder: c.SortOrder})
		}
	}
	return nil
}
