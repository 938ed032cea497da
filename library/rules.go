package library

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/entitle"
)

// Incremental rules. When the store has a rule change feed (entitle.RuleFeed)
// that reaches back to the loaded entitlement version, an entitlement change
// reads only what changed (RuleChangesSince) and applies it to the loaded
// generation's rules (entitle.RuleChanges.Apply), instead of listing every
// rule. ListRules remains the fallback: a store without the feed, a feed gap
// (entitle.ErrFeedGap), an error reading the feed or changes that do not fit
// the loaded rules, and Options.NoPatch.

// nextRules returns the store's current rules and their entitlement
// version, given the rules of version from (sorted by ID, as Index.Rules
// returns them; not modified).
func (s *Service) nextRules(ctx context.Context, from int64, rules []entitle.Rule) ([]entitle.Rule, int64, error) {
	next, ev, err := s.rulesFromFeed(ctx, from, rules)
	if err == nil {
		return next, ev, nil
	}
	if !errors.Is(err, errNoRuleFeed) {
		s.log.Info("listing the rules", zap.String("why", err.Error()))
	}
	next, ev, err = s.store.ListRules(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("library: list rules: %w", err)
	}
	return next, ev, nil
}

// errNoRuleFeed means the store has no rule change feed, or it is off.
var errNoRuleFeed = errors.New("library: no rule change feed")

func (s *Service) rulesFromFeed(ctx context.Context, from int64, rules []entitle.Rule) ([]entitle.Rule, int64, error) {
	feed, ok := s.store.(entitle.RuleFeed)
	if !ok || s.opts.NoPatch {
		return nil, 0, errNoRuleFeed
	}
	ch, err := feed.RuleChangesSince(ctx, from)
	if err != nil {
		return nil, 0, fmt.Errorf("library: rule changes since %d: %w", from, err)
	}
	next, err := ch.Apply(rules)
	if err != nil {
		return nil, 0, fmt.Errorf("library: rule changes since %d: %w", from, err)
	}
	return next, ch.To, nil
}
