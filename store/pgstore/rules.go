package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/entitle"
)

var _ entitle.RuleStore = (*Store)(nil)

var ruleErrs = domainErrs{notFound: entitle.ErrNotFound, duplicate: entitle.ErrDuplicate, invalid: entitle.ErrInvalid}

const bumpEntitlement = `UPDATE versions SET value = value + 1, updated_at = now() WHERE name = 'entitlement' RETURNING value`

// ListRules implements entitle.RuleStore: the rules and their version, read
// together in one snapshot.
func (s *Store) ListRules(ctx context.Context) ([]entitle.Rule, int64, error) {
	var rules []entitle.Rule
	var version int64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT value FROM versions WHERE name = 'entitlement'`).Scan(&version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, subject, target_kind, target_id, effect, lock_reason, note, created_by, created_at FROM entitlements ORDER BY id`)
		if err != nil {
			return err
		}
		rules, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (entitle.Rule, error) {
			var rule entitle.Rule
			var subject string
			if err := r.Scan(&rule.ID, &subject, &rule.Target.Kind, &rule.Target.ID, &rule.Effect, &rule.LockReason, &rule.Note, &rule.CreatedBy, &rule.CreatedAt); err != nil {
				return rule, err
			}
			sub, err := entitle.ParseSubject(subject)
			rule.Subject = sub
			return rule, err
		})
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("pgstore: list rules: %w", translate(err, ruleErrs))
	}
	return rules, version, nil
}

// AddRule implements entitle.RuleStore: AddRuleAudited with nothing to
// audit.
func (s *Store) AddRule(ctx context.Context, r entitle.Rule) (entitle.Rule, int64, error) {
	return s.AddRuleAudited(ctx, r, func(context.Context, entitle.OutboxWriter, entitle.Rule, int64) error { return nil })
}

// RemoveRule implements entitle.RuleStore: RemoveRuleAudited with nothing
// to audit.
func (s *Store) RemoveRule(ctx context.Context, id int64) (int64, error) {
	return s.RemoveRuleAudited(ctx, id, func(context.Context, entitle.OutboxWriter, entitle.Rule, int64) error { return nil })
}

// EntitlementVersion implements entitle.RuleStore.
func (s *Store) EntitlementVersion(ctx context.Context) (int64, error) {
	return s.version(ctx, "entitlement")
}
