package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vidlib/vidlib/tree"
)

// copyChanges keeps at most tree.MaxRecordedChanges changes, deep-copied
// through JSON as pgstore stores them, so that both stores answer alike.
func copyChanges(cs []tree.Change) ([]tree.Change, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(cs[:min(len(cs), tree.MaxRecordedChanges)])
	if err != nil {
		return nil, fmt.Errorf("%w: sync run changes: %v", tree.ErrInvalid, err)
	}
	var out []tree.Change
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("memstore: sync run changes: %w", err)
	}
	return out, nil
}

// cloneRun copies a stored run so that callers cannot change the store.
func cloneRun(r tree.SyncRun) tree.SyncRun {
	r.Counts, r.Errors = maps.Clone(r.Counts), slices.Clone(r.Errors)
	r.Changes, _ = copyChanges(r.Changes)
	r.HeldChanges, _ = copyChanges(r.HeldChanges)
	return r
}

// ListHeldRuns implements tree.SyncRuns.
func (s *Store) ListHeldRuns(_ context.Context) ([]tree.SyncRun, error) {
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	var out []tree.SyncRun
	for i := len(s.tree.syncRuns) - 1; i >= 0; i-- {
		if r := s.tree.syncRuns[i]; r.HeldStatus == tree.HeldPending {
			out = append(out, cloneRun(r))
		}
	}
	return out, nil
}

// DecideHeldRun implements tree.SyncRuns.
func (s *Store) DecideHeldRun(_ context.Context, id int64, status tree.HeldStatus, by string, at time.Time) error {
	at, err := tree.CheckHeldDecision(status, at)
	if err != nil {
		return err
	}
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	if id < 1 || id > int64(len(s.tree.syncRuns)) {
		return fmt.Errorf("%w: sync run %d", tree.ErrNotFound, id)
	}
	cur := &s.tree.syncRuns[id-1]
	if cur.HeldStatus != tree.HeldPending {
		return fmt.Errorf("%w: sync run %d has no pending held deletions", tree.ErrConflict, id)
	}
	cur.HeldStatus, cur.HeldBy, cur.HeldDecidedAt = status, by, norm(at)
	return nil
}
