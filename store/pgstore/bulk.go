package pgstore

// Bulk loading: filling an empty store with COPY instead of row-by-row
// upserts, for the benchmark's generated libraries and first imports. Each
// method runs in one transaction and changes nothing when it fails.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// ErrNotEmpty is returned by BulkLoadTree when the mirror already holds a
// folder or a video.
var ErrNotEmpty = errors.New("pgstore: the mirror is not empty")

// BulkLoadTree writes folders, videos and placements into an empty mirror
// with COPY, in one transaction that bumps the content version once, and
// returns the new version. Folders must come parents first; every placement
// must name a given folder and video, at most once; a deleted folder's
// folders must be deleted too. What Update would
// refuse (invalid records, an unknown parent or object, a duplicate) is
// refused here too, before anything is written; a mirror that is not empty
// gives ErrNotEmpty. The version it makes has no change feed entry (it
// would list the whole mirror): a reader holding an earlier version gets
// tree.ErrFeedGap from ContentChangesSince and reloads, as a reader too far
// behind does.
func (s *Store) BulkLoadTree(ctx context.Context, folders []tree.Folder, videos []tree.Video, placements []tree.Placement) (int64, error) {
	if err := tree.ValidateFolders(folders); err != nil {
		return 0, err
	}
	if err := tree.ValidateVideos(videos); err != nil {
		return 0, err
	}
	// Positions, and parents before children.
	folderPos := make(map[string]int, len(folders))
	for i, f := range folders {
		if _, dup := folderPos[f.VimeoID]; dup {
			return 0, tree.Errorf(tree.ErrDuplicate, "folder", f.VimeoID, "given twice")
		}
		if f.ParentVimeoID != "" {
			p, ok := folderPos[f.ParentVimeoID]
			if !ok {
				return 0, tree.Errorf(tree.ErrOrphan, "folder", f.VimeoID, "parent %q is not given before it", f.ParentVimeoID)
			}
			if folders[p].Deleted() && !f.Deleted() {
				return 0, tree.Errorf(tree.ErrConflict, "folder", f.VimeoID, "parent %q is deleted", f.ParentVimeoID)
			}
		}
		folderPos[f.VimeoID] = i
	}
	videoPos := make(map[string]int, len(videos))
	for i, v := range videos {
		if _, dup := videoPos[v.VimeoID]; dup {
			return 0, tree.Errorf(tree.ErrDuplicate, "video", v.VimeoID, "given twice")
		}
		videoPos[v.VimeoID] = i
	}
	placed := make(map[[2]int]bool, len(placements))
	for _, p := range placements {
		fi, ok := folderPos[p.FolderVimeoID]
		if !ok {
			return 0, tree.Errorf(tree.ErrNotFound, "folder", p.FolderVimeoID, "not given")
		}
		vi, ok := videoPos[p.VideoVimeoID]
		if !ok {
			return 0, tree.Errorf(tree.ErrNotFound, "video", p.VideoVimeoID, "not given")
		}
		if placed[[2]int{fi, vi}] {
			return 0, tree.Errorf(tree.ErrDuplicate, "placement", p.VideoVimeoID, "placed twice in folder %q", p.FolderVimeoID)
		}
		placed[[2]int{fi, vi}] = true
	}

	var version int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, structureLock); err != nil {
			return err
		}
		var nonEmpty bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM folders) OR EXISTS (SELECT 1 FROM videos)`).Scan(&nonEmpty); err != nil {
			return err
		}
		if nonEmpty {
			return ErrNotEmpty
		}
		fids, err := reserveIDs(ctx, tx, "folders_id_seq", len(folders))
		if err != nil {
			return err
		}
		vids, err := reserveIDs(ctx, tx, "videos_id_seq", len(videos))
		if err != nil {
			return err
		}
		paths := make([]string, len(folders))
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"folders"},
			[]string{"id", "vimeo_folder_id", "parent_id", "path", "name", "sort_order", "vimeo_created_at", "vimeo_modified_at", "deleted_at"},
			pgx.CopyFromSlice(len(folders), func(i int) ([]any, error) {
				f := folders[i]
				var parent *int64
				paths[i] = "/"
				if f.ParentVimeoID != "" {
					p := folderPos[f.ParentVimeoID]
					parent, paths[i] = &fids[p], paths[p]
				}
				paths[i] += fmt.Sprint(fids[i]) + "/"
				return []any{fids[i], f.VimeoID, parent, paths[i], f.Name, int32(f.SortOrder),
					timePtr(f.CreatedAt), timePtr(f.ModifiedAt), timePtr(f.DeletedAt)}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy folders: %w", err)
		}
		total := n
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"videos"},
			[]string{"id", "vimeo_video_id", "title", "description", "thumbnail_url", "duration_seconds", "status", "visibility",
				"embed_key", "hidden", "vimeo_created_at", "vimeo_modified_at", "deleted_at", "embed_privacy", "tags", "pictures"},
			pgx.CopyFromSlice(len(videos), func(i int) ([]any, error) {
				v := videos[i]
				tags, pics := encodeTagsPictures(v.Tags, v.Pictures)
				return []any{vids[i], v.VimeoID, v.Title, v.Description, v.ThumbnailURL, int32(min(v.DurationSeconds, 1<<31-1)),
					string(v.Status), string(v.Visibility), v.EmbedKey, v.Hidden, timePtr(v.CreatedAt), timePtr(v.ModifiedAt),
					timePtr(v.DeletedAt), string(v.EmbedPrivacy), json.RawMessage(tags), json.RawMessage(pics)}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy videos: %w", err)
		}
		total += n
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"folder_videos"}, []string{"folder_id", "video_id", "sort_order"},
			pgx.CopyFromSlice(len(placements), func(i int) ([]any, error) {
				p := placements[i]
				return []any{fids[folderPos[p.FolderVimeoID]], vids[videoPos[p.VideoVimeoID]], int32(p.SortOrder)}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy placements: %w", err)
		}
		total += n
		q := `SELECT value FROM versions WHERE name = 'content'`
		if total > 0 {
			q = `UPDATE versions SET value = value + 1, updated_at = now() WHERE name = 'content' RETURNING value`
		}
		return tx.QueryRow(ctx, q).Scan(&version)
	})
	if err != nil {
		if errors.Is(err, ErrNotEmpty) {
			return 0, err
		}
		return 0, fmt.Errorf("pgstore: bulk load tree: %w", translate(err, treeErrs))
	}
	return version, nil
}

// reserveIDs takes n values of a sequence, in order.
func reserveIDs(ctx context.Context, tx pgx.Tx, seq string, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	rows, _ := tx.Query(ctx, `SELECT nextval($1::regclass) FROM generate_series(1, $2)`, seq, n)
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// BulkProvisionUsers creates users[i] with identity ids[i] and the roles
// roles[i] (which must exist), as ProvisionUser and GrantRole would for a
// first sign-in, with COPY in one transaction, and returns the users' ids.
// An identity that is already known fails the whole call (auth.ErrDuplicate)
// and nothing is written.
func (s *Store) BulkProvisionUsers(ctx context.Context, ids []auth.Identity, users []auth.User, roles [][]string) ([]string, error) {
	if len(ids) != len(users) || len(ids) != len(roles) {
		return nil, fmt.Errorf("%w: %d identities, %d users and %d role lists", auth.ErrInvalid, len(ids), len(users), len(roles))
	}
	for _, id := range ids {
		if err := validateIdentity(id); err != nil {
			return nil, err
		}
	}
	var out []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT gen_random_uuid()::text FROM generate_series(1, $1)`, len(ids))
		var err error
		if out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		now := time.Now()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "email", "display_name", "profile"},
			pgx.CopyFromSlice(len(users), func(i int) ([]any, error) {
				p := users[i].Profile
				if p == nil {
					p = map[string]string{}
				}
				return []any{out[i], users[i].Email, users[i].DisplayName, p}, nil
			})); err != nil {
			return fmt.Errorf("copy users: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"user_identities"},
			[]string{"issuer", "subject", "user_id", "provider", "email", "email_verified", "last_login_at"},
			pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) {
				id := ids[i]
				return []any{id.Issuer, id.Subject, out[i], id.Provider, id.Email, id.EmailVerified, now}, nil
			})); err != nil {
			return fmt.Errorf("copy identities: %w", err)
		}
		var grants [][2]string
		for i, rs := range roles {
			for _, r := range rs {
				grants = append(grants, [2]string{out[i], r})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"user_roles"}, []string{"user_id", "role"},
			pgx.CopyFromSlice(len(grants), func(i int) ([]any, error) { return []any{grants[i][0], grants[i][1]}, nil })); err != nil {
			return fmt.Errorf("copy roles: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: bulk provision users: %w", translate(err, authErrs))
	}
	return out, nil
}

