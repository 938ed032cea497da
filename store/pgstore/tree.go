package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

var _ tree.Store = (*Store)(nil)

var treeErrs = domainErrs{notFound: tree.ErrNotFound, duplicate: tree.ErrDuplicate, invalid: tree.ErrInvalid}

// batchSize bounds the rows one bulk statement carries.
const batchSize = 5000

// structureLock serialises changes to the folder structure (inserts, moves,
// deletes, restores) within a schema: concurrent moves could otherwise build a
// cycle or rewrite paths from stale prefixes. Video writes do not take it.
const structureLock = `SELECT pg_advisory_xact_lock(hashtextextended('vidlib.folders.' || current_schema(), 0))`

// LoadSnapshot reads the mirror at one point in time. With a pool of at least
// four connections the folders, videos and placements are read concurrently
// on three connections sharing one exported snapshot (pg_export_snapshot), so
// that decoding one result overlaps the server producing the others;
// otherwise in one repeatable-read transaction. Placements are read by
// internal ids and resolved to Vimeo ids in memory (no join): a placement
// whose folder or video is not loaded (soft-deleted, in a live load) is left
// out, as the join left it out.
func (s *Store) LoadSnapshot(ctx context.Context, opts tree.LoadOptions) (*tree.Snapshot, error) {
	live := !opts.IncludeDeleted
	var (
		version int64
		l       loaded
		err     error
	)
	if s.pool.Config().MaxConns >= 4 {
		version, l, err = s.loadParallel(ctx, live)
	} else {
		err = pgx.BeginTxFunc(ctx, s.pool, readTx, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT value FROM versions WHERE name = 'content'`).Scan(&version); err != nil {
				return err
			}
			if l.folders, err = loadFolders(ctx, tx, live); err != nil {
				return err
			}
			if l.videos, err = loadVideos(ctx, tx, live); err != nil {
				return err
			}
			l.placements, err = loadPlacements(ctx, tx)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: load snapshot: %w", translate(err, treeErrs))
	}
	snap, err := tree.New(version, l.folders, l.videos, l.resolve())
	if err != nil {
		return nil, fmt.Errorf("pgstore: load snapshot: %w", translate(err, treeErrs))
	}
	return snap, nil
}

var readTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// loaded is what LoadSnapshot read, before placements are resolved.
type loaded struct {
	folders    []tree.Folder
	videos     []tree.Video
	placements []idPlacement
}

// idPlacement is a folder_videos row by internal ids.
type idPlacement struct{ folder, video, sort int64 }

// resolve turns the placements into Vimeo ids, leaving out those whose
// folder or video was not loaded.
func (l *loaded) resolve() []tree.Placement {
	folders := make(map[int64]string, len(l.folders))
	for i := range l.folders {
		folders[l.folders[i].ID] = l.folders[i].VimeoID
	}
	videos := make(map[int64]string, len(l.videos))
	for i := range l.videos {
		videos[l.videos[i].ID] = l.videos[i].VimeoID
	}
	out := make([]tree.Placement, 0, len(l.placements))
	for _, p := range l.placements {
		f, okf := folders[p.folder]
		v, okv := videos[p.video]
		if okf && okv {
			out = append(out, tree.Placement{FolderVimeoID: f, VideoVimeoID: v, SortOrder: int(p.sort)})
		}
	}
	return out
}

// loadParallel reads the three tables on three connections that share the
// first one's snapshot.
func (s *Store) loadParallel(ctx context.Context, live bool) (int64, loaded, error) {
	var l loaded
	select {
	case s.loadSlot <- struct{}{}:
		defer func() { <-s.loadSlot }()
	case <-ctx.Done():
		return 0, l, ctx.Err()
	}
	tx, err := s.pool.BeginTx(ctx, readTx)
	if err != nil {
		return 0, l, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var (
		version int64
		snapID  string
	)
	err = tx.QueryRow(ctx, `SELECT value, pg_export_snapshot() FROM versions WHERE name = 'content'`).Scan(&version, &snapID)
	if err != nil {
		return 0, l, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg         sync.WaitGroup
		verr, perr error
	)
	onSnapshot := func(fn func(pgx.Tx) error) error {
		return pgx.BeginTxFunc(ctx, s.pool, readTx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+strings.ReplaceAll(snapID, "'", "''")+`'`); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	wg.Go(func() {
		verr = onSnapshot(func(tx pgx.Tx) (err error) {
			l.videos, err = loadVideos(ctx, tx, live)
			return err
		})
		if verr != nil {
			cancel()
		}
	})
	wg.Go(func() {
		perr = onSnapshot(func(tx pgx.Tx) (err error) {
			l.placements, err = loadPlacements(ctx, tx)
			return err
		})
		if perr != nil {
			cancel()
		}
	})
	folders, ferr := loadFolders(ctx, tx, live)
	if ferr != nil {
		cancel()
	}
	wg.Wait() // the exporting transaction stays open until the others imported its snapshot
	l.folders = folders
	if err := errors.Join(ferr, verr, perr); err != nil {
		return 0, l, err
	}
	return version, l, nil
}

