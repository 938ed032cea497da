package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/vidlib/vidlib/tree"
)

// SyncState implements tree.Store.
func (s *Store) SyncState(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	return slices.Clone(s.tree.syncState[name]), nil
}

// SetSyncState implements tree.Tx. The state map is copied on the first write
// of a transaction, so a failed transaction leaves the old map untouched.
func (t *treeTx) SetSyncState(_ context.Context, name string, value []byte) error {
	if name == "" || !json.Valid(value) {
		return fmt.Errorf("%w: sync state %q must be named and JSON", tree.ErrInvalid, name)
	}
	if !t.syncStateOwned {
		t.st.syncState = maps.Clone(t.st.syncState)
		if t.st.syncState == nil {
			t.st.syncState = map[string][]byte{}
		}
		t.syncStateOwned = true
	}
	t.st.syncState[name] = slices.Clone(value)
	return nil
}
