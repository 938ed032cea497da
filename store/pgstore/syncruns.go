package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/tree"
)

// StartSyncRun implements tree.SyncRuns.
func (s *Store) StartSyncRun(ctx context.Context, run tree.SyncRun) (tree.SyncRun, error) {
	if run.Trigger == "" {
		return tree.SyncRun{}, fmt.Errorf("%w: sync run without a trigger", tree.ErrInvalid)
	}
	if run.StartedAt.IsZero() {
		run.StartedAt = time.Now()
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO sync_runs (trigger, started_at) VALUES ($1, $2) RETURNING id`,
		run.Trigger, run.StartedAt).Scan(&run.ID)
	if err != nil {
		return tree.SyncRun{}, fmt.Errorf("pgstore: start sync run: %w", translate(err, treeErrs))
	}
	return run, nil
}

// FinishSyncRun implements tree.SyncRuns.
func (s *Store) FinishSyncRun(ctx context.Context, run tree.SyncRun) error {
	if run.FinishedAt.IsZero() {
		run.FinishedAt = time.Now()
	}
	status, err := tree.FinishHeldStatus(run)
	if err != nil {
		return err
	}
	counts, _ := json.Marshal(nonNilMap(run.Counts))
	errs, _ := json.Marshal(nonNilSlice(run.Errors))
	changes, err := encodeChanges(run.Changes)
	if err != nil {
		return err
	}
	held, err := encodeChanges(run.HeldChanges)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sync_runs SET finished_at = $2, complete = $3, held = $4, counts = $5,
		api_calls = $6, errors = $7, changes = $8, changes_total = $9, held_changes = $10, held_status = $11
		WHERE id = $1 AND finished_at IS NULL`,
		run.ID, run.FinishedAt, run.Complete, run.Held, counts, run.APICalls, errs,
		changes, max(run.ChangesTotal, len(run.Changes)), held, string(status))
	if err != nil {
		return fmt.Errorf("pgstore: finish sync run: %w", translate(err, treeErrs))
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_runs WHERE id = $1)`, run.ID).Scan(&exists); err != nil {
			return fmt.Errorf("pgstore: finish sync run: %w", err)
		}
		if !exists {
			return fmt.Errorf("%w: sync run %d", tree.ErrNotFound, run.ID)
		}
		return fmt.Errorf("%w: sync run %d is already finished", tree.ErrConflict, run.ID)
	}
	return nil
}

// ListSyncRuns implements tree.SyncRuns.
func (s *Store) ListSyncRuns(ctx context.Context, before int64, limit int) ([]tree.SyncRun, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+syncRunColumns+`
		FROM sync_runs WHERE $1 <= 0 OR id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list sync runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, scanSyncRun)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list sync runs: %w", err)
	}
	return runs, nil
}

func nonNilMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