// folderQuery and videoQuery select the rows that scanFolders and
// scanVideos map: the one mapping of the tables to tree values.
const (
	folderQuery = `SELECT f.id, f.vimeo_folder_id, coalesce(p.vimeo_folder_id, ''), f.name, f.sort_order,
		f.vimeo_created_at, f.vimeo_modified_at, f.deleted_at
		FROM folders f LEFT JOIN folders p ON p.id = f.parent_id`
	videoQuery = `SELECT id, vimeo_video_id, title, description, thumbnail_url, duration_seconds, status,
		visibility, embed_key, embed_privacy, hidden, vimeo_created_at, vimeo_modified_at, updated_at, deleted_at,
		tags, pictures FROM videos`
)

func loadFolders(ctx context.Context, tx pgx.Tx, live bool) ([]tree.Folder, error) {
	q := folderQuery
	if live {
		q += ` WHERE f.deleted_at IS NULL`
	}
	return scanFolders(tx.Query(ctx, q))
}

func scanFolders(rows pgx.Rows, err error) ([]tree.Folder, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tree.Folder
	for rows.Next() {
		var f tree.Folder
		var created, modified, deleted *time.Time
		if err := rows.Scan(&f.ID, &f.VimeoID, &f.ParentVimeoID, &f.Name, &f.SortOrder, &created, &modified, &deleted); err != nil {
			return nil, err
		}
		f.CreatedAt, f.ModifiedAt, f.DeletedAt = deref(created), deref(modified), deref(deleted)
		out = append(out, f)
	}
	return out, rows.Err()
}

func loadVideos(ctx context.Context, tx pgx.Tx, live bool) ([]tree.Video, error) {
	q := videoQuery
	if live {
		q += ` WHERE deleted_at IS NULL`
	}
	// Size the slice once, by the planner's row count (as of the last
	// ANALYZE or VACUUM; -1 before any): a million videos grown by appending
	// allocate about four times their 320 MB, and the load's peak heap with it.
	var rows float64
	if err := tx.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'videos'::regclass`).Scan(&rows); err != nil {
		return nil, err
	}
	hint := 0
	if rows > 0 {
		hint = int(min(rows*1.02, maxVideoHint))
	}
	r, err := tx.Query(ctx, q)
	return scanVideoRows(r, err, hint)
}

// maxVideoHint bounds the rows loadVideos allocates for up front.
const maxVideoHint = 1 << 24

func scanVideos(rows pgx.Rows, err error) ([]tree.Video, error) { return scanVideoRows(rows, err, 0) }

// scanVideoRows maps the rows of videoQuery, in a slice with room for hint.
func scanVideoRows(rows pgx.Rows, err error, hint int) ([]tree.Video, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]tree.Video, 0, hint)
	for rows.Next() {
		var v tree.Video
		var created, modified, deleted *time.Time
		var tags, pics []byte
		if err := rows.Scan(&v.ID, &v.VimeoID, &v.Title, &v.Description, &v.ThumbnailURL, &v.DurationSeconds,
			&v.Status, &v.Visibility, &v.EmbedKey, &v.EmbedPrivacy, &v.Hidden, &created, &modified, &v.UpdatedAt, &deleted,
			&tags, &pics); err != nil {
			return nil, err
		}
		v.CreatedAt, v.ModifiedAt, v.DeletedAt = deref(created), deref(modified), deref(deleted)
		var err error
		if v.Tags, v.Pictures, err = decodeTagsPictures(tags, pics); err != nil {
			return nil, fmt.Errorf("video %s: %w", v.VimeoID, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func loadPlacements(ctx context.Context, tx pgx.Tx) ([]idPlacement, error) {
	rows, err := tx.Query(ctx, `SELECT folder_id, video_id, sort_order FROM folder_videos`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []idPlacement
	for rows.Next() {
		var p idPlacement
		if err := rows.Scan(&p.folder, &p.video, &p.sort); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ContentVersion returns the current content version.
func (s *Store) ContentVersion(ctx context.Context) (int64, error) {
	return s.version(ctx, "content")
}

func (s *Store) version(ctx context.Context, name string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT value FROM versions WHERE name = $1`, name).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("pgstore: %s version: %w", name, err)
	}
	return v, nil
}

