package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/tree"
)

// SyncState implements tree.Store: the value of sync_state.name, or nil.
func (s *Store) SyncState(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value::text FROM sync_state WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: sync state %q: %w", name, translate(err, treeErrs))
	}
	return v, nil
}

// SetSyncState implements tree.Tx: an upsert of sync_state in the
// transaction, so the state commits with the changes it led to. It does not
// mark the transaction dirty: sync state is not mirror content.
func (t *treeTx) SetSyncState(ctx context.Context, name string, value []byte) error {
	if name == "" || !json.Valid(value) {
		return fmt.Errorf("%w: sync state %q must be named and JSON", tree.ErrInvalid, name)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO sync_state (name, value, updated_at) VALUES ($1, $2::text::jsonb, now())
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, string(value))
	return translate(err, treeErrs)
}
