package memstore

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/vidlib/vidlib/rank"
)

type rankingState struct {
	mu        sync.RWMutex
	feeds     map[string]rank.Feed
	audiences map[string]audience
}

type audience struct {
	roles    []string
	segments map[string]string
}

// RecordAudience keeps the roles and segments the user last signed in with.
func (s *Store) RecordAudience(_ context.Context, userID string, roles []string, segments map[string]string) error {
	s.ranking.mu.Lock()
	defer s.ranking.mu.Unlock()
	if s.ranking.audiences == nil {
		s.ranking.audiences = map[string]audience{}
	}
	s.ranking.audiences[userID] = audience{slices.Clone(roles), maps.Clone(segments)}
	return nil
}

// UserAudience returns the audience RecordAudience kept, or empty ones.
func (s *Store) UserAudience(_ context.Context, userID string) ([]string, map[string]string, error) {
	s.ranking.mu.RLock()
	defer s.ranking.mu.RUnlock()
	a := s.ranking.audiences[userID]
	return slices.Clone(a.roles), maps.Clone(a.segments), nil
}

// SetRankedFeed replaces the user's stored feed.
func (s *Store) SetRankedFeed(_ context.Context, f *rank.Feed) error {
	s.ranking.mu.Lock()
	defer s.ranking.mu.Unlock()
	if s.ranking.feeds == nil {
		s.ranking.feeds = map[string]rank.Feed{}
	}
	c := *f
	c.Items = slices.Clone(f.Items)
	for i := range c.Items { // what a store keeps is the encoded reason
		c.Items[i].Reason = rank.DecodeReason(c.Items[i].Reason.Encode())
	}
	s.ranking.feeds[f.UserID] = c
	return nil
}

// RankedFeed returns the user's last stored feed, whatever content version
// it was computed for, or rank.ErrNoFeed.
func (s *Store) RankedFeed(_ context.Context, userID string, _ int64) (*rank.Feed, error) {
	s.ranking.mu.RLock()
	defer s.ranking.mu.RUnlock()
	f, ok := s.ranking.feeds[userID]
	if !ok || len(f.Items) == 0 {
		return nil, rank.ErrNoFeed
	}
	f.Items = slices.Clone(f.Items)
	return &f, nil
}
