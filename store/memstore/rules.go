package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vidlib/vidlib/entitle"
)

var _ entitle.RuleStore = (*Store)(nil)

type rulesState struct {
	rules   []entitle.Rule // ordered by id
	nextID  int64
	version int64
}

func (r *rulesState) init() {}

// ListRules implements entitle.RuleStore.
func (s *Store) ListRules(_ context.Context) ([]entitle.Rule, int64, error) {
	s.rulesMu.RLock()
	defer s.rulesMu.RUnlock()
	return slices.Clone(s.rules.rules), s.rules.version, nil
}

// AddRule implements entitle.RuleStore.
func (s *Store) AddRule(_ context.Context, r entitle.Rule) (entitle.Rule, int64, error) {
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
	s.rules.nextID++
	r.ID, r.CreatedAt = s.rules.nextID, norm(time.Now())
	s.rules.rules = append(s.rules.rules, r)
	s.rules.version++
	return r, s.rules.version, nil
}

// RemoveRule implements entitle.RuleStore.
func (s *Store) RemoveRule(_ context.Context, id int64) (int64, error) {
	s.rulesMu.Lock()
	defer s.rulesMu.Unlock()
	i := slices.IndexFunc(s.rules.rules, func(r entitle.Rule) bool { return r.ID == id })
	if i < 0 {
		return 0, fmt.Errorf("%w: rule %d", entitle.ErrNotFound, id)
	}
	s.rules.rules = slices.Delete(s.rules.rules, i, i+1)
	s.rules.version++
	return s.rules.version, nil
}

// EntitlementVersion implements entitle.RuleStore.
func (s *Store) EntitlementVersion(_ context.Context) (int64, error) {
	s.rulesMu.RLock()
	defer s.rulesMu.RUnlock()
	return s.rules.version, nil
}
