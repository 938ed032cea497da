package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

var (
	_ tree.AdminStore           = (*Store)(nil)
	_ events.DeadLetterSearcher = (*Store)(nil)
	_ events.IdempotencyStore   = (*Store)(nil)
)

// likeText is a case-insensitive substring pattern with LIKE's wildcards escaped.
func likeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// The searched texts: the expressions of the GIN indexes of migration 0004
// (a query must repeat them exactly for the index to apply).
const (
	providerEventText = `to_tsvector('simple', object_id || ' ' || event_key || ' ' || error)`
	deadLetterText    = `to_tsvector('simple', event_id || ' ' || key || ' ' || error || ' ' || note)`
)

// tsPrefixQuery is a full-text query for events.TextWords: every word as a
// prefix ('w':* & …). Words are letters and digits only, so need no quoting.
func tsPrefixQuery(text string) string {
	words := events.TextWords(text)
	for i, w := range words {
		words[i] = "'" + w + "':*"
	}
	return strings.Join(words, " & ")
}

// words adds a match of every word of text, as a prefix, against doc (one
// of the indexed texts above), unless text is empty.
func (w *where) words(doc, text string) {
	if text != "" {
		w.add(doc+" @@ to_tsquery('simple', $?)", tsPrefixQuery(text))
	}
}

// SearchSyncRuns implements tree.AdminStore.
func (s *Store) SearchSyncRuns(ctx context.Context, q tree.SyncRunQuery) ([]tree.SyncRun, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	var w where
	w.eq("trigger", q.Trigger)
	switch q.Status {
	case tree.RunRunning:
		w.conds = append(w.conds, "finished_at IS NULL")
	case tree.RunHeld:
		w.conds = append(w.conds, "held AND finished_at IS NOT NULL")
	case tree.RunFailed:
		w.conds = append(w.conds, "finished_at IS NOT NULL AND NOT held AND (NOT complete OR errors <> '[]'::jsonb)")
	case tree.RunOK:
		w.conds = append(w.conds, "finished_at IS NOT NULL AND NOT held AND complete AND errors = '[]'::jsonb")
	}
	w.between("started_at", q.From, q.To)
	w.below("id", q.Before)
	sql, args := w.sql(`SELECT `+syncRunSummaryColumns+` FROM sync_runs`, "id DESC", q.Limit)
	return collect(ctx, s.pool, sql, args, scanSyncRunSummary, treeErrs, "search sync runs")
}

// syncRunSummaryColumns are syncRunColumns without the recorded changes,
// for lists.
const syncRunSummaryColumns = `id, trigger, started_at, finished_at, complete, held, counts, api_calls, errors,
	changes_total, held_status, held_by, held_decided_at`

func scanSyncRunSummary(row pgx.CollectableRow) (tree.SyncRun, error) {
	var r tree.SyncRun
	var finished, decided *time.Time
	var status string
	err := row.Scan(&r.ID, &r.Trigger, &r.StartedAt, &finished, &r.Complete, &r.Held, &r.Counts, &r.APICalls, &r.Errors,
		&r.ChangesTotal, &status, &r.HeldBy, &decided)
	r.FinishedAt, r.HeldDecidedAt, r.HeldStatus = deref(finished), deref(decided), tree.HeldStatus(status)
	return r, err
}

// SyncRun implements tree.AdminStore.
func (s *Store) SyncRun(ctx context.Context, id int64) (tree.SyncRun, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+syncRunColumns+` FROM sync_runs WHERE id = $1`, id)
	r, err := pgx.CollectExactlyOneRow(rows, scanSyncRun)
	if err != nil {
		return tree.SyncRun{}, fmt.Errorf("pgstore: sync run %d: %w", id, translate(err, treeErrs))
	}
	return r, nil
}

// SearchVideos implements tree.AdminStore.
func (s *Store) SearchVideos(ctx context.Context, q tree.VideoQuery) ([]tree.Video, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	var w where
	switch q.State {
	case tree.StateDeleted:
		w.conds = append(w.conds, "deleted_at IS NOT NULL")
	case tree.StateHidden:
		w.conds = append(w.conds, "hidden")
	case tree.StateUnavailable:
		w.conds = append(w.conds, "status <> 'available'")
	default:
		w.conds = append(w.conds, "(deleted_at IS NOT NULL OR hidden OR status <> 'available')")
	}
	if q.Text != "" {
		w.add(`(title ILIKE $? OR vimeo_video_id LIKE $?)`, likeText(q.Text))
	}
	if q.After != "" {
		w.add("vimeo_video_id < $?", q.After)
	}
	sql, args := w.sql(`SELECT id, vimeo_video_id, title, status, hidden, updated_at, deleted_at FROM videos`, "vimeo_video_id DESC", q.Limit)
	return collect(ctx, s.pool, sql, args, func(row pgx.CollectableRow) (tree.Video, error) {
		var v tree.Video
		var deleted *time.Time
		err := row.Scan(&v.ID, &v.VimeoID, &v.Title, &v.Status, &v.Hidden, &v.UpdatedAt, &deleted)
		v.DeletedAt = deref(deleted)
		return v, err
	}, treeErrs, "search videos")
}

// SearchDeadLetters implements events.DeadLetterSearcher.
func (s *Store) SearchDeadLetters(ctx context.Context, q events.DeadLetterQuery) ([]events.DeadLetter, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	var w where
	w.eq("status", string(q.Status))
	w.eq("topic", q.Topic)
	w.eq("event_id", q.EventID)
	w.words(deadLetterText, q.Text)
	w.between("last_failed_at", q.From, q.To)
	w.below("id", q.Before)
	sql, args := w.sql(`SELECT `+deadLetterCols+` FROM dead_letters`, "id DESC", q.Limit)
	return collect(ctx, s.pool, sql, args, scanDeadLetter, eventErrs, "search dead letters")
}

