package entitle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// ErrAudit reports that a change was stored but its audit record could not be
// written; the caller must surface it (the change itself is not undone).
var ErrAudit = errors.New("entitle: audit record not written")

// Audit actions recorded by Admin.
const (
	ActionRuleAdded   = "entitlement.rule_added"
	ActionRuleRemoved = "entitlement.rule_removed"
)

// AuditRecord is one audited entitlement change. Details carry the rule's
// subject, target, effect, note and the new entitlement version.
type AuditRecord struct {
	Action  string // ActionRuleAdded or ActionRuleRemoved
	Actor   string // who made the change
	Object  string // "rule:<id>"
	Time    time.Time
	Details map[string]string
}

// Auditor receives audit records. It is expected to be durable before it
// returns nil (an outbox, or a publisher that waits for acknowledgement).
type Auditor interface {
	Record(ctx context.Context, rec AuditRecord) error
}

// OutboxWriter is the outbox of the transaction that changes the rules (the
// method of events.OutboxWriter, declared here so entitle imports nothing of
// the event bus).
type OutboxWriter interface {
	EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error
}

// TxAuditor is an Auditor that can also write a record into the outbox of an
// open transaction, durable exactly when that transaction commits
// (audit.Recorder.RuleChanges).
type TxAuditor interface {
	Auditor
	RecordTx(ctx context.Context, w OutboxWriter, rec AuditRecord) error
}

// AuditedRuleStore is a RuleStore that changes a rule and writes outbox rows
// in one transaction: fn is called inside it with the transaction's outbox,
// the rule as stored (as removed) and the new version, and an error from fn
// rolls the change back. store/pgstore and store/memstore implement it.
type AuditedRuleStore interface {
	AddRuleAudited(ctx context.Context, r Rule, fn func(ctx context.Context, w OutboxWriter, stored Rule, version int64) error) (Rule, int64, error)
	RemoveRuleAudited(ctx context.Context, id int64, fn func(ctx context.Context, w OutboxWriter, removed Rule, version int64) error) (int64, error)
}

// AdminOptions tune an Admin. The zero value (and nil) is valid.
type AdminOptions struct {
	Logger *zap.Logger      // nil: no logging
	Now    func() time.Time // nil: time.Now
}

// Admin is the admin-facing way to change rules: every change goes to the
// RuleStore, which bumps the entitlement version, and is audited. When the
// store is an AuditedRuleStore and the auditor a TxAuditor, the change and
// its audit record commit in one transaction (a change that cannot be
// audited is not made); otherwise the record is written after the change.
type Admin struct {
	store   RuleStore
	auditor Auditor
	log     *zap.Logger
	now     func() time.Time
}

