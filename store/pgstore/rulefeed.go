package pgstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/entitle"
)

var _ entitle.RuleFeed = (*Store)(nil)

// recordRuleAdded writes the feed entry of the version that added r and
// prunes the entries past entitle.FeedRetention.
func recordRuleAdded(ctx context.Context, tx pgx.Tx, version int64, r entitle.Rule) error {
	if _, err := tx.Exec(ctx, `INSERT INTO rule_changes
			(version, rule_id, removed, subject, target_kind, target_id, effect, lock_reason, note, created_by, created_at)
			VALUES ($1, $2, false, $3, $4, $5, $6, $7, $8, $9, $10)`,
		version, r.ID, r.Subject.String(), r.Target.Kind, r.Target.ID, r.Effect, r.LockReason, r.Note, r.CreatedBy, r.CreatedAt); err != nil {
		return err
	}
	return pruneRuleChanges(ctx, tx, version)
}

// recordRuleRemoved writes the feed entry of the version that removed the
// rule and prunes the entries past entitle.FeedRetention.
func recordRuleRemoved(ctx context.Context, tx pgx.Tx, version, id int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO rule_changes (version, rule_id, removed) VALUES ($1, $2, true)`, version, id); err != nil {
		return err
	}
	return pruneRuleChanges(ctx, tx, version)
}

func pruneRuleChanges(ctx context.Context, tx pgx.Tx, version int64) error {
	_, err := tx.Exec(ctx, `DELETE FROM rule_changes WHERE version <= $1`, version-entitle.FeedRetention)
	return err
}

// RuleChangesSince implements entitle.RuleFeed: one repeatable-read
// transaction reads the entitlement version and the feed entries after
// version.
func (s *Store) RuleChangesSince(ctx context.Context, version int64) (entitle.RuleChanges, error) {
	if version < 0 {
		return entitle.RuleChanges{}, fmt.Errorf("%w: negative entitlement version %d", entitle.ErrInvalid, version)
	}
	type entry struct {
		removed bool
		rule    entitle.Rule
	}
	var (
		out     entitle.RuleChanges
		entries []entry
		gap     error
	)
	err := pgx.BeginTxFunc(ctx, s.pool, readTx, func(tx pgx.Tx) error {
		var cur int64
		if err := tx.QueryRow(ctx, `SELECT value FROM versions WHERE name = 'entitlement'`).Scan(&cur); err != nil {
			return err
		}
		out = entitle.RuleChanges{From: version, To: cur}
		switch {
		case version > cur:
			gap = fmt.Errorf("%w: version %d is ahead of the store's %d", entitle.ErrFeedGap, version, cur)
			return nil
		case version == cur:
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT rule_id, removed, subject, target_kind, target_id, effect, lock_reason, note, created_by, created_at
			FROM rule_changes WHERE version > $1 AND version <= $2 ORDER BY version`, version, cur)
		if err != nil {
			return err
		}
		entries, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
			var (
				e       entry
				subject string
				created *time.Time // NULL for a removal
			)
			if err := r.Scan(&e.rule.ID, &e.removed, &subject, &e.rule.Target.Kind, &e.rule.Target.ID, &e.rule.Effect,
				&e.rule.LockReason, &e.rule.Note, &e.rule.CreatedBy, &created); err != nil {
				return e, err
			}
			if !e.removed {
				if created != nil {
					e.rule.CreatedAt = *created
				}
				sub, err := entitle.ParseSubject(subject)
				if err != nil {
					return e, err
				}
				e.rule.Subject = sub
			}
			return e, nil
		})
		return err
	})
	if err != nil {
		return entitle.RuleChanges{}, fmt.Errorf("pgstore: rule changes: %w", translate(err, ruleErrs))
	}
	if gap != nil {
		return entitle.RuleChanges{}, gap
	}
	// Every AddRule and RemoveRule writes its entry, so the feed reaches
	// back iff it holds To-version entries after version.
	if out.To > version && int64(len(entries)) != out.To-version {
		return entitle.RuleChanges{}, fmt.Errorf("%w: version %d (%d of %d entries kept)", entitle.ErrFeedGap, version, len(entries), out.To-version)
	}
	added := map[int64]bool{}
	removed := map[int64]bool{}
	for _, e := range entries {
		if !e.removed {
			added[e.rule.ID] = true
		} else if added[e.rule.ID] {
			delete(added, e.rule.ID)
		} else {
			removed[e.rule.ID] = true
		}
	}
	for _, e := range entries {
		if !e.removed && added[e.rule.ID] {
			out.Added = append(out.Added, e.rule)
		}
	}
	slices.SortFunc(out.Added, func(a, b entitle.Rule) int { return cmp.Compare(a.ID, b.ID) })
	out.Removed = slices.Sorted(maps.Keys(removed))
	if len(out.Removed) == 0 {
		out.Removed = nil
	}
	return out, nil
}