// BulkAddRules adds rules as AddRule would, with COPY in one transaction
// that bumps the entitlement version once, and returns them stored (ids
// and creation times set, in order) with the new version. An invalid rule,
// or one whose subject and target another rule has, fails the whole call
// and nothing is written. The version it makes has no rule change feed
// entry (it would hold every rule): a reader holding an earlier version gets
// entitle.ErrFeedGap from RuleChangesSince and lists the rules, as a reader
// too far behind does.
func (s *Store) BulkAddRules(ctx context.Context, rules []entitle.Rule) ([]entitle.Rule, int64, error) {
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			return nil, 0, err
		}
	}
	if len(rules) == 0 {
		v, err := s.EntitlementVersion(ctx)
		return nil, v, err
	}
	out := make([]entitle.Rule, len(rules))
	copy(out, rules)
	var version int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		ids, err := reserveIDs(ctx, tx, "entitlements_id_seq", len(out))
		if err != nil {
			return err
		}
		var now time.Time
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"entitlements"},
			[]string{"id", "subject", "target_kind", "target_id", "effect", "lock_reason", "note", "created_by", "created_at"},
			pgx.CopyFromSlice(len(out), func(i int) ([]any, error) {
				r := &out[i]
				r.ID, r.CreatedAt = ids[i], now
				return []any{r.ID, r.Subject.String(), string(r.Target.Kind), r.Target.ID, string(r.Effect), string(r.LockReason),
					r.Note, r.CreatedBy, r.CreatedAt}, nil
			})); err != nil {
			return fmt.Errorf("copy rules: %w", err)
		}
		return tx.QueryRow(ctx, bumpEntitlement).Scan(&version)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("pgstore: bulk add rules: %w", translate(err, ruleErrs))
	}
	return out, version, nil
}