// Update runs fn in one transaction and bumps the content version if fn
// changed anything.
func (s *Store) Update(ctx context.Context, fn func(tree.Tx) error) (int64, error) {
	var version int64
	err := s.inTx(ctx, func(ptx pgx.Tx) error {
		t := &treeTx{tx: ptx}
		if err := fn(t); err != nil {
			return err
		}
		q := `SELECT value FROM versions WHERE name = 'content'`
		if t.dirty {
			q = `UPDATE versions SET value = value + 1, updated_at = now() WHERE name = 'content' RETURNING value`
		}
		if err := ptx.QueryRow(ctx, q).Scan(&version); err != nil || !t.dirty {
			return err
		}
		return t.recordChanges(ctx, version)
	})
	if err != nil {
		return 0, translate(err, treeErrs)
	}
	return version, nil
}

// treeTx implements tree.Tx over a pgx transaction.
type treeTx struct {
	tx    pgx.Tx
	dirty bool // something in the mirror changed: bump the version at commit

	folders, videos map[string]bool // what changed, for the change feed (feed.go)
}

func (t *treeTx) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, sql, args...)
	if err != nil {
		return 0, translate(err, treeErrs)
	}
	if tag.RowsAffected() > 0 {
		t.dirty = true
	}
	return tag.RowsAffected(), nil
}

// folderRow is what the structure operations need to know of a folder.
type folderRow struct {
	id      int64
	path    string
	deleted bool
}

func (t *treeTx) lockStructure(ctx context.Context) error {
	_, err := t.tx.Exec(ctx, structureLock)
	return err
}

// folderRows returns the known folders among vimeoIDs.
func (t *treeTx) folderRows(ctx context.Context, vimeoIDs []string) (map[string]folderRow, error) {
	rows, err := t.tx.Query(ctx, `SELECT vimeo_folder_id, id, path, deleted_at IS NOT NULL FROM folders WHERE vimeo_folder_id = ANY($1)`, vimeoIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]folderRow, len(vimeoIDs))
	for rows.Next() {
		var id string
		var r folderRow
		if err := rows.Scan(&id, &r.id, &r.path, &r.deleted); err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}

func (t *treeTx) folderRow(ctx context.Context, vimeoID string) (folderRow, error) {
	m, err := t.folderRows(ctx, []string{vimeoID})
	if err != nil {
		return folderRow{}, err
	}
	r, ok := m[vimeoID]
	if !ok {
		return folderRow{}, tree.Errorf(tree.ErrNotFound, "folder", vimeoID, "not in the mirror")
	}
	return r, nil
}

