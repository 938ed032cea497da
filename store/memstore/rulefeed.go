package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/vidlib/vidlib/entitle"
)

var _ entitle.RuleFeed = (*Store)(nil)

// ruleChange is what one entitlement version did: added rule, or removed
// the rule with id.
type ruleChange struct {
	version int64
	id      int64
	added   bool
	rule    entitle.Rule // when added
}

// recordRuleChange appends the change of a committed version to the rule
// feed and drops the entries past entitle.FeedRetention. The caller holds
// rulesMu for writing.
func (s *Store) recordRuleChange(c ruleChange) {
	s.rules.feed = append(s.rules.feed, c)
	if drop := len(s.rules.feed) - entitle.FeedRetention; drop > 0 {
		s.rules.feed = slices.Delete(s.rules.feed, 0, drop)
	}
}

// RuleChangesSince implements entitle.RuleFeed.
func (s *Store) RuleChangesSince(ctx context.Context, version int64) (entitle.RuleChanges, error) {
	if err := ctx.Err(); err != nil {
		return entitle.RuleChanges{}, err
	}
	if version < 0 {
		return entitle.RuleChanges{}, fmt.Errorf("%w: negative entitlement version %d", entitle.ErrInvalid, version)
	}
	s.rulesMu.RLock()
	defer s.rulesMu.RUnlock()
	cur := s.rules.version
	out := entitle.RuleChanges{From: version, To: cur}
	switch {
	case version > cur:
		return entitle.RuleChanges{}, fmt.Errorf("%w: version %d is ahead of the store's %d", entitle.ErrFeedGap, version, cur)
	case version == cur:
		return out, nil
	}
	// Entries are consecutive versions ending at cur.
	feed := s.rules.feed
	i := len(feed) - int(cur-version)
	if i < 0 || feed[i].version != version+1 {
		return entitle.RuleChanges{}, fmt.Errorf("%w: version %d", entitle.ErrFeedGap, version)
	}
	return netRuleChanges(out, feed[i:]), nil
}

// netRuleChanges fills out with the net effect of the entries: a rule added
// and removed among them is in neither list.
func netRuleChanges(out entitle.RuleChanges, entries []ruleChange) entitle.RuleChanges {
	added := map[int64]int{} // id → index into out.Added
	for _, e := range entries {
		if e.added {
			added[e.id] = len(out.Added)
			out.Added = append(out.Added, e.rule)
			continue
		}
		if j, ok := added[e.id]; ok {
			out.Added[j].ID = 0 // dropped below
			delete(added, e.id)
			continue
		}
		out.Removed = append(out.Removed, e.id)
	}
	out.Added = slices.DeleteFunc(out.Added, func(r entitle.Rule) bool { return r.ID == 0 })
	slices.SortFunc(out.Added, func(a, b entitle.Rule) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(out.Removed)
	if len(out.Added) == 0 {
		out.Added = nil
	}
	return out
}
