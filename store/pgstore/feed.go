package pgstore

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/tree"
)

var _ tree.ContentFeed = (*Store)(nil)

// record notes that the transaction changed an object, for the change feed.
func (t *treeTx) record(kind string, ids ...string) {
	if len(ids) == 0 {
		return
	}
	t.dirty = true
	m := &t.videos
	if kind == "folder" {
		m = &t.folders
	}
	if *m == nil {
		*m = map[string]bool{}
	}
	for _, id := range ids {
		(*m)[id] = true
	}
}

// changed runs a statement that returns the Vimeo ids of the rows it changed
// and records them.
func (t *treeTx) changed(ctx context.Context, kind, sql string, args ...any) error {
	rows, err := t.tx.Query(ctx, sql, args...)
	if err != nil {
		return translate(err, treeErrs)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return translate(err, treeErrs)
	}
	t.record(kind, ids...)
	return nil
}

// changedPlacements runs a folder_videos statement that returns the internal
// ids of the videos whose placements it changed and records their Vimeo ids
// (vmap maps them the other way).
func (t *treeTx) changedPlacements(ctx context.Context, vmap map[string]int64, sql string, args ...any) error {
	rows, err := t.tx.Query(ctx, sql, args...)
	if err != nil {
		return translate(err, treeErrs)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return translate(err, treeErrs)
	}
	if len(ids) == 0 {
		return nil
	}
	byID := make(map[int64]string, len(vmap))
	for vimeoID, id := range vmap {
		byID[id] = vimeoID
	}
	for _, id := range ids {
		t.record("video", byID[id])
	}
	return nil
}

// recordChanges writes the feed entry of the version the transaction made
// and prunes the entries past tree.FeedRetention.
func (t *treeTx) recordChanges(ctx context.Context, version int64) error {
	folders, videos := slices.Sorted(maps.Keys(t.folders)), slices.Sorted(maps.Keys(t.videos))
	if folders == nil {
		folders = []string{}
	}
	if videos == nil {
		videos = []string{}
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO content_changes (version, folders, videos) VALUES ($1, $2, $3)`,
		version, folders, videos); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `DELETE FROM content_changes WHERE version <= $1`, version-tree.FeedRetention)
	return err
}

// ContentChangesSince implements tree.ContentFeed: one repeatable-read
// transaction reads the content version and the feed entries after version.
func (s *Store) ContentChangesSince(ctx context.Context, version int64) (tree.ContentChanges, error) {
	if version < 0 {
		return tree.ContentChanges{}, fmt.Errorf("%w: negative content version %d", tree.ErrInvalid, version)
	}
	var (
		out     tree.ContentChanges
		entries int64
		gap     error
	)
	err := pgx.BeginTxFunc(ctx, s.pool, readTx, func(tx pgx.Tx) error {
		var cur int64
		if err := tx.QueryRow(ctx, `SELECT value FROM versions WHERE name = 'content'`).Scan(&cur); err != nil {
			return err
		}
		out = tree.ContentChanges{From: version, To: cur}
		switch {
		case version > cur:
			gap = fmt.Errorf("%w: version %d is ahead of the store's %d", tree.ErrFeedGap, version, cur)
			return nil
		case version == cur:
			return nil
		}
		// Every version bump writes its entry, so the feed reaches back iff
		// it holds cur-version entries after version.
		return tx.QueryRow(ctx, `SELECT count(*),
				coalesce((SELECT array_agg(DISTINCT f ORDER BY f) FROM content_changes, unnest(folders) f WHERE version > $1), '{}'),
				coalesce((SELECT array_agg(DISTINCT v ORDER BY v) FROM content_changes, unnest(videos) v WHERE version > $1), '{}')
			FROM content_changes WHERE version > $1`, version).Scan(&entries, &out.Folders, &out.Videos)
	})
	if err != nil {
		return tree.ContentChanges{}, fmt.Errorf("pgstore: content changes: %w", translate(err, treeErrs))
	}
	if gap != nil {
		return tree.ContentChanges{}, gap
	}
	if out.To > version && entries != out.To-version {
		return tree.ContentChanges{}, fmt.Errorf("%w: version %d (%d of %d entries kept)", tree.ErrFeedGap, version, entries, out.To-version)
	}
	if len(out.Folders) == 0 {
		out.Folders = nil
	}
	if len(out.Videos) == 0 {
		out.Videos = nil
	}
	return out, nil
}

// LoadObjects implements tree.ContentFeed, in one repeatable-read
// transaction, with the row mapping LoadSnapshot uses.
func (s *Store) LoadObjects(ctx context.Context, folderIDs, videoIDs []string) (tree.Objects, error) {
	var out tree.Objects
	err := pgx.BeginTxFunc(ctx, s.pool, readTx, func(tx pgx.Tx) error {
		var err error
		if out.Folders, err = scanFolders(tx.Query(ctx, folderQuery+` WHERE f.vimeo_folder_id = ANY($1)`, folderIDs)); err != nil {
			return err
		}
		if out.Videos, err = scanVideos(tx.Query(ctx, videoQuery+` WHERE vimeo_video_id = ANY($1)`, videoIDs)); err != nil {
			return err
		}
		// Two indexed lookups (by video, by folder); UNION names each once.
		rows, err := tx.Query(ctx, `SELECT f.vimeo_folder_id, v.vimeo_video_id, fv.sort_order
				FROM folder_videos fv JOIN folders f ON f.id = fv.folder_id JOIN videos v ON v.id = fv.video_id
				WHERE v.vimeo_video_id = ANY($2)
			UNION
			SELECT f.vimeo_folder_id, v.vimeo_video_id, fv.sort_order
				FROM folder_videos fv JOIN folders f ON f.id = fv.folder_id JOIN videos v ON v.id = fv.video_id
				WHERE f.vimeo_folder_id = ANY($1)`, folderIDs, videoIDs)
		if err != nil {
			return err
		}
		out.Placements, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (tree.Placement, error) {
			var p tree.Placement
			err := r.Scan(&p.FolderVimeoID, &p.VideoVimeoID, &p.SortOrder)
			return p, err
		})
		return err
	})
	if err != nil {
		return tree.Objects{}, fmt.Errorf("pgstore: load objects: %w", translate(err, treeErrs))
	}
	return out, nil
}