// UpsertFolders implements tree.Tx.
func (t *treeTx) UpsertFolders(ctx context.Context, folders []tree.Folder) error {
	if len(folders) == 0 {
		return nil
	}
	if err := tree.ValidateFolders(folders); err != nil {
		return err
	}
	if err := t.lockStructure(ctx); err != nil {
		return translate(err, treeErrs)
	}
	ids := make([]string, 0, 2*len(folders))
	for _, f := range folders {
		ids = append(ids, f.VimeoID)
		if f.ParentVimeoID != "" {
			ids = append(ids, f.ParentVimeoID)
		}
	}
	known, err := t.folderRows(ctx, ids)
	if err != nil {
		return translate(err, treeErrs)
	}
	// Ids for the new folders, in one round trip.
	var nNew int
	for _, f := range folders {
		if _, ok := known[f.VimeoID]; !ok {
			nNew++
		}
	}
	var fresh []int64
	if nNew > 0 {
		rows, _ := t.tx.Query(ctx, `SELECT nextval('folders_id_seq') FROM generate_series(1, $1)`, nNew)
		if fresh, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return translate(err, treeErrs)
		}
	}
	var ins insertBatch
	var upd updateBatch
	for _, f := range folders {
		var parentID *int64
		parentPath := "/"
		if f.ParentVimeoID != "" {
			p, ok := known[f.ParentVimeoID]
			if !ok {
				return tree.Errorf(tree.ErrOrphan, "folder", f.VimeoID, "parent %q is not in the mirror", f.ParentVimeoID)
			}
			parentID, parentPath = &p.id, p.path
		}
		cur, exists := known[f.VimeoID]
		if !exists {
			if known[f.ParentVimeoID].deleted {
				return tree.Errorf(tree.ErrConflict, "folder", f.VimeoID, "parent %q is deleted", f.ParentVimeoID)
			}
			id := fresh[0]
			fresh = fresh[1:]
			r := folderRow{id: id, path: parentPath + strconv.FormatInt(id, 10) + "/"}
			known[f.VimeoID] = r
			ins.add(f, r, parentID)
			continue
		}
		if curParent := parentOf(cur.path); curParent != parentIDOr0(parentID) {
			// A move: flush what is queued, rewrite the subtree, refresh paths.
			if err := t.flushFolders(ctx, &ins, &upd); err != nil {
				return err
			}
			if err := t.move(ctx, f.VimeoID, cur, f.ParentVimeoID, parentID, parentPath, known[f.ParentVimeoID].deleted); err != nil {
				return err
			}
			if known, err = t.folderRows(ctx, ids); err != nil {
				return translate(err, treeErrs)
			}
		}
		upd.add(f, known[f.VimeoID].id)
	}
	return t.flushFolders(ctx, &ins, &upd)
}

