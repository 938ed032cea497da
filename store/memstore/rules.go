package memstore

import (
	"context"
	"slices"

	"github.com/vidlib/vidlib/entitle"
)

var _ entitle.RuleStore = (*Store)(nil)

type rulesState struct {
	rules   []entitle.Rule // ordered by id
	nextID  int64
	version int64
	feed    []ruleChange // the last entitle.FeedRetention versions, one each, ascending
}

func (r *rulesState) init() {}

// ListRules implements entitle.RuleStore.
func (s *Store) ListRules(_ context.Context) ([]entitle.Rule, int64, error) {
	s.rulesMu.RLock()
	defer s.rulesMu.RUnlock()
	return slices.Clone(s.rules.rules), s.rules.version, nil
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
func (s *Store) EntitlementVersion(_ context.Context) (int64, error) {
	s.rulesMu.RLock()
	defer s.rulesMu.RUnlock()
	return s.rules.version, nil
}
