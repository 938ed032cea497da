package entitle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
)

// ErrFeedGap means a rule change feed no longer reaches back to the asked
// entitlement version (its retention dropped the entries, or they were never
// recorded): the caller must read every rule instead (RuleStore.ListRules).
var ErrFeedGap = errors.New("entitle: rule change feed does not reach back that far")

// FeedRetention is how many entitlement versions a store's rule change feed
// keeps: RuleChangesSince answers for a version at most this far behind the
// current one, and ErrFeedGap further back.
const FeedRetention = 10000

// RuleFeed is a RuleStore's change feed: the rule each entitlement version
// added or removed, recorded in the transaction that made the version, so
// that a reader holding the rules of one version can bring them to the
// current one (RuleChanges.Apply) instead of listing them all again. Both
// stores implement it and pass store/storetest; a reader must fall back to
// ListRules when a store does not, or when the feed answers ErrFeedGap.
type RuleFeed interface {
	// RuleChangesSince returns what changed after version, up to the current
	// entitlement version (To), read at one point in time. The feed keeps
	// FeedRetention versions: further back, or for versions it never
	// recorded (written before the feed existed, or by a bulk load) or that
	// are ahead of the store's, it returns an error wrapping ErrFeedGap. A
	// negative version is ErrInvalid.
	RuleChangesSince(ctx context.Context, version int64) (RuleChanges, error)
}

// RuleChanges is what changed in the rules between two entitlement versions,
// net of the versions From+1 … To: the rules added then and not removed since
// (whole rows, as ListRules returns them, sorted by ID), and the IDs of the
// rules that existed at From and were removed since (sorted). A rule added
// and removed within the window is in neither. Rule IDs are never reused, and
// rules are never edited in place, so applying the changes to the rules of
// From gives the rules of To.
type RuleChanges struct {
	From, To int64
	Added    []Rule
	Removed  []int64
}

// Empty reports whether nothing changed.
func (c RuleChanges) Empty() bool { return len(c.Added) == 0 && len(c.Removed) == 0 }

// Apply returns the rules of version To, given the rules of version From
// (sorted by ID, as ListRules and Index.Rules return them): rules without the
// removed ones, with the added ones, sorted by ID. rules is not modified. It
// returns an error wrapping ErrInvalid, and no rules, when the changes do not
// fit rules: a removed ID that rules lacks, or an added ID that rules already
// has (the feed and the rules are then not of the same history).
func (c RuleChanges) Apply(rules []Rule) ([]Rule, error) {
	out := make([]Rule, 0, len(rules)+len(c.Added)-len(c.Removed))
	gone := make(map[int64]bool, len(c.Removed))
	for _, id := range c.Removed {
		gone[id] = true
	}
	removed := 0
	for _, r := range rules {
		if gone[r.ID] {
			removed++
			continue
		}
		out = append(out, r)
	}
	if removed != len(gone) {
		return nil, fmt.Errorf("%w: rule changes %d→%d remove %d rules, %d of them among the given ones", ErrInvalid, c.From, c.To, len(c.Removed), removed)
	}
	out = append(out, c.Added...)
	slices.SortStableFunc(out, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(out); i++ {
		if out[i].ID == out[i-1].ID {
			return nil, fmt.Errorf("%w: rule changes %d→%d add rule %d, which the given rules have", ErrInvalid, c.From, c.To, out[i].ID)
		}
	}
	return out, nil
}