func parentIDOr0(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// parentOf returns the parent id encoded in a path ('/1/5/9/' → 5; 0 at the top).
func parentOf(path string) int64 {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 {
		return 0
	}
	id, _ := strconv.ParseInt(parts[len(parts)-2], 10, 64)
	return id
}

type insertBatch struct {
	idVals                 []int64
	parents                []*int64
	vimeoIDs, paths, names []string
	orders                 []int32
	created, modified      []*time.Time
}

func (b *insertBatch) add(f tree.Folder, r folderRow, parent *int64) {
	b.idVals = append(b.idVals, r.id)
	b.parents = append(b.parents, parent)
	b.vimeoIDs = append(b.vimeoIDs, f.VimeoID)
	b.paths = append(b.paths, r.path)
	b.names = append(b.names, f.Name)
	b.orders = append(b.orders, int32(f.SortOrder))
	b.created = append(b.created, timePtr(f.CreatedAt))
	b.modified = append(b.modified, timePtr(f.ModifiedAt))
}

type updateBatch struct {
	ids               []int64
	names             []string
	orders            []int32
	created, modified []*time.Time
}

func (b *updateBatch) add(f tree.Folder, id int64) {
	b.ids = append(b.ids, id)
	b.names = append(b.names, f.Name)
	b.orders = append(b.orders, int32(f.SortOrder))
	b.created = append(b.created, timePtr(f.CreatedAt))
	b.modified = append(b.modified, timePtr(f.ModifiedAt))
}

func (t *treeTx) flushFolders(ctx context.Context, ins *insertBatch, upd *updateBatch) error {
	if len(ins.idVals) > 0 {
		// Parents come before children in the batch; immediate foreign keys are
		// checked at the end of the statement.
		err := t.changed(ctx, "folder", `INSERT INTO folders (id, vimeo_folder_id, parent_id, path, name, sort_order, vimeo_created_at, vimeo_modified_at)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::timestamptz[])
			RETURNING vimeo_folder_id`,
			ins.idVals, ins.vimeoIDs, ins.parents, ins.paths, ins.names, ins.orders, ins.created, ins.modified)
		if err != nil {
			return err
		}
		*ins = insertBatch{}
	}
	if len(upd.ids) > 0 {
		err := t.changed(ctx, "folder", `UPDATE folders f SET name = u.name, sort_order = u.sort_order,
				vimeo_created_at = u.created, vimeo_modified_at = u.modified, updated_at = now()
			FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[]) AS u(id, name, sort_order, created, modified)
			WHERE f.id = u.id AND (f.name, f.sort_order, f.vimeo_created_at, f.vimeo_modified_at)
				IS DISTINCT FROM (u.name, u.sort_order, u.created, u.modified)
			RETURNING f.vimeo_folder_id`,
			upd.ids, upd.names, upd.orders, upd.created, upd.modified)
		if err != nil {
			return err
		}
		*upd = updateBatch{}
	}
	return nil
}

// move rewrites the subtree of cur under the new parent in one statement.
func (t *treeTx) move(ctx context.Context, vimeoID string, cur folderRow, parentVimeoID string, parentID *int64, parentPath string, parentDeleted bool) error {
	if parentID != nil && strings.HasPrefix(parentPath, cur.path) {
		return tree.Errorf(tree.ErrCycle, "folder", vimeoID, "cannot move under its own subtree (%q)", parentVimeoID)
	}
	if parentDeleted && !cur.deleted {
		return tree.Errorf(tree.ErrConflict, "folder", vimeoID, "new parent %q is deleted", parentVimeoID)
	}
	newPath := parentPath + strconv.FormatInt(cur.id, 10) + "/"
	n, err := t.exec(ctx, `UPDATE folders SET path = $2 || substr(path, length($1) + 1),
			parent_id = CASE WHEN id = $3 THEN $4 ELSE parent_id END, updated_at = now()
		WHERE path LIKE $1 || '%'`, cur.path, newPath, cur.id, parentID)
	if n > 0 {
		t.record("folder", vimeoID) // the descendants' rows keep their parents
	}
	return err
}

// MoveFolder implements tree.Tx.
func (t *treeTx) MoveFolder(ctx context.Context, vimeoID, newParentVimeoID string) error {
	if vimeoID == newParentVimeoID {
		return tree.Errorf(tree.ErrCycle, "folder", vimeoID, "cannot move into itself")
	}
	if err := t.lockStructure(ctx); err != nil {
		return translate(err, treeErrs)
	}
	cur, err := t.folderRow(ctx, vimeoID)
	if err != nil {
		return err
	}
	var parentID *int64
	parentPath, parentDeleted := "/", false
	if newParentVimeoID != "" {
		p, err := t.folderRow(ctx, newParentVimeoID)
		if err != nil {
			return err
		}
		parentID, parentPath, parentDeleted = &p.id, p.path, p.deleted
	}
	if parentOf(cur.path) == parentIDOr0(parentID) {
		return nil
	}
	return t.move(ctx, vimeoID, cur, newParentVimeoID, parentID, parentPath, parentDeleted)
}

// DeleteFolder implements tree.Tx.
func (t *treeTx) DeleteFolder(ctx context.Context, vimeoID string) error {
	if err := t.lockStructure(ctx); err != nil {
		return translate(err, treeErrs)
	}
	cur, err := t.folderRow(ctx, vimeoID)
	if err != nil {
		return err
	}
	// One timestamp for the whole subtree, so RestoreFolder can tell what was
	// deleted together; clock_timestamp so two deletes in a transaction differ.
	return t.changed(ctx, "folder", `WITH now AS (SELECT clock_timestamp() AS ts)
		UPDATE folders SET deleted_at = now.ts, updated_at = now.ts FROM now
		WHERE path LIKE $1 || '%' AND deleted_at IS NULL RETURNING vimeo_folder_id`, cur.path)
}

// RestoreFolder implements tree.Tx.
func (t *treeTx) RestoreFolder(ctx context.Context, vimeoID string) error {
	if err := t.lockStructure(ctx); err != nil {
		return translate(err, treeErrs)
	}
	cur, err := t.folderRow(ctx, vimeoID)
	if err != nil || !cur.deleted {
		return err
	}
	var parentDeleted bool
	err = t.tx.QueryRow(ctx, `SELECT coalesce(p.deleted_at IS NOT NULL, false)
		FROM folders f LEFT JOIN folders p ON p.id = f.parent_id WHERE f.id = $1`, cur.id).Scan(&parentDeleted)
	if err != nil {
		return translate(err, treeErrs)
	}
	if parentDeleted {
		return tree.Errorf(tree.ErrConflict, "folder", vimeoID, "its parent is deleted: restore the parent first")
	}
	// The folder and, down from it, the descendants deleted with it, through
	// parents that come back too: one moved while deleted may sit under a
	// folder deleted at another time, which stays deleted.
	return t.changed(ctx, "folder", `WITH RECURSIVE back AS (
			SELECT id, deleted_at FROM folders WHERE id = $1
			UNION ALL
			SELECT f.id, f.deleted_at FROM folders f JOIN back b ON f.parent_id = b.id AND f.deleted_at = b.deleted_at)
		UPDATE folders SET deleted_at = NULL, updated_at = now() FROM back WHERE folders.id = back.id
		RETURNING vimeo_folder_id`, cur.id)
}

// UpsertVideos implements tree.Tx.
func (t *treeTx) UpsertVideos(ctx context.Context, videos []tree.Video) error {
	if err := tree.ValidateVideos(videos); err != nil {
		return err
	}
	for chunk := range slices.Chunk(videos, batchSize) {
		n := len(chunk)
		ids, titles, descs, thumbs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		durs := make([]int32, n)
		statuses, vis, keys, embeds := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		created, modified := make([]*time.Time, n), make([]*time.Time, n)
		tags, pics := make([]string, n), make([]string, n)
		for i, v := range chunk {
			ids[i], titles[i], descs[i], thumbs[i] = v.VimeoID, v.Title, v.Description, v.ThumbnailURL
			tags[i], pics[i] = encodeTagsPictures(v.Tags, v.Pictures)
			durs[i] = int32(min(v.DurationSeconds, 1<<31-1))
			statuses[i], vis[i], keys[i], embeds[i] = string(v.Status), string(v.Visibility), v.EmbedKey, string(v.EmbedPrivacy)
			created[i], modified[i] = timePtr(v.CreatedAt), timePtr(v.ModifiedAt)
		}
		err := t.changed(ctx, "video", `INSERT INTO videos AS v (vimeo_video_id, title, description, thumbnail_url, duration_seconds,
				status, visibility, embed_key, vimeo_created_at, vimeo_modified_at, embed_privacy, tags, pictures)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
				$9::timestamptz[], $10::timestamptz[], $11::text[], $12::jsonb[], $13::jsonb[])
			ON CONFLICT (vimeo_video_id) DO UPDATE SET title = excluded.title, description = excluded.description,
				thumbnail_url = excluded.thumbnail_url, duration_seconds = excluded.duration_seconds,
				status = excluded.status, visibility = excluded.visibility, embed_key = excluded.embed_key,
				vimeo_created_at = excluded.vimeo_created_at, vimeo_modified_at = excluded.vimeo_modified_at,
				embed_privacy = excluded.embed_privacy, tags = excluded.tags, pictures = excluded.pictures,
				updated_at = now()
			WHERE (v.title, v.description, v.thumbnail_url, v.duration_seconds, v.status, v.visibility, v.embed_key,
				v.vimeo_created_at, v.vimeo_modified_at, v.embed_privacy, v.tags, v.pictures) IS DISTINCT FROM (excluded.title, excluded.description,
				excluded.thumbnail_url, excluded.duration_seconds, excluded.status, excluded.visibility,
				excluded.embed_key, excluded.vimeo_created_at, excluded.vimeo_modified_at, excluded.embed_privacy, excluded.tags, excluded.pictures)
			RETURNING v.vimeo_video_id`,
			ids, titles, descs, thumbs, durs, statuses, vis, keys, created, modified, embeds, tags, pics)
		if err != nil {
			return err
		}
	}
	return nil
}

// idsOf maps Vimeo ids to internal ids in table (folders or videos); every id
// must be known.
func (t *treeTx) idsOf(ctx context.Context, object string, vimeoIDs []string) (map[string]int64, error) {
	q := `SELECT vimeo_video_id, id FROM videos WHERE vimeo_video_id = ANY($1)`
	if object == "folder" {
		q = `SELECT vimeo_folder_id, id FROM folders WHERE vimeo_folder_id = ANY($1)`
	}
	rows, err := t.tx.Query(ctx, q, vimeoIDs)
	if err != nil {
		return nil, translate(err, treeErrs)
	}
	defer rows.Close()
	out := make(map[string]int64, len(vimeoIDs))
	for rows.Next() {
		var vid string
		var id int64
		if err := rows.Scan(&vid, &id); err != nil {
			return nil, err
		}
		out[vid] = id
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, treeErrs)
	}
	for _, id := range vimeoIDs {
		if _, ok := out[id]; !ok {
			return nil, tree.Errorf(tree.ErrNotFound, object, id, "not in the mirror")
		}
	}
	return out, nil
}

