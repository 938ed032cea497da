package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/text"
)

// The events contracts this package implements.
var (
	_ events.OutboxStore        = (*Store)(nil)
	_ events.OutboxWriter       = (*Store)(nil)
	_ events.DeadLetterStore    = (*Store)(nil)
	_ events.DeadLetterCounter  = (*Store)(nil)
	_ events.ProviderEventStore = (*Store)(nil)
	_ events.Deduper            = (*Store)(nil)
	_ events.TxDeduper[pgx.Tx]  = (*Store)(nil)
)

// eventErrs are the sentinels driver errors of the events tables become.
var eventErrs = domainErrs{notFound: events.ErrNotFound, duplicate: events.ErrConflict, invalid: events.ErrInvalid}

const (
	maxRelayBatch    = 10000
	relayMarkTimeout = 30 * time.Second
)

// Outbox ----------------------------------------------------------------------

// EnqueueOutbox writes one outbox row in a transaction of its own, for writers
// that have no transaction (tree transactions use tree.Tx.EnqueueOutbox).
// Bad input is a *events.ValidationError and writes nothing.
func (s *Store) EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error {
	if err := events.ValidateOutbox(topic, key, payload); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)`, topic, key, payload)
	if err != nil {
		return fmt.Errorf("pgstore: enqueue outbox: %w", translate(err, eventErrs))
	}
	return nil
}

// claimOutboxSQL locks up to $1 unsent rows in id order, skipping rows other
// relays hold, and returns those that no older unsent row of the same key
// outside the batch precedes. first_foreign is, per key, the oldest unsent row
// that is not ours (held by another relay, or past our batch); a row of ours
// that comes after it must wait, or the key would be published out of order.
// The scan for it walks the key's unsent rows in id order (outbox_unsent_key_idx)
// past ours: O(batch) for the whole statement.
const claimOutboxSQL = `
WITH claimed AS MATERIALIZED (
    SELECT id, topic, key, payload, created_at, attempts
    FROM outbox
    WHERE sent_at IS NULL
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
), keys AS (
    SELECT DISTINCT key FROM claimed WHERE key <> ''
), firsts AS (
    SELECT k.key, (
        SELECT o.id FROM outbox o
        WHERE o.key = k.key AND o.sent_at IS NULL AND o.id NOT IN (SELECT id FROM claimed)
        ORDER BY o.id
        LIMIT 1
    ) AS first_foreign
    FROM keys k
)
SELECT c.id, c.topic, c.key, c.payload, c.created_at, c.attempts
FROM claimed c
LEFT JOIN firsts f ON f.key = c.key
WHERE f.first_foreign IS NULL OR c.id < f.first_foreign
ORDER BY c.id`

// RelayOutbox implements events.OutboxStore. The claimed rows stay locked
// (FOR UPDATE) while publish runs, in one transaction that then marks them;
// a relay that dies mid-way releases them unmarked, to be published again.
func (s *Store) RelayOutbox(ctx context.Context, limit int, publish func(ctx context.Context, batch []events.OutboxRecord) []error) (int, error) {
	if limit < 1 || limit > maxRelayBatch {
		return 0, events.Invalid("outbox relay", "limit", "must be between 1 and %d, got %d", maxRelayBatch, limit)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("pgstore: relay outbox: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	rows, _ := tx.Query(ctx, claimOutboxSQL, limit)
	batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (events.OutboxRecord, error) {
		var o events.OutboxRecord
		err := r.Scan(&o.ID, &o.Topic, &o.Key, &o.Payload, &o.CreatedAt, &o.Attempts)
		return o, err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: claim outbox rows: %w", err)
	}
	if len(batch) == 0 {
		return 0, tx.Commit(ctx)
	}

	errs := publish(ctx, batch)

	// The messages are out: record that even if ctx ended meanwhile, or they
	// would be published again. sent_at is the time of marking
	// (clock_timestamp), not the transaction's start (now() is claim time).
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relayMarkTimeout)
	defer cancel()
	sent := make([]int64, 0, len(batch))
	var failed []int64
	var reasons []string
	for i, rec := range batch {
		if errs == nil || errs[i] == nil {
			sent = append(sent, rec.ID)
		} else {
			failed = append(failed, rec.ID)
			reasons = append(reasons, text.Cut(errs[i].Error(), 2000))
		}
	}
	if len(sent) > 0 {
		if _, err := tx.Exec(mctx, `UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1)`, sent); err != nil {
			return 0, fmt.Errorf("pgstore: mark outbox rows sent: %w", err)
		}
	}
	if len(failed) > 0 {
		if _, err := tx.Exec(mctx, `UPDATE outbox o SET attempts = o.attempts + 1, last_error = f.reason
			FROM unnest($1::bigint[], $2::text[]) AS f(id, reason) WHERE o.id = f.id`, failed, reasons); err != nil {
			return 0, fmt.Errorf("pgstore: record outbox failures: %w", err)
		}
	}
	if err := tx.Commit(mctx); err != nil {
		return 0, fmt.Errorf("pgstore: relay outbox commit: %w", err)
	}
	return len(sent), nil
}

// OutboxBacklog implements events.OutboxStore.
func (s *Store) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: outbox backlog: %w", err)
	}
	return n, nil
}

// PruneOutbox deletes rows sent before the given time and returns how many.
// Unsent rows are never deleted.
func (s *Store) PruneOutbox(ctx context.Context, sentBefore time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1`, sentBefore)
	if err != nil {
		return 0, fmt.Errorf("pgstore: prune outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Dead letters ----------------------------------------------------------------

const deadLetterCols = `id, event_id, topic, dead_topic, key, payload, error, attempts,
	first_failed_at, last_failed_at, status, note, replay_count, replayed_at`

func scanDeadLetter(r pgx.CollectableRow) (events.DeadLetter, error) {
	var d events.DeadLetter
	var status string
	var replayed *time.Time
	err := r.Scan(&d.ID, &d.EventID, &d.Topic, &d.DeadTopic, &d.Key, &d.Payload, &d.Error, &d.Attempts,
		&d.FirstFailedAt, &d.LastFailedAt, &status, &d.Note, &d.ReplayCount, &replayed)
	d.Status = events.DeadLetterStatus(status)
	if replayed != nil {
		d.ReplayedAt = *replayed
	}
	if d.Payload == nil {
		d.Payload = []byte{}
	}
	return d, err
}

func (s *Store) oneDeadLetter(ctx context.Context, sql string, args ...any) (events.DeadLetter, error) {
	rows, _ := s.pool.Query(ctx, sql, args...)
	return pgx.CollectExactlyOneRow(rows, scanDeadLetter)
}

// RecordDeadLetter implements events.DeadLetterStore.
func (s *Store) RecordDeadLetter(ctx context.Context, d events.DeadLetter) (events.DeadLetter, error) {
	if err := d.Validate(); err != nil {
		return events.DeadLetter{}, err
	}
	d.FillFailureTimes(time.Now().UTC())
	out, err := s.oneDeadLetter(ctx, `
		INSERT INTO dead_letters (event_id, topic, dead_topic, key, payload, error, attempts, first_failed_at, last_failed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (topic, event_id) DO UPDATE SET
			dead_topic = EXCLUDED.dead_topic, key = EXCLUDED.key, payload = EXCLUDED.payload, error = EXCLUDED.error,
			attempts = dead_letters.attempts + EXCLUDED.attempts,
			first_failed_at = least(dead_letters.first_failed_at, EXCLUDED.first_failed_at),
			last_failed_at = greatest(dead_letters.last_failed_at, EXCLUDED.last_failed_at),
			status = 'open'
		RETURNING `+deadLetterCols,
		d.EventID, d.Topic, d.DeadTopic, d.Key, d.Payload, d.Error, d.Attempts, d.FirstFailedAt, d.LastFailedAt)
	if err != nil {
		return events.DeadLetter{}, fmt.Errorf("pgstore: record dead letter: %w", translate(err, eventErrs))
	}
	return out, nil
}

// ListDeadLetters implements events.DeadLetterStore.
func (s *Store) ListDeadLetters(ctx context.Context, f events.DeadLetterFilter) ([]events.DeadLetter, error) {
	return events.ListThrough(ctx, f, s.SearchDeadLetters)
}

// CountDeadLetters implements events.DeadLetterCounter. Counting one status
// reads only the dead_letters (status, id) index.
func (s *Store) CountDeadLetters(ctx context.Context, status events.DeadLetterStatus) (int64, error) {
	if status != "" && !status.Valid() {
		return 0, events.Invalid("dead letter count", "status", "unknown status %q", status)
	}
	var n int64
	var err error
	if status == "" {
		err = s.pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters`).Scan(&n)
	} else {
		err = s.pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE status = $1`, string(status)).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: count dead letters: %w", translate(err, eventErrs))
	}
	return n, nil
}

// GetDeadLetter implements events.DeadLetterStore.
func (s *Store) GetDeadLetter(ctx context.Context, id int64) (events.DeadLetter, error) {
	d, err := s.oneDeadLetter(ctx, `SELECT `+deadLetterCols+` FROM dead_letters WHERE id = $1`, id)
	if err != nil {
		return events.DeadLetter{}, fmt.Errorf("pgstore: dead letter %d: %w", id, translate(err, eventErrs))
	}
	return d, nil
}

// changeDeadLetter runs a conditional UPDATE … RETURNING; when it matches no
// row it tells ErrNotFound from ErrConflict (the row exists in another status).
func (s *Store) changeDeadLetter(ctx context.Context, id int64, what, sql string, args ...any) (events.DeadLetter, error) {
	d, err := s.oneDeadLetter(ctx, sql, args...)
	if err == nil {
		return d, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return events.DeadLetter{}, fmt.Errorf("pgstore: %s dead letter %d: %w", what, id, translate(err, eventErrs))
	}
	cur, gerr := s.GetDeadLetter(ctx, id)
	if gerr != nil {
		return events.DeadLetter{}, gerr
	}
	return events.DeadLetter{}, fmt.Errorf("%w: cannot %s dead letter %d: it is %s", events.ErrConflict, what, id, cur.Status)
}

// MarkDeadLetterReplayed implements events.DeadLetterStore.
func (s *Store) MarkDeadLetterReplayed(ctx context.Context, id int64) (events.DeadLetter, error) {
	return s.changeDeadLetter(ctx, id, "replay", `UPDATE dead_letters
		SET status = 'replayed', replay_count = replay_count + 1, replayed_at = now()
		WHERE id = $1 AND status <> 'replayed' RETURNING `+deadLetterCols, id)
}

// MarkDeadLetterIgnored implements events.DeadLetterStore.
func (s *Store) MarkDeadLetterIgnored(ctx context.Context, id int64, note string) (events.DeadLetter, error) {
	if err := events.ValidateNote(note); err != nil {
		return events.DeadLetter{}, err
	}
	return s.changeDeadLetter(ctx, id, "ignore", `UPDATE dead_letters
		SET status = 'ignored', note = CASE WHEN $2 = '' THEN note ELSE $2 END
		WHERE id = $1 AND status = 'open' RETURNING `+deadLetterCols, id, note)
}

// AnnotateDeadLetter implements events.DeadLetterStore.
func (s *Store) AnnotateDeadLetter(ctx context.Context, id int64, note string) (events.DeadLetter, error) {
	if err := events.ValidateNote(note); err != nil {
		return events.DeadLetter{}, err
	}
	d, err := s.oneDeadLetter(ctx, `UPDATE dead_letters SET note = $2 WHERE id = $1 RETURNING `+deadLetterCols, id, note)
	if err != nil {
		return events.DeadLetter{}, fmt.Errorf("pgstore: annotate dead letter %d: %w", id, translate(err, eventErrs))
	}
	return d, nil
}

// Provider events ---------------------------------------------------------------

const providerEventCols = `id, provider, event_key, event_type, object_id, source_timestamp, payload,
	received_at, status, processed_at, error`

func scanProviderEvent(r pgx.CollectableRow) (events.ProviderEvent, error) {
	var e events.ProviderEvent
	var status string
	var src, processed *time.Time
	err := r.Scan(&e.ID, &e.Provider, &e.EventKey, &e.EventType, &e.ObjectID, &src, &e.Payload,
		&e.ReceivedAt, &status, &processed, &e.Error)
	e.Status = events.ProviderEventStatus(status)
	if src != nil {
		e.SourceTimestamp = *src
	}
	if processed != nil {
		e.ProcessedAt = *processed
	}
	return e, err
}

// RecordProviderEvent implements events.ProviderEventStore.
func (s *Store) RecordProviderEvent(ctx context.Context, e events.ProviderEvent) (events.ProviderEvent, bool, error) {
	e, err := e.Normalize()
	if err != nil {
		return events.ProviderEvent{}, false, err
	}
	var src *time.Time
	if !e.SourceTimestamp.IsZero() {
		src = &e.SourceTimestamp
	}
	rows, _ := s.pool.Query(ctx, `
		INSERT INTO provider_events (provider, event_key, event_type, object_id, source_timestamp, payload)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (provider, event_key) DO NOTHING
		RETURNING `+providerEventCols,
		e.Provider, e.EventKey, e.EventType, e.ObjectID, src, e.Payload)
	out, err := pgx.CollectExactlyOneRow(rows, scanProviderEvent)
	if err == nil {
		return out, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return events.ProviderEvent{}, false, fmt.Errorf("pgstore: record provider event: %w", translate(err, eventErrs))
	}
	rows, _ = s.pool.Query(ctx, `SELECT `+providerEventCols+` FROM provider_events WHERE provider = $1 AND event_key = $2`, e.Provider, e.EventKey)
	out, err = pgx.CollectExactlyOneRow(rows, scanProviderEvent)
	if err != nil {
		return events.ProviderEvent{}, false, fmt.Errorf("pgstore: read duplicate provider event: %w", translate(err, eventErrs))
	}
	return out, true, nil
}

// GetProviderEvent implements events.ProviderEventStore.
func (s *Store) GetProviderEvent(ctx context.Context, id int64) (events.ProviderEvent, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+providerEventCols+` FROM provider_events WHERE id = $1`, id)
	e, err := pgx.CollectExactlyOneRow(rows, scanProviderEvent)
	if err != nil {
		return events.ProviderEvent{}, fmt.Errorf("pgstore: provider event %d: %w", id, translate(err, eventErrs))
	}
	return e, nil
}