// SearchProviderEvents implements events.DeadLetterSearcher.
func (s *Store) SearchProviderEvents(ctx context.Context, q events.ProviderEventQuery) ([]events.ProviderEvent, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	var w where
	w.eq("provider", q.Provider)
	w.eq("status", string(q.Status))
	w.eq("event_type", q.EventType)
	w.words(providerEventText, q.Text)
	w.between("received_at", q.From, q.To)
	w.below("id", q.Before)
	sql, args := w.sql(`SELECT `+providerEventCols+` FROM provider_events`, "id DESC", q.Limit)
	return collect(ctx, s.pool, sql, args, scanProviderEvent, eventErrs, "search provider events")
}

// AddDeadLetterChange implements events.DeadLetterSearcher.
func (s *Store) AddDeadLetterChange(ctx context.Context, c events.DeadLetterChange) error {
	if c.Kind == "" {
		return events.Invalid("dead letter change", "kind", "is required")
	}
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO dead_letter_history (dead_letter_id, occurred_at, kind, actor, error, attempts, note, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.DeadLetterID, c.Time, c.Kind, c.Actor, c.Error, c.Attempts, c.Note, c.Status)
	if err != nil {
		return fmt.Errorf("pgstore: dead letter %d history: %w", c.DeadLetterID, translate(err, eventErrs))
	}
	return nil
}

// DeadLetterHistory implements events.DeadLetterSearcher.
func (s *Store) DeadLetterHistory(ctx context.Context, id int64) ([]events.DeadLetterChange, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, dead_letter_id, occurred_at, kind, actor, error, attempts, note, status
		FROM dead_letter_history WHERE dead_letter_id = $1 ORDER BY occurred_at, id`, id)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (events.DeadLetterChange, error) {
		var c events.DeadLetterChange
		err := row.Scan(&c.ID, &c.DeadLetterID, &c.Time, &c.Kind, &c.Actor, &c.Error, &c.Attempts, &c.Note, &c.Status)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: dead letter %d history: %w", id, translate(err, eventErrs))
	}
	if len(out) == 0 || out[0].Kind != events.ChangeFailed {
		// A letter recorded before the history existed: its failures as one entry.
		d, err := s.GetDeadLetter(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append([]events.DeadLetterChange{{DeadLetterID: id, Time: d.FirstFailedAt, Kind: events.ChangeFailed,
			Error: d.Error, Attempts: d.Attempts, Status: string(events.DeadLetterOpen)}}, out...)
	}
	return out, nil
}

// ClaimIdempotency implements events.IdempotencyStore.
func (s *Store) ClaimIdempotency(ctx context.Context, key, fingerprint string) (events.IdempotentRequest, bool, error) {
	// Forget expired keys (this one included) first: an index range scan that
	// is empty almost always.
	if _, err := s.pool.Exec(ctx, `DELETE FROM admin_idempotency WHERE created_at < $1`, time.Now().Add(-events.IdempotencyTTL)); err != nil {
		return events.IdempotentRequest{}, false, fmt.Errorf("pgstore: expire idempotency keys: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO admin_idempotency (key, fingerprint) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, fingerprint)
	if err != nil {
		return events.IdempotentRequest{}, false, fmt.Errorf("pgstore: claim idempotency key: %w", translate(err, eventErrs))
	}
	if tag.RowsAffected() == 1 {
		return events.IdempotentRequest{}, true, nil
	}
	r := events.IdempotentRequest{Key: key}
	err = s.pool.QueryRow(ctx, `SELECT fingerprint, done, status, body, created_at FROM admin_idempotency WHERE key = $1`, key).
		Scan(&r.Fingerprint, &r.Done, &r.Status, &r.Body, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) { // released in between: try again
		return s.ClaimIdempotency(ctx, key, fingerprint)
	}
	if err != nil {
		return events.IdempotentRequest{}, false, fmt.Errorf("pgstore: read idempotency key: %w", err)
	}
	return r, false, nil
}

// CompleteIdempotency implements events.IdempotencyStore.
func (s *Store) CompleteIdempotency(ctx context.Context, key string, status int, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE admin_idempotency SET done = true, status = $2, body = $3 WHERE key = $1 AND NOT done`, key, status, body)
	if err != nil {
		return fmt.Errorf("pgstore: complete idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: idempotency key not claimed or already complete", events.ErrConflict)
	}
	return nil
}

// ReleaseIdempotency implements events.IdempotencyStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM admin_idempotency WHERE key = $1 AND NOT done`, key); err != nil {
		return fmt.Errorf("pgstore: release idempotency key: %w", err)
	}
	return nil
}

// SetUserDisabled disables a user (or enables them again): their tokens are
// refused with auth.ErrUserDisabled.
func (s *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	var tag interface{ RowsAffected() int64 }
	var err error
	if disabled {
		tag, err = s.pool.Exec(ctx, `UPDATE users SET disabled_at = COALESCE(disabled_at, now()), updated_at = now() WHERE id::text = $1`, userID)
	} else {
		tag, err = s.pool.Exec(ctx, `UPDATE users SET disabled_at = NULL, updated_at = now() WHERE id::text = $1`, userID)
	}
	if err != nil {
		return fmt.Errorf("pgstore: disable user: %w", translate(err, authErrs))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: user %s: %w", userID, auth.ErrNotFound)
	}
	return nil
}
