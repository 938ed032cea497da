package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/tree"
)

// RecordChatContext appends a generated chat context to hubspot_context
// (the folder id goes into the context column). The user must be a user
// of the users table and the video a mirrored video (tree.ErrNotFound
// otherwise).
func (s *Store) RecordChatContext(ctx context.Context, r hubspot.ContextRecord) error {
	c := make(map[string]string, len(r.Context)+1)
	for k, v := range r.Context {
		c[k] = v
	}
	if r.FolderID != "" {
		c["folder_id"] = r.FolderID
	}
	var exp *time.Time
	if !r.ExpiresAt.IsZero() {
		exp = &r.ExpiresAt
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO hubspot_context (user_id, video_id, context, created_at, expires_at)
		SELECT $1::uuid, v.id, $3, $4, $5 FROM videos v WHERE v.vimeo_video_id = $2`,
		r.UserID, r.VideoID, c, r.CreatedAt, exp)
	if err != nil {
		return fmt.Errorf("pgstore: record chat context of %s on %s: %w", r.UserID, r.VideoID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: record chat context: video %s: %w", r.VideoID, tree.ErrNotFound)
	}
	return nil
}

// ChatContexts returns the user's recorded chat contexts, newest first, at
// most limit (1…1000).
func (s *Store) ChatContexts(ctx context.Context, userID string, limit int) ([]hubspot.ContextRecord, error) {
	if limit <= 0 || limit > 1000 {
		return nil, fmt.Errorf("pgstore: chat contexts: limit %d outside 1…1000", limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT h.user_id::text, v.vimeo_video_id, h.context, h.created_at, h.expires_at
		FROM hubspot_context h JOIN videos v ON v.id = h.video_id
		WHERE h.user_id = $1::uuid ORDER BY h.created_at DESC, h.id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: chat contexts of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []hubspot.ContextRecord
	for rows.Next() {
		var r hubspot.ContextRecord
		var exp *time.Time
		if err := rows.Scan(&r.UserID, &r.VideoID, &r.Context, &r.CreatedAt, &exp); err != nil {
			return nil, fmt.Errorf("pgstore: chat contexts: %w", err)
		}
		if exp != nil {
			r.ExpiresAt = *exp
		}
		r.FolderID = r.Context["folder_id"]
		delete(r.Context, "folder_id")
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: chat contexts: %w", err)
	}
	return out, nil
}
