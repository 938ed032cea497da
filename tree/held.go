package tree

import (
	"context"
	"fmt"
	"slices"
)

// HeldRuns returns the reconciliation runs whose deletions wait for an admin
// decision, newest first; each carries its held deletions (HeldChanges, up to
// MaxRecordedChanges) and Counts["held"].
func (m *Mirror) HeldRuns(ctx context.Context) ([]SyncRun, error) {
	runs, err := m.store.ListHeldRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("tree: list held runs: %w", err)
	}
	return runs, nil
}

// ApproveHeld carries out an admin's approval of a held run's deletions. It
// does not replay the held list, which may be stale: it runs a new
// reconciliation (TriggerAdmin) that may delete beyond MaxDeleteShare, so
// that every deletion still comes from a complete, consistent walk and is
// confirmed by a direct read of the object (DESIGN §1.4: a partial walk never
// deletes). Only when that run's walk was complete and it succeeded is the
// held run marked approved, by actor; otherwise the held run stays pending
// and the error says why. The new run's deletions can differ from the held
// list: objects that came back are kept, objects gone since are deleted too;
// its Report says exactly what was applied.
//
// Errors: ErrNotFound when runID is not a pending held run; ErrInvalid for an
// empty actor; otherwise the reconciliation's error.
func (m *Mirror) ApproveHeld(ctx context.Context, runID int64, actor string) (*Report, error) {
	if err := m.pendingHeld(ctx, runID, actor); err != nil {
		return nil, err
	}
	rep, err := m.Reconcile(ctx, ReconcileOptions{Trigger: TriggerAdmin, AllowMassDelete: true})
	if err != nil {
		return rep, fmt.Errorf("tree: approve held run %d: the reconciliation failed, the run stays pending: %w", runID, err)
	}
	if !rep.Run.Complete {
		return rep, fmt.Errorf("%w: approve held run %d: the walk was incomplete, nothing was deleted and the run stays pending", ErrSource, runID)
	}
	if err := m.store.DecideHeldRun(ctx, runID, HeldApproved, actor, m.opts.Now()); err != nil {
		return rep, fmt.Errorf("tree: approve held run %d: the deletions were applied (run %d) but the decision was not recorded: %w", runID, rep.Run.ID, err)
	}
	return rep, nil
}

// RejectHeld records an admin's rejection of a held run's deletions, by
// actor: nothing is deleted and the run is no longer pending. The objects
// stay in the mirror; a later reconciliation that still finds them missing
// holds again (a new pending run), so a rejection is "not now", not
// "never". Errors: ErrNotFound when runID is not a pending held run,
// ErrInvalid for an empty actor.
func (m *Mirror) RejectHeld(ctx context.Context, runID int64, actor string) error {
	if err := m.pendingHeld(ctx, runID, actor); err != nil {
		return err
	}
	if err := m.store.DecideHeldRun(ctx, runID, HeldRejected, actor, m.opts.Now()); err != nil {
		return fmt.Errorf("tree: reject held run %d: %w", runID, err)
	}
	return nil
}

func (m *Mirror) pendingHeld(ctx context.Context, runID int64, actor string) error {
	if actor == "" {
		return fmt.Errorf("%w: a held run is decided by someone: empty actor", ErrInvalid)
	}
	runs, err := m.HeldRuns(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(runs, func(r SyncRun) bool { return r.ID == runID }) {
		return fmt.Errorf("%w: sync run %d is not a pending held run", ErrNotFound, runID)
	}
	return nil
}

// SetVideoHidden hides a video from users (or shows it again): an admin
// decision that reconciliations never override. It commits in one
// transaction that bumps the content version when the flag changed, so
// readers rebuilding on the new version stop (or start) showing it; a hidden
// video is not Playable, hence invisible to every audience. It returns the
// content version after the change; ErrNotFound for an unknown video.
func (m *Mirror) SetVideoHidden(ctx context.Context, vimeoID string, hidden bool) (int64, error) {
	v, err := m.store.Update(ctx, func(tx Tx) error { return tx.SetVideoHidden(ctx, vimeoID, hidden) })
	if err != nil {
		return 0, fmt.Errorf("tree: set video %s hidden: %w", vimeoID, err)
	}
	return v, nil
}
