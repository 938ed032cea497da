package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
)

var _ entitle.AuditedRuleStore = (*Store)(nil)

// bufferedOutbox collects the outbox rows of a rule change; they are written
// only if the change is.
type bufferedOutbox struct{ rows []events.OutboxRecord }

func (b *bufferedOutbox) EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := events.ValidateOutbox(topic, key, payload); err != nil {
		return err
	}
	b.rows = append(b.rows, events.OutboxRecord{Topic: topic, Key: key, Payload: slices.Clone(payload)})
	return nil
}

func (s *Store) flushOutbox(b *bufferedOutbox) {
	now := time.Now().UTC()
	for _, r := range b.rows {
		s.ev.enqueueOutbox(now, r)
	}
}

// AddRuleAudited implements entitle.AuditedRuleStore: fn's outbox rows and
// the rule are kept together, or neither.
func (s *Store) AddRuleAudited(ctx context.Context, r entitle.Rule,
	fn func(ctx context.Context, w entitle.OutboxWriter, stored entitle.Rule, version int64) error) (entitle.Rule, int64, error) {
	if err := r.Validate(); err != nil {
		return entitle.Rule{}, 0, err
	}
	s.rulesMu.Lock()
	defer s.rulesMu.Unlock()
	for _, cur := range s.rules.rules {
		if cur.Subject == r.Subject && cur.Target == r.Target {
			return entitle.Rule{}, 0, fmt.Errorf("%w: a rule for %s → %s exists (id %d)", entitle.ErrDuplicate, r.Subject, r.Target, cur.ID)
		}
	}
	r.ID, r.CreatedAt = s.rules.nextID+1, norm(time.Now())
	version := s.rules.version + 1
	var out bufferedOutbox
	if err := fn(ctx, &out, r, version); err != nil {
		return entitle.Rule{}, 0, err
	}
	s.rules.nextID++
	s.rules.rules = append(s.rules.rules, r)
	s.rules.version = version
	s.recordRuleChange(ruleChange{version: version, id: r.ID, added: true, rule: r})
	s.flushOutbox(&out)
	return r, version, nil
}

// RemoveRuleAudited implements entitle.AuditedRuleStore.
func (s *Store) RemoveRuleAudited(ctx context.Context, id int64,
	fn func(ctx context.Context, w entitle.OutboxWriter, removed entitle.Rule, version int64) error) (int64, error) {
	s.rulesMu.Lock()
	defer s.rulesMu.Unlock()
	i := slices.IndexFunc(s.rules.rules, func(r entitle.Rule) bool { return r.ID == id })
	if i < 0 {
		return 0, fmt.Errorf("%w: rule %d", entitle.ErrNotFound, id)
	}
	version := s.rules.version + 1
	var out bufferedOutbox
	if err := fn(ctx, &out, s.rules.rules[i], version); err != nil {
		return 0, err
	}
	s.rules.rules = slices.Delete(s.rules.rules, i, i+1)
	s.rules.version = version
	s.recordRuleChange(ruleChange{version: version, id: id})
	s.flushOutbox(&out)
	return version, nil
}
