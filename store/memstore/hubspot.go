package memstore

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/tree"
)

// chatState holds the recorded chat contexts (hubspot_context).
type chatState struct {
	mu      sync.Mutex
	records []hubspot.ContextRecord
}

// RecordChatContext appends a generated chat context; the video must be a
// mirrored video (tree.ErrNotFound otherwise).
func (s *Store) RecordChatContext(_ context.Context, r hubspot.ContextRecord) error {
	s.treeMu.RLock()
	_, ok := s.tree.videos[r.VideoID]
	s.treeMu.RUnlock()
	if !ok {
		return fmt.Errorf("memstore: record chat context: video %s: %w", r.VideoID, tree.ErrNotFound)
	}
	r.Context = maps.Clone(r.Context)
	s.chat.mu.Lock()
	defer s.chat.mu.Unlock()
	s.chat.records = append(s.chat.records, r)
	return nil
}

// ChatContexts returns the user's recorded chat contexts, newest first, at
// most limit (1…1000).
func (s *Store) ChatContexts(_ context.Context, userID string, limit int) ([]hubspot.ContextRecord, error) {
	if limit <= 0 || limit > 1000 {
		return nil, fmt.Errorf("memstore: chat contexts: limit %d outside 1…1000", limit)
	}
	s.chat.mu.Lock()
	defer s.chat.mu.Unlock()
	var out []hubspot.ContextRecord
	for i := len(s.chat.records) - 1; i >= 0 && len(out) < limit; i-- {
		if r := s.chat.records[i]; r.UserID == userID {
			r.Context = maps.Clone(r.Context)
			out = append(out, r)
		}
	}
	return out, nil
}
