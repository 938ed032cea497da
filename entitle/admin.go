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

// AdminOptions tune an Admin. The zero value (and nil) is valid.
type AdminOptions struct {
	Logger *zap.Logger      // nil: no logging
	Now    func() time.Time // nil: time.Now
}

// Admin is the admin-facing way to change rules: every change goes to the
// RuleStore, which bumps the entitlement version, and is audited.
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

func (a *Admin) audit(ctx context.Context, action, actor string, r Rule, version int64) error {
	rec := AuditRecord{
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
	if err := a.auditor.Record(ctx, rec); err != nil {
		return fmt.Errorf("%w: %s rule %d (version %d): %w", ErrAudit, action, r.ID, version, err)
	}
	return nil
}
