package tree

import (
	"context"
	"fmt"
)

// DryRunReport is what a reconciliation would do now, computed without
// writing anything.
type DryRunReport struct {
	// Changes are what Diff finds between the mirror and a fresh walk, in the
	// order a reconciliation would apply them, deletions included. Deletions
	// are candidates: a real run applies them only after a complete walk,
	// within MaxDeleteShare, and each confirmed by a direct read of the
	// object (the dry run makes none of those reads).
	Changes []Change
	Words   []string // Describe of each change, paths from the walked tree, else the mirror
	// Deletes counts the deletion candidates.
	Deletes int
	// Complete is whether the walk was complete and consistent; when it is
	// not, a real run would delete nothing.
	Complete bool
	// WouldHold is whether a real run would hold the deletions for an admin
	// decision (more than MaxDeleteShare of the tree).
	WouldHold bool
	APICalls  int
	Problems  []string // what the walk noticed
}

// DryRun walks the source and compares it with the mirror, writing nothing:
// no change is applied, no sync run is recorded (a dry run is not a run: it
// leaves no row in sync_runs, so the history and the pending held runs stay
// those of real runs), no audit or outbox record is written, and the poll
// cursor is untouched. Its only costs are the walk's API calls. Errors wrap
// ErrSource when the walk failed or does not form a tree.
func (m *Mirror) DryRun(ctx context.Context) (*DryRunReport, error) {
	w, err := m.src.Walk(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: walk: %w", ErrSource, err)
	}
	rep := &DryRunReport{Complete: w.Complete, APICalls: w.Calls, Problems: w.Problems}
	remote, err := New(0, w.Folders, w.Videos, w.Placements)
	if err != nil {
		return rep, fmt.Errorf("%w: the walk does not form a tree: %w", ErrSource, err)
	}
	m.mu.Lock()
	local, err := m.snapshot(ctx)
	m.mu.Unlock()
	if err != nil {
		return rep, err
	}
	rep.Changes = Diff(local, remote)
	var deletes []Change
	for _, c := range rep.Changes {
		if c.Kind.IsDelete() {
			deletes = append(deletes, c)
		}
	}
	rep.Deletes = len(deletes)
	rep.WouldHold = rep.Complete && len(deletes) > 0 && tooMany(local, deletes, m.opts.MaxDeleteShare)
	rep.Words = DescribeAll(rep.Changes, remote, local)
	return rep, nil
}