// ListProviderEvents implements events.ProviderEventStore.
func (s *Store) ListProviderEvents(ctx context.Context, f events.ProviderEventFilter) ([]events.ProviderEvent, error) {
	return events.ListThrough(ctx, f, s.SearchProviderEvents)
}

// changeProviderEvent runs a conditional UPDATE; when it matches no row it
// reports ErrNotFound, nil when the event is already in the state okWhen, or
// ErrConflict.
func (s *Store) changeProviderEvent(ctx context.Context, id int64, what string, okWhen events.ProviderEventStatus, sql string, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("pgstore: mark provider event %d %s: %w", id, what, translate(err, eventErrs))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	cur, err := s.GetProviderEvent(ctx, id)
	if err != nil {
		return err
	}
	if cur.Status == okWhen {
		return nil
	}
	return fmt.Errorf("%w: cannot mark provider event %d %s: it is %s", events.ErrConflict, id, what, cur.Status)
}

// MarkProviderEventProcessed implements events.ProviderEventStore.
func (s *Store) MarkProviderEventProcessed(ctx context.Context, id int64) error {
	return s.changeProviderEvent(ctx, id, "processed", events.ProviderEventProcessed, `UPDATE provider_events
		SET status = 'processed', processed_at = now(), error = ''
		WHERE id = $1 AND status IN ('received', 'failed')`, id)
}

