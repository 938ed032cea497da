package tree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Triggers recorded in sync_runs.
const (
	TriggerSchedule = "schedule"
	TriggerAdmin    = "admin"
	TriggerStartup  = "startup"
	TriggerPoll     = "poll"
	TriggerWebhook  = "webhook"
)

// PollCursorState is the sync_state name under which Poll keeps its cursor.
const PollCursorState = "vimeo.poll.cursor"

// Reasons a deletion or a kept object is recorded with (Change.Reason).
const (
	ReasonNotFound  = "not_found"    // the source answered 404
	ReasonLeftRoot  = "left_root"    // it exists, outside the mirrored root
	ReasonForbidden = "forbidden"    // the source answered 403
	ReasonCascade   = "cascade_kept" // deleted with a folder, kept deleted after its restore
)

// Defaults of MirrorOptions.
const (
	DefaultMaxDeleteShare = 0.10
	DefaultBatchSize      = 5000
	DefaultMaxPollFetches = 500
	DefaultCursorOverlap  = time.Minute
)

// MirrorOptions configure a Mirror. The zero value is valid.
type MirrorOptions struct {
	// MaxDeleteShare is the share of the mirrored tree (folders plus videos)
	// that one reconciliation may delete before it holds the deletions for an
	// admin decision. 0 means the default, 0.10.
	MaxDeleteShare float64
	// Record is called inside every applying transaction with the changes it
	// applies, to enqueue outbox events (sync change events, audit records).
	// Nil records nothing. tree/changeevents provides one.
	Record func(ctx context.Context, tx Tx, changes []Change) error
	// RecordHeld is called, in a transaction of its own, when a reconciliation
	// holds deletions for an admin decision (an audit record). Nil records
	// nothing; tree/changeevents provides one.
	RecordHeld func(ctx context.Context, tx Tx, run SyncRun, held []Change) error
	// RecordFailed is called, in a transaction of its own, when a run ends
	// with an error (an audit record of the failure). Nil records nothing;
	// tree/changeevents provides one.
	RecordFailed func(ctx context.Context, tx Tx, run SyncRun, err error) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RootVimeoID is the mirrored root folder. Empty means: learn it from the
	// first walk, or from the mirror's only top-level folder.
	RootVimeoID string
	// BatchSize bounds the changes applied in one transaction; a big
	// reconciliation commits in several, each consistent on its own, so a crash
	// leaves a mirror the next run finishes. Default 5000.
	BatchSize int
	// MaxPollFetches bounds the single-object reads one poll makes (videos the
	// recent list gave without their folder, folders whose place is unknown);
	// beyond it the poll stops early, keeps its cursor and asks for a
	// reconciliation. Default 500.
	MaxPollFetches int
	// RecordQuietPolls also writes a sync_runs row for polls that found
	// nothing to apply (by default only polls that applied something or
	// failed are recorded, so a 30 s poll does not write 2,880 rows a day).
	RecordQuietPolls bool
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
}

// ReconcileOptions select how a reconciliation runs.
type ReconcileOptions struct {
	Trigger string // one of the Trigger constants; "" means TriggerSchedule
	// AllowMassDelete applies deletions even beyond MaxDeleteShare: the admin's
	// decision on a held run.
	AllowMassDelete bool
}

// Report is the outcome of one reconciliation, poll or refresh.
type Report struct {
	Run     SyncRun  // as recorded in sync_runs (ID 0 when not recorded)
	Applied []Change // what was written, in order
	Held    []Change // deletions held for an admin decision
	// Skipped are deletions not applied: the walk was incomplete or
	// inconsistent, or the confirming GET did not confirm them (Reason says why).
	Skipped []Change
	Version int64 // the content version after the run
	// NeedsReconcile is true when a poll or refresh saw more than it could
	// apply (a truncated poll, a fetch budget spent, an empty mirror).
	NeedsReconcile bool
}

// Mirror keeps a Store equal to a Source: Reconcile (full walk, diff, apply),
// Poll (recent changes) and RefreshVideo (one video, the webhook path). It is
// safe for concurrent use; the applying phases are serialised.
type Mirror struct {
	store Store
	src   Source
	opts  MirrorOptions
	log   *zap.Logger

	mu     sync.Mutex // serialises load → decide → apply
	rootMu sync.Mutex
	root   string
	cache  *Snapshot // the mirror with deleted objects, at cache.Version()
	// applied, when set, is what the last apply wrote on top of cache: the
	// next run settles it in memory (settle) instead of loading, if the
	// content version is still the one that apply left.
	applied *applied
}

// Errors of the mirror.
var (
	// ErrNoRoot: the mirror does not know its root yet (no RootVimeoID, an
	// empty mirror): run a reconciliation first.
	ErrNoRoot = errors.New("tree: mirrored root unknown")
	// ErrSource: the source failed; the run changed nothing it was not sure of.
	ErrSource = errors.New("tree: source failed")
)

