package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/tree"
)

// syncRunColumns are what scanSyncRun reads, in order.
const syncRunColumns = `id, trigger, started_at, finished_at, complete, held, counts, api_calls, errors,
	changes, changes_total, held_changes, held_status, held_by, held_decided_at`

func scanSyncRun(row pgx.CollectableRow) (tree.SyncRun, error) {
	var r tree.SyncRun
	var finished, decided *time.Time
	var changes, held []byte
	var status string
	err := row.Scan(&r.ID, &r.Trigger, &r.StartedAt, &finished, &r.Complete, &r.Held, &r.Counts, &r.APICalls, &r.Errors,
		&changes, &r.ChangesTotal, &held, &status, &r.HeldBy, &decided)
	if err != nil {
		return r, err
	}
	r.FinishedAt, r.HeldDecidedAt, r.HeldStatus = deref(finished), deref(decided), tree.HeldStatus(status)
	if r.Changes, err = decodeChanges(changes); err != nil {
		return r, err
	}
	r.HeldChanges, err = decodeChanges(held)
	return r, err
}

// encodeChanges stores at most tree.MaxRecordedChanges changes as JSON.
func encodeChanges(cs []tree.Change) ([]byte, error) {
	if cs == nil {
		return []byte("[]"), nil
	}
	b, err := json.Marshal(cs[:min(len(cs), tree.MaxRecordedChanges)])
	if err != nil {
		return nil, fmt.Errorf("%w: sync run changes: %v", tree.ErrInvalid, err)
	}
	return b, nil
}

func decodeChanges(b []byte) ([]tree.Change, error) {
	var cs []tree.Change
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("pgstore: sync run changes: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return cs, nil
}

// ListHeldRuns implements tree.SyncRuns.
func (s *Store) ListHeldRuns(ctx context.Context) ([]tree.SyncRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+syncRunColumns+`
		FROM sync_runs WHERE held_status = 'pending' ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list held runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, scanSyncRun)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list held runs: %w", err)
	}
	return runs, nil
}

// DecideHeldRun implements tree.SyncRuns.
func (s *Store) DecideHeldRun(ctx context.Context, id int64, status tree.HeldStatus, by string, at time.Time) error {
	at, err := tree.CheckHeldDecision(status, at)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sync_runs SET held_status = $2, held_by = $3, held_decided_at = $4
		WHERE id = $1 AND held_status = 'pending'`, id, string(status), by, at)
	if err != nil {
		return fmt.Errorf("pgstore: decide held run: %w", translate(err, treeErrs))
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_runs WHERE id = $1)`, id).Scan(&exists); err != nil {
			return fmt.Errorf("pgstore: decide held run: %w", err)
		}
		if !exists {
			return fmt.Errorf("%w: sync run %d", tree.ErrNotFound, id)
		}
		return fmt.Errorf("%w: sync run %d has no pending held deletions", tree.ErrConflict, id)
	}
	return nil
}