// PlaceVideos implements tree.Tx.
func (t *treeTx) PlaceVideos(ctx context.Context, ps []tree.Placement) error {
	if len(ps) == 0 {
		return nil
	}
	seen := make(map[[2]string]bool, len(ps))
	var fids, vids []string
	for _, p := range ps {
		k := [2]string{p.FolderVimeoID, p.VideoVimeoID}
		if seen[k] {
			return tree.Errorf(tree.ErrDuplicate, "placement", p.VideoVimeoID, "placed twice in folder %q", p.FolderVimeoID)
		}
		seen[k] = true
		fids, vids = append(fids, p.FolderVimeoID), append(vids, p.VideoVimeoID)
	}
	fmap, err := t.idsOf(ctx, "folder", fids)
	if err != nil {
		return err
	}
	vmap, err := t.idsOf(ctx, "video", vids)
	if err != nil {
		return err
	}
	folderIDs, videoIDs, orders := make([]int64, len(ps)), make([]int64, len(ps)), make([]int32, len(ps))
	for i, p := range ps {
		folderIDs[i], videoIDs[i], orders[i] = fmap[p.FolderVimeoID], vmap[p.VideoVimeoID], int32(p.SortOrder)
	}
	if err := t.changedPlacements(ctx, vmap, `DELETE FROM folder_videos fv WHERE fv.video_id = ANY($2)
		AND NOT EXISTS (SELECT 1 FROM unnest($1::bigint[], $2::bigint[]) AS n(f, v) WHERE n.f = fv.folder_id AND n.v = fv.video_id)
		RETURNING fv.video_id`,
		folderIDs, videoIDs); err != nil {
		return err
	}
	return t.changedPlacements(ctx, vmap, `INSERT INTO folder_videos AS fv (folder_id, video_id, sort_order)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[])
		ON CONFLICT (folder_id, video_id) DO UPDATE SET sort_order = excluded.sort_order
		WHERE fv.sort_order <> excluded.sort_order RETURNING fv.video_id`, folderIDs, videoIDs, orders)
}