// MarkProviderEventFailed implements events.ProviderEventStore.
func (s *Store) MarkProviderEventFailed(ctx context.Context, id int64, reason string) error {
	if reason == "" {
		return events.Invalid("provider event", "error", "a failure needs a reason")
	}
	return s.changeProviderEvent(ctx, id, "failed", "", `UPDATE provider_events
		SET status = 'failed', error = $2
		WHERE id = $1 AND status IN ('received', 'failed')`, id, text.Cut(reason, 8<<10))
}

// Processed events (dedup) -------------------------------------------------------

// Processed implements events.Deduper.
func (s *Store) Processed(ctx context.Context, consumer, key string) (bool, error) {
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM processed_events WHERE consumer = $1 AND event_key = $2)`,
		consumer, key).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("pgstore: processed event: %w", err)
	}
	return ok, nil
}

// MarkProcessed implements events.Deduper.
func (s *Store) MarkProcessed(ctx context.Context, consumer, key string) (bool, error) {
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO processed_events (consumer, event_key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, consumer, key)
	if err != nil {
		return false, fmt.Errorf("pgstore: mark event processed: %w", translate(err, eventErrs))
	}
	return tag.RowsAffected() == 1, nil
}

// ProcessOnce implements events.TxDeduper[pgx.Tx]: it inserts the
// processed_events row first, then runs fn in the same transaction, and
// commits both or neither. A concurrent call with the same key waits on the
// unique index until the first commits (then skips) or rolls back (then runs).
// fn's error is returned unwrapped.
func (s *Store) ProcessOnce(ctx context.Context, consumer, key string, fn func(ctx context.Context, tx pgx.Tx) error) (bool, error) {
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	applied := false
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		first, err := MarkProcessedTx(ctx, tx, consumer, key)
		if err != nil || !first {
			return err
		}
		if fnErr = fn(ctx, tx); fnErr != nil {
			return fnErr
		}
		applied = true
		return nil
	})
	if fnErr != nil {
		return false, fnErr
	}
	if err != nil {
		return false, fmt.Errorf("pgstore: process once: %w", err)
	}
	return applied, nil
}

// MarkProcessedTx records (consumer, key) in the caller's own transaction and
// reports whether this call recorded it: false means the key was processed
// before, and the caller should roll back and skip. It is ProcessOnce for
// callers that already hold a transaction.
func MarkProcessedTx(ctx context.Context, tx pgx.Tx, consumer, key string) (bool, error) {
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO processed_events (consumer, event_key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, consumer, key)
	if err != nil {
		return false, fmt.Errorf("pgstore: mark event processed: %w", translate(err, eventErrs))
	}
	return tag.RowsAffected() == 1, nil
}

// PruneProcessedEvents deletes idempotency records older than before, and
// returns how many. Keep them longer than any redelivery can take (the topic's
// retention): a pruned key is processed again if its event comes back.
func (s *Store) PruneProcessedEvents(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM processed_events WHERE processed_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("pgstore: prune processed events: %w", err)
	}
	return tag.RowsAffected(), nil
}