// NewAdmin returns an Admin over a rule store and an auditor (both required).
func NewAdmin(store RuleStore, auditor Auditor, opts *AdminOptions) (*Admin, error) {
	if store == nil || auditor == nil {
		return nil, fmt.Errorf("%w: NewAdmin needs a RuleStore and an Auditor", ErrInvalid)
	}
	if opts == nil {
		opts = &AdminOptions{}
	}
	a := &Admin{store: store, auditor: auditor, log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = zap.NewNop()
	}
	a.log = a.log.Named("entitle")
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// ListRules returns every rule ordered by id and the entitlement version.
func (a *Admin) ListRules(ctx context.Context) ([]Rule, int64, error) {
	rules, v, err := a.store.ListRules(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("entitle: list rules: %w", err)
	}
	return rules, v, nil
}

// AddRule validates and stores a rule on behalf of actor, and audits it. It
// returns the stored rule and the new entitlement version. Invalid input
// (ErrInvalid) and duplicates (ErrDuplicate) change nothing.
func (a *Admin) AddRule(ctx context.Context, actor string, r Rule) (Rule, int64, error) {
	if actor == "" {
		return Rule{}, 0, fmt.Errorf("%w: empty actor", ErrInvalid)
	}
	c, err := canonical(r)
	if err != nil {
		return Rule{}, 0, err
	}
	c.ID = 0
	c.CreatedBy = actor
	c.CreatedAt = a.now().UTC()
	if as, ta, ok := a.atomic(); ok {
		stored, version, err := as.AddRuleAudited(ctx, c, func(ctx context.Context, w OutboxWriter, stored Rule, version int64) error {
			return ta.RecordTx(ctx, w, a.record(ActionRuleAdded, actor, stored, version))
		})
		if err != nil {
			return Rule{}, 0, fmt.Errorf("entitle: add rule %s %s %s: %w", c.Subject, c.Effect, c.Target, err)
		}
		a.log.Info("rule added", zap.Int64("rule_id", stored.ID), zap.String("actor", actor), zap.Int64("version", version))
		return stored, version, nil
	}
	stored, version, err := a.store.AddRule(ctx, c)
	if err != nil {
		return Rule{}, 0, fmt.Errorf("entitle: add rule %s %s %s: %w", c.Subject, c.Effect, c.Target, err)
	}
	if err := a.audit(ctx, ActionRuleAdded, actor, stored, version); err != nil {
		return stored, version, err
	}
	a.log.Info("rule added", zap.Int64("rule_id", stored.ID), zap.String("actor", actor), zap.Int64("version", version))
	return stored, version, nil
}

// RemoveRule deletes a rule on behalf of actor (ErrNotFound for an unknown id),
// audits it and returns the new entitlement version.
func (a *Admin) RemoveRule(ctx context.Context, actor string, id int64) (int64, error) {
	if actor == "" {
		return 0, fmt.Errorf("%w: empty actor", ErrInvalid)
	}
	if as, ta, ok := a.atomic(); ok {
		version, err := as.RemoveRuleAudited(ctx, id, func(ctx context.Context, w OutboxWriter, removed Rule, version int64) error {
			return ta.RecordTx(ctx, w, a.record(ActionRuleRemoved, actor, removed, version))
		})
		if err != nil {
			return 0, fmt.Errorf("entitle: remove rule %d: %w", id, err)
		}
		a.log.Info("rule removed", zap.Int64("rule_id", id), zap.String("actor", actor), zap.Int64("version", version))
		return version, nil
	}
	rules, _, err := a.store.ListRules(ctx)
	if err != nil {
		return 0, fmt.Errorf("entitle: remove rule %d: %w", id, err)
	}
	var found *Rule
	for i := range rules {
		if rules[i].ID == id {
			found = &rules[i]
			break
		}
	}
	if found == nil {
		return 0, fmt.Errorf("entitle: remove rule %d: %w", id, ErrNotFound)
	}
	version, err := a.store.RemoveRule(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("entitle: remove rule %d: %w", id, err)
	}
	if err := a.audit(ctx, ActionRuleRemoved, actor, *found, version); err != nil {
		return version, err
	}
	a.log.Info("rule removed", zap.Int64("rule_id", id), zap.String("actor", actor), zap.Int64("version", version))
	return version, nil
}

// atomic returns the store and auditor for changes audited in their own
// transaction, if both support it.
func (a *Admin) atomic() (AuditedRuleStore, TxAuditor, bool) {
	as, ok1 := a.store.(AuditedRuleStore)
	ta, ok2 := a.auditor.(TxAuditor)
	return as, ta, ok1 && ok2
}

func (a *Admin) audit(ctx context.Context, action, actor string, r Rule, version int64) error {
	if err := a.auditor.Record(ctx, a.record(action, actor, r, version)); err != nil {
		return fmt.Errorf("%w: %s rule %d (version %d): %w", ErrAudit, action, r.ID, version, err)
	}
	return nil
}

func (a *Admin) record(action, actor string, r Rule, version int64) AuditRecord {
	return AuditRecord{
		Action: action,
		Actor:  actor,
		Object: "rule:" + strconv.FormatInt(r.ID, 10),
		Time:   a.now().UTC(),
		Details: map[string]string{
			"subject": r.Subject.String(),
			"target":  r.Target.String(),
			"effect":  string(r.Effect),
			"note":    r.Note,
			"version": strconv.FormatInt(version, 10),
		},
	}
}