// NewMirror returns a Mirror of src into store.
func NewMirror(store Store, src Source, opts *MirrorOptions) (*Mirror, error) {
	if store == nil || src == nil {
		return nil, fmt.Errorf("%w: NewMirror needs a store and a source", ErrInvalid)
	}
	m := &Mirror{store: store, src: src}
	if opts != nil {
		m.opts = *opts
	}
	switch {
	case m.opts.MaxDeleteShare == 0:
		m.opts.MaxDeleteShare = DefaultMaxDeleteShare
	case m.opts.MaxDeleteShare < 0 || m.opts.MaxDeleteShare > 1:
		return nil, fmt.Errorf("%w: MaxDeleteShare %v outside [0, 1]", ErrInvalid, m.opts.MaxDeleteShare)
	}
	if m.opts.BatchSize <= 0 {
		m.opts.BatchSize = DefaultBatchSize
	}
	if m.opts.MaxPollFetches <= 0 {
		m.opts.MaxPollFetches = DefaultMaxPollFetches
	}
	if m.opts.Now == nil {
		m.opts.Now = time.Now
	}
	m.log = m.opts.Logger
	if m.log == nil {
		m.log = zap.NewNop()
	}
	m.log = m.log.Named("mirror")
	m.root = m.opts.RootVimeoID
	return m, nil
}

// snapshot returns the mirror with deleted objects, reloading only when the
// content version moved. Callers hold m.mu.
func (m *Mirror) snapshot(ctx context.Context) (*Snapshot, error) {
	v, err := m.store.ContentVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("tree: mirror: %w", err)
	}
	if a := m.applied; a != nil {
		m.applied = nil
		if a.version == v {
			next, err := settle(ctx, m.cache, a.changes, a.version, a.at)
			if err == nil {
				m.cache = next
				return next, nil
			}
			m.log.Warn("applied changes do not settle in memory; loading the mirror", zap.Error(err))
		}
	}
	if m.cache != nil && m.cache.Version() == v {
		return m.cache, nil
	}
	s, err := m.store.LoadSnapshot(ctx, LoadOptions{IncludeDeleted: true})
	if err != nil {
		return nil, fmt.Errorf("tree: mirror: %w", err)
	}
	m.cache = s
	return s, nil
}

// rootOf returns the mirrored root, learning it from the mirror if needed.
func (m *Mirror) rootOf(local *Snapshot) string {
	m.rootMu.Lock()
	defer m.rootMu.Unlock()
	if m.root == "" {
		var live []string
		for _, id := range local.Roots() {
			if !local.Folder(id).Deleted() {
				live = append(live, id)
			}
		}
		if len(live) == 1 {
			m.root = live[0]
		}
	}
	return m.root
}

func (m *Mirror) setRoot(id string) {
	m.rootMu.Lock()
	defer m.rootMu.Unlock()
	if m.root == "" {
		m.root = id
	}
}

// newRun starts the bookkeeping of a run (not yet stored).
func (m *Mirror) newRun(trigger string) SyncRun {
	return SyncRun{Trigger: trigger, StartedAt: m.opts.Now(), Counts: map[string]int{}}
}

// finish records the run (inserting it when it was not started) and fills
// the report. A failure to record is joined to err.
func (m *Mirror) finish(ctx context.Context, rep *Report, run SyncRun, err error) (*Report, error) {
	if err != nil {
		run.Errors = append(run.Errors, err.Error())
	}
	run.FinishedAt = m.opts.Now()
	for _, c := range rep.Applied {
		run.Counts[string(c.Kind)]++
	}
	if n := len(rep.Held); n > 0 {
		run.Counts["held"] = n
		run.Held = true
		run.HeldStatus = HeldPending
		run.HeldChanges = rep.Held[:min(n, MaxRecordedChanges)]
	}
	run.ChangesTotal = len(rep.Applied)
	run.Changes = rep.Applied[:min(len(rep.Applied), MaxRecordedChanges)]
	if n := len(rep.Skipped); n > 0 {
		run.Counts["skipped_deletes"] = n
	}
	// A context that ended still gets its run recorded.
	rctx := context.WithoutCancel(ctx)
	if run.ID == 0 {
		started, serr := m.store.StartSyncRun(rctx, run)
		if serr != nil {
			rep.Run = run
			return rep, errors.Join(err, fmt.Errorf("tree: record sync run: %w", serr))
		}
		run.ID = started.ID
	}
	if ferr := m.store.FinishSyncRun(rctx, run); ferr != nil {
		err = errors.Join(err, fmt.Errorf("tree: record sync run: %w", ferr))
	}
	if err != nil && m.opts.RecordFailed != nil {
		runErr := err
		if _, rerr := m.store.Update(rctx, func(tx Tx) error { return m.opts.RecordFailed(rctx, tx, run, runErr) }); rerr != nil {
			err = errors.Join(err, fmt.Errorf("tree: record failed sync run: %w", rerr))
		}
	}
	rep.Run = run
	if rep.Version == 0 {
		if v, verr := m.store.ContentVersion(rctx); verr == nil {
			rep.Version = v
		}
	}
	return rep, err
}