// UnplaceVideos implements tree.Tx.
func (t *treeTx) UnplaceVideos(ctx context.Context, vimeoIDs []string) error {
	if len(vimeoIDs) == 0 {
		return nil
	}
	vmap, err := t.idsOf(ctx, "video", vimeoIDs)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(vmap))
	for _, id := range vmap {
		ids = append(ids, id)
	}
	return t.changedPlacements(ctx, vmap, `DELETE FROM folder_videos WHERE video_id = ANY($1) RETURNING video_id`, ids)
}

func (t *treeTx) setVideosDeleted(ctx context.Context, vimeoIDs []string, deleted bool) error {
	if len(vimeoIDs) == 0 {
		return nil
	}
	if _, err := t.idsOf(ctx, "video", vimeoIDs); err != nil {
		return err
	}
	q := `UPDATE videos SET deleted_at = NULL, updated_at = now() WHERE vimeo_video_id = ANY($1) AND deleted_at IS NOT NULL RETURNING vimeo_video_id`
	if deleted {
		q = `UPDATE videos SET deleted_at = now(), updated_at = now() WHERE vimeo_video_id = ANY($1) AND deleted_at IS NULL RETURNING vimeo_video_id`
	}
	return t.changed(ctx, "video", q, vimeoIDs)
}

