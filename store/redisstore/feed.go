package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	k := RankedKey(userID, version)
	b, err := s.Get(ctx, k)
	if errors.Is(err, ErrMiss) {
		return nil, rank.ErrNoFeed
	}
	if err != nil {
		return nil, err
	}
	f := &rank.Feed{UserID: userID, ContentVersion: version}
	err = eachRanked(b, func(id string, score float64, reason string) {
		if f.Items == nil {
			f.Items = make([]rank.Item, 0, bytes.Count(b, []byte{'\n'}))
		}
		f.Items = append(f.Items, rank.Item{VideoID: id, Score: score, Reason: rank.DecodeReason(reason)})
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: ranked %s: decode: %w", k, err)
	}
	return f, nil
}
