package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/vidlib/vidlib/rank"
)

// SetRankedFeed stores the feed under ranked:{user}:{content version},
// replacing every cached version of the user's feed (SetRanked); reasons
// are kept in their encoded form.
func (s *Store) SetRankedFeed(ctx context.Context, f *rank.Feed, ttl time.Duration) error {
	items := make([]RankedItem, len(f.Items))
	for i, it := range f.Items {
		items[i] = RankedItem{VideoID: it.VideoID, Score: it.Score, Reason: it.Reason.Encode()}
	}
	return s.SetRanked(ctx, f.UserID, f.ContentVersion, items, ttl)
}

// RankedFeed returns the user's feed cached for the content version, or
// rank.ErrNoFeed on a miss. The cache keeps no computation time: the
// feed's ComputedAt is zero.
func (s *Store) RankedFeed(ctx context.Context, userID string, version int64) (*rank.Feed, error) {
	items, err := s.Ranked(ctx, userID, version)
	if errors.Is(err, ErrMiss) {
		return nil, rank.ErrNoFeed
	}
	if err != nil {
		return nil, err
	}
	f := &rank.Feed{UserID: userID, ContentVersion: version, Items: make([]rank.Item, len(items))}
	for i, it := range items {
		f.Items[i] = rank.Item{VideoID: it.VideoID, Score: it.Score, Reason: rank.DecodeReason(it.Reason)}
	}
	return f, nil
}
