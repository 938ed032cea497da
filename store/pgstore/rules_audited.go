package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
)

var _ entitle.AuditedRuleStore = (*Store)(nil)

// txOutbox is the outbox of an open transaction.
type txOutbox struct{ tx pgx.Tx }

// OutboxTx returns the outbox of tx: rows written through it commit with tx.
// Writers that hold a transaction of their own use it to make a change and
// its audit record atomic (audit.Recorder.RecordTx(ctx, pgstore.OutboxTx(tx), rec)).
func OutboxTx(tx pgx.Tx) events.OutboxWriter { return txOutbox{tx} }

// EnqueueOutbox implements events.OutboxWriter inside the transaction.
func (o txOutbox) EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error {
	if err := events.ValidateOutbox(topic, key, payload); err != nil {
		return err
	}
	_, err := o.tx.Exec(ctx, `INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)`, topic, key, payload)
	return err
}

// AddRuleAudited implements entitle.AuditedRuleStore: the rule, the version
// bump and fn's outbox rows commit together.
func (s *Store) AddRuleAudited(ctx context.Context, r entitle.Rule,
	fn func(ctx context.Context, w entitle.OutboxWriter, stored entitle.Rule, version int64) error) (entitle.Rule, int64, error) {
	if err := r.Validate(); err != nil {
		return entitle.Rule{}, 0, err
	}
	var version int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO entitlements (subject, target_kind, target_id, effect, note, created_by, lock_reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
			r.Subject.String(), r.Target.Kind, r.Target.ID, r.Effect, r.Note, r.CreatedBy, r.LockReason).Scan(&r.ID, &r.CreatedAt)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, bumpEntitlement).Scan(&version); err != nil {
			return err
		}
		if err := recordRuleAdded(ctx, tx, version, r); err != nil {
			return err
		}
		return fn(ctx, txOutbox{tx}, r, version)
	})
	if err != nil {
		return entitle.Rule{}, 0, fmt.Errorf("pgstore: add rule %s → %s: %w", r.Subject, r.Target, translate(err, ruleErrs))
	}
	return r, version, nil
}

// RemoveRuleAudited implements entitle.AuditedRuleStore.
func (s *Store) RemoveRuleAudited(ctx context.Context, id int64,
	fn func(ctx context.Context, w entitle.OutboxWriter, removed entitle.Rule, version int64) error) (int64, error) {
	var version int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var r entitle.Rule
		var subject string
		err := tx.QueryRow(ctx, `DELETE FROM entitlements WHERE id = $1
			RETURNING id, subject, target_kind, target_id, effect, lock_reason, note, created_by, created_at`, id).
			Scan(&r.ID, &subject, &r.Target.Kind, &r.Target.ID, &r.Effect, &r.LockReason, &r.Note, &r.CreatedBy, &r.CreatedAt)
		if err != nil {
			return err
		}
		if r.Subject, err = entitle.ParseSubject(subject); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, bumpEntitlement).Scan(&version); err != nil {
			return err
		}
		if err := recordRuleRemoved(ctx, tx, version, r.ID); err != nil {
			return err
		}
		return fn(ctx, txOutbox{tx}, r, version)
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: remove rule %d: %w", id, translate(err, ruleErrs))
	}
	return version, nil
}