// Reconcile walks the source and applies the difference: creates, restores,
// moves and updates always; deletions only after a complete and consistent
// walk, each confirmed by a direct read of the object, and only while they
// stay within MaxDeleteShare of the tree (otherwise they are held, reported
// and audited, and nothing is deleted). It returns the report also with an
// error, which then says what failed.
func (m *Mirror) Reconcile(ctx context.Context, opts ReconcileOptions) (*Report, error) {
	trigger := opts.Trigger
	if trigger == "" {
		trigger = TriggerSchedule
	}
	run := m.newRun(trigger)
	started, err := m.store.StartSyncRun(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("tree: start sync run: %w", err)
	}
	run = started
	if run.Counts == nil {
		run.Counts = map[string]int{}
	}
	rep := &Report{}
	w, err := m.src.Walk(ctx)
	if err != nil {
		return m.finish(ctx, rep, run, fmt.Errorf("%w: walk: %w", ErrSource, err))
	}
	run.APICalls += w.Calls
	run.Complete = w.Complete
	run.Errors = append(run.Errors, w.Problems...)
	remote, err := New(0, w.Folders, w.Videos, w.Placements)
	if err != nil {
		return m.finish(ctx, rep, run, fmt.Errorf("%w: the walk does not form a tree: %w", ErrSource, err))
	}
	if w.RootVimeoID == "" || remote.Folder(w.RootVimeoID) == nil || remote.Folder(w.RootVimeoID).ParentVimeoID != "" {
		return m.finish(ctx, rep, run, fmt.Errorf("%w: the walk's root %q is not its top-level folder", ErrSource, w.RootVimeoID))
	}
	m.setRoot(w.RootVimeoID)

	m.mu.Lock()
	defer m.mu.Unlock()
	err = m.reconcileLocked(ctx, w, remote, opts, &run, rep)
	return m.finish(ctx, rep, run, err)
}

// reconcileLocked makes one pass: load (or reuse) the mirror, Diff, judge
// the deletions, apply. Diff lists the cascades of folder restores
// (Change.KeepDeleted) and apply keeps the snapshot of what it wrote, so no
// second load is needed to settle what the store's cascades changed.
func (m *Mirror) reconcileLocked(ctx context.Context, w *Walk, remote *Snapshot, opts ReconcileOptions, run *SyncRun, rep *Report) error {
	var cursor *Cursor
	if !w.StartedAt.IsZero() {
		raw, err := m.store.SyncState(ctx, PollCursorState)
		if err != nil {
			return fmt.Errorf("tree: read poll cursor: %w", err)
		}
		if len(raw) == 0 {
			since := w.StartedAt.Add(-DefaultCursorOverlap)
			cursor = &Cursor{VideosSince: since, FoldersSince: since}
		}
	}
	local, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	var keep, deletes []Change
	for _, c := range Diff(local, remote) {
		if c.Kind.IsDelete() {
			deletes = append(deletes, c)
		} else {
			keep = append(keep, c)
		}
	}
	if len(deletes) > 0 {
		switch {
		case !w.Complete:
			for _, c := range deletes {
				c.Reason = "walk_incomplete"
				rep.Skipped = append(rep.Skipped, c)
			}
			deletes = nil
		case !opts.AllowMassDelete && tooMany(local, deletes, m.opts.MaxDeleteShare):
			rep.Held = deletes
			deletes = nil
			msg := fmt.Sprintf("held %d deletions for an admin decision: more than %.0f%% of the tree", len(rep.Held), 100*m.opts.MaxDeleteShare)
			run.Errors = append(run.Errors, msg)
			if m.opts.RecordHeld != nil {
				held := rep.Held
				if _, err := m.store.Update(ctx, func(tx Tx) error { return m.opts.RecordHeld(ctx, tx, *run, held) }); err != nil {
					return fmt.Errorf("tree: record held run: %w", err)
				}
			}
		default:
			var extra, skipped []Change
			deletes, extra, skipped, err = m.confirmDeletes(ctx, local, remote, deletes, run)
			if err != nil {
				return err
			}
			keep = append(keep, extra...)
			rep.Skipped = append(rep.Skipped, skipped...)
		}
	}
	keep = append(keep, deletes...)
	if len(keep) == 0 && cursor == nil {
		return nil
	}
	final := func(tx Tx) error {
		if cursor == nil {
			return nil
		}
		b, err := json.Marshal(cursor)
		if err != nil {
			return err
		}
		return tx.SetSyncState(ctx, PollCursorState, b)
	}
	v, n, err := m.apply(ctx, local, keep, final)
	rep.Applied = append(rep.Applied, keep[:n]...)
	if err != nil {
		return err
	}
	rep.Version = v
	return nil
}