// DeleteVideos implements tree.Tx.
func (t *treeTx) DeleteVideos(ctx context.Context, vimeoIDs []string) error {
	return t.setVideosDeleted(ctx, vimeoIDs, true)
}

// RestoreVideos implements tree.Tx.
func (t *treeTx) RestoreVideos(ctx context.Context, vimeoIDs []string) error {
	return t.setVideosDeleted(ctx, vimeoIDs, false)
}

// SetVideoHidden implements tree.Tx.
func (t *treeTx) SetVideoHidden(ctx context.Context, vimeoID string, hidden bool) error {
	if _, err := t.idsOf(ctx, "video", []string{vimeoID}); err != nil {
		return err
	}
	return t.changed(ctx, "video", `UPDATE videos SET hidden = $2, updated_at = now() WHERE vimeo_video_id = $1 AND hidden <> $2
		RETURNING vimeo_video_id`, vimeoID, hidden)
}

// EnqueueOutbox implements tree.Tx. An outbox row alone does not change the
// mirror, so it does not bump the content version.
func (t *treeTx) EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error {
	if err := events.ValidateOutbox(topic, key, payload); err != nil {
		return fmt.Errorf("%w: %v", tree.ErrInvalid, err)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)`, topic, key, payload)
	return translate(err, treeErrs)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// pictureJSON is how a thumbnail size is stored in videos.pictures.
type pictureJSON struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	URL    string `json:"url"`
}

// encodeTagsPictures encodes a video's tags and pictures for the jsonb
// columns; none is "[]".
func encodeTagsPictures(tags []string, pics []tree.Picture) (string, string) {
	if tags == nil {
		tags = []string{}
	}
	ps := make([]pictureJSON, len(pics))
	for i, p := range pics {
		ps[i] = pictureJSON(p)
	}
	tj, _ := json.Marshal(tags) // strings and ints always encode
	pj, _ := json.Marshal(ps)
	return string(tj), string(pj)
}

// decodeTagsPictures is encodeTagsPictures' inverse; "[]" decodes to nil.
func decodeTagsPictures(tj, pj []byte) ([]string, []tree.Picture, error) {
	var tags []string
	var ps []pictureJSON
	if err := json.Unmarshal(tj, &tags); err != nil {
		return nil, nil, fmt.Errorf("decode tags: %w", err)
	}
	if err := json.Unmarshal(pj, &ps); err != nil {
		return nil, nil, fmt.Errorf("decode pictures: %w", err)
	}
	var pics []tree.Picture
	for _, p := range ps {
		pics = append(pics, tree.Picture(p))
	}
	if len(tags) == 0 {
		tags = nil
	}
	return tags, pics, nil
}
