package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// RankedItem is one entry of a user's ranked feed, best first.
type RankedItem struct {
	VideoID string  `json:"id"`
	Score   float64 `json:"score"`
	Reason  string  `json:"reason,omitempty"` // rank.Reason.Encode
}

// SetRanked replaces the user's ranked feed: in one atomic step it deletes every cached
// version of the user's feed and stores items under RankedKey(userID, version) for ttl
// (0: the default). Only ranked-feed keys are touched. Items keep their order; an empty
// list is stored as such (Ranked then returns an empty list, not ErrMiss). Empty or
// duplicate video ids and non-finite scores are ErrInvalid, and nothing changes.
func (s *Store) SetRanked(ctx context.Context, userID string, version int64, items []RankedItem, ttl time.Duration) error {
	k := RankedKey(userID, version)
	if err := checkKeys(k); err != nil {
		return err
	}
	ms, err := s.ttlMillis(ttl)
	if err != nil {
		return err
	}
	seen := make(map[string]struct{}, len(items))
	for i, it := range items {
		if it.VideoID == "" {
			return fmt.Errorf("%w: ranked item %d has an empty video id", ErrInvalid, i)
		}
		if _, dup := seen[it.VideoID]; dup {
			return fmt.Errorf("%w: ranked item %d: video %q listed twice", ErrInvalid, i, it.VideoID)
		}
		seen[it.VideoID] = struct{}{}
		if math.IsNaN(it.Score) || math.IsInf(it.Score, 0) {
			return fmt.Errorf("%w: ranked item %d: score %v", ErrInvalid, i, it.Score)
		}
	}
	if items == nil {
		items = []RankedItem{}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("redisstore: ranked %s: %w", k, err)
	}
	if err := replaceScript.Run(ctx, s.client, []string{s.key(k), s.index(k.owner)}, ms, b).Err(); err != nil {
		return fmt.Errorf("redisstore: set ranked %s: %w", k, err)
	}
	return nil
}

// Ranked returns the user's ranked feed stored for version, or ErrMiss.
func (s *Store) Ranked(ctx context.Context, userID string, version int64) ([]RankedItem, error) {
	b, err := s.Get(ctx, RankedKey(userID, version))
	if err != nil {
		return nil, err
	}
	var items []RankedItem
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("redisstore: ranked %s: decode: %w", RankedKey(userID, version), err)
	}
	return items, nil
}