func tooMany(local *Snapshot, deletes []Change, share float64) bool {
	total := 0
	for _, f := range local.Folders() {
		if !f.Deleted() {
			total++
		}
	}
	for _, id := range local.VideoIDs() {
		if !local.Video(id).Deleted() {
			total++
		}
	}
	return float64(len(deletes)) > share*float64(total)
}

// confirmDeletes reads every deletion candidate from the source: 404 confirms
// it; a video found outside the mirrored root confirms it too (it left the
// mirror); a 403 makes a video unavailable and keeps a folder; anything else
// keeps the object. It returns the confirmed deletions, the changes that
// replace unconfirmed ones (unavailable videos) and the skipped ones.
func (m *Mirror) confirmDeletes(ctx context.Context, local, remote *Snapshot, cands []Change, run *SyncRun) (deletes, extra, skipped []Change, err error) {
	for _, c := range cands {
		out, err := m.confirm(ctx, remote, c, run)
		if err != nil {
			return nil, nil, nil, err
		}
		switch {
		case out.Kind == ChangeVideoUnavailable:
			if lv := local.Video(c.VimeoID); lv != nil && lv.Status != StatusUnavailable {
				extra = append(extra, out)
			}
		case out.Reason == ReasonNotFound || out.Reason == ReasonLeftRoot:
			deletes = append(deletes, out)
		default:
			skipped = append(skipped, out)
		}
	}
	return deletes, extra, skipped, nil
}

// confirm reads one candidate. The returned change is the candidate with
// Reason ReasonNotFound or ReasonLeftRoot (a confirmed deletion), a
// ChangeVideoUnavailable, or the candidate with another Reason (kept).
func (m *Mirror) confirm(ctx context.Context, remote *Snapshot, c Change, run *SyncRun) (Change, error) {
	if ctx.Err() != nil {
		return Change{}, ctx.Err()
	}
	kept := func(reason string) Change {
		k := c
		k.Reason = reason
		return k
	}
	root := remote.Roots()[0]
	if c.Kind == ChangeVideoDeleted {
		rv, err := m.src.Video(ctx, c.VimeoID)
		if rv != nil {
			run.APICalls += rv.Calls
		} else {
			run.APICalls++
		}
		switch {
		case errors.Is(err, ErrNotFound):
			c.Reason = ReasonNotFound
			return c, nil
		case errors.Is(err, ErrForbidden):
			v := *c.Video
			v.Status = StatusUnavailable
			return Change{Kind: ChangeVideoUnavailable, VimeoID: c.VimeoID, Fields: []string{FieldStatus}, Video: sourceVideo(&v), Reason: ReasonForbidden}, nil
		case err != nil:
			run.Errors = append(run.Errors, fmt.Sprintf("confirm video %s: %v", c.VimeoID, err))
			return kept("confirm_failed"), nil
		}
		if f := rv.FolderVimeoID; f != "" && remote.Folder(f) != nil {
			run.Errors = append(run.Errors, fmt.Sprintf("video %s is in folder %s of the tree but the walk missed it; kept", c.VimeoID, f))
			return kept("still_in_tree"), nil
		}
		c.Reason = ReasonLeftRoot
		return c, nil
	}
	rf, err := m.src.Folder(ctx, c.VimeoID)
	if rf != nil {
		run.APICalls += rf.Calls
	} else {
		run.APICalls++
	}
	switch {
	case errors.Is(err, ErrNotFound):
		c.Reason = ReasonNotFound
		return c, nil
	case errors.Is(err, ErrForbidden):
		run.Errors = append(run.Errors, fmt.Sprintf("folder %s answers 403: kept", c.VimeoID))
		return kept(ReasonForbidden), nil
	case err != nil:
		run.Errors = append(run.Errors, fmt.Sprintf("confirm folder %s: %v", c.VimeoID, err))
		return kept("confirm_failed"), nil
	}
	if c.VimeoID == root || slices.Contains(rf.Ancestors, root) {
		run.Errors = append(run.Errors, fmt.Sprintf("folder %s is under the root but the walk missed it; kept", c.VimeoID))
		return kept("still_in_tree"), nil
	}
	c.Reason = ReasonLeftRoot
	return c, nil
}
