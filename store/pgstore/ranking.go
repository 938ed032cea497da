package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/rank"
)

// SetRankedFeed replaces the user's rows in user_video_rankings with the
// feed, in one transaction: rank is the position, reason the encoded
// rank.Reason, version the content version, computed_at the feed's time.
// Videos the mirror does not hold are left out. A user id that is not a
// UUID is rank.ErrInvalid.
func (s *Store) SetRankedFeed(ctx context.Context, f *rank.Feed) error {
	if _, err := uuid.Parse(f.UserID); err != nil {
		return fmt.Errorf("pgstore: ranked feed: user %q: %w", f.UserID, rank.ErrInvalid)
	}
	n := len(f.Items)
	ids, scores, reasons, ranks := make([]string, n), make([]float64, n), make([]string, n), make([]int32, n)
	for i, it := range f.Items {
		ids[i], scores[i], reasons[i], ranks[i] = it.VideoID, it.Score, it.Reason.Encode(), int32(i)
	}
	computed := f.ComputedAt
	if computed.IsZero() {
		computed = time.Now()
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM user_video_rankings WHERE user_id = $1`, f.UserID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO user_video_rankings (user_id, video_id, rank, score, reason, version, computed_at)
			SELECT $1::uuid, v.id, r.rank, r.score, r.reason, $6, $7
			FROM unnest($2::text[], $3::int[], $4::float8[], $5::text[]) AS r(vimeo_id, rank, score, reason)
			JOIN videos v ON v.vimeo_video_id = r.vimeo_id
			JOIN users u ON u.id = $1::uuid
			ON CONFLICT (user_id, video_id) DO NOTHING`,
			f.UserID, ids, ranks, scores, reasons, f.ContentVersion, computed)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: ranked feed of %s: %w", f.UserID, err)
	}
	return nil
}

// RankedFeed returns the user's last stored feed, best first, whatever
// content version it was computed for, or rank.ErrNoFeed.
func (s *Store) RankedFeed(ctx context.Context, userID string, _ int64) (*rank.Feed, error) {
	if _, err := uuid.Parse(userID); err != nil {
		return nil, rank.ErrNoFeed
	}
	rows, _ := s.pool.Query(ctx, `SELECT v.vimeo_video_id, r.score, r.reason, r.version, r.computed_at
		FROM user_video_rankings r JOIN videos v ON v.id = r.video_id
		WHERE r.user_id = $1 ORDER BY r.rank`, userID)
	f := &rank.Feed{UserID: userID}
	var id, reason string
	var score float64
	_, err := pgx.ForEachRow(rows, []any{&id, &score, &reason, &f.ContentVersion, &f.ComputedAt}, func() error {
		f.Items = append(f.Items, rank.Item{VideoID: id, Score: score, Reason: rank.DecodeReason(reason)})
		return nil
	})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && len(f.Items) == 0) {
		return nil, rank.ErrNoFeed
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: ranked feed of %s: %w", userID, err)
	}
	return f, nil
}

// RecordAudience keeps the roles and segments the user last signed in
// with (user_audiences). An unchanged audience writes nothing (the row and
// its seen_at, when the audience was first seen, stay as they are).
func (s *Store) RecordAudience(ctx context.Context, userID string, roles []string, segments map[string]string) error {
	if roles == nil {
		roles = []string{}
	}
	if segments == nil {
		segments = map[string]string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO user_audiences (user_id, roles, segments, seen_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (user_id) DO UPDATE SET roles = excluded.roles, segments = excluded.segments, seen_at = excluded.seen_at
		WHERE user_audiences.roles IS DISTINCT FROM excluded.roles OR user_audiences.segments IS DISTINCT FROM excluded.segments`,
		userID, roles, segments)
	if err != nil {
		return fmt.Errorf("pgstore: record audience of %s: %w", userID, err)
	}
	return nil
}

// UserAudience returns the audience RecordAudience kept, or empty ones.
func (s *Store) UserAudience(ctx context.Context, userID string) ([]string, map[string]string, error) {
	var roles []string
	var segments map[string]string
	err := s.pool.QueryRow(ctx, `SELECT roles, segments FROM user_audiences WHERE user_id = $1`, userID).Scan(&roles, &segments)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pgstore: audience of %s: %w", userID, err)
	}
	return roles, segments, nil
}
