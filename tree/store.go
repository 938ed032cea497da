package tree

import (
	"context"
	"fmt"
	"time"
)

// Store is the mirror's persistent state: what Mirror reads and writes. Every
// change goes through Update so that it is atomic and bumps the content version.
// Implementations: store/pgstore (PostgreSQL) and store/memstore (in memory); both
// pass store/storetest.
type Store interface {
	// LoadSnapshot reads the whole mirrored tree at one point in time. Soft-deleted
	// folders and videos are included only with opts.IncludeDeleted.
	LoadSnapshot(ctx context.Context, opts LoadOptions) (*Snapshot, error)
	// ContentVersion is the current content version; it grows with every
	// transaction that changed the mirror.
	ContentVersion(ctx context.Context) (int64, error)
	// Update runs fn in one transaction. If fn returns an error nothing it did is
	// kept. If it changed anything the content version is bumped once and the new
	// version is returned; otherwise the current version is returned.
	Update(ctx context.Context, fn func(Tx) error) (version int64, err error)
	// SyncState returns the named sync state (a JSON document, e.g. the recent
	// poll's cursor) as last committed by Tx.SetSyncState, or nil when it was
	// never set.
	SyncState(ctx context.Context, name string) ([]byte, error)
	// SyncRuns is the history of reconciliation runs, newest first.
	SyncRuns
}

// ContentFeed is a Store's change feed: which folders and videos each content
// version changed, recorded in the transaction that made the version, so that
// a reader holding the tree at one version can patch it to the current one
// (Snapshot.Patch) instead of reading it all again. Both stores implement it
// and pass store/storetest; a reader must fall back to LoadSnapshot when a
// store does not, or when the feed answers ErrFeedGap.
type ContentFeed interface {
	// ContentChangesSince returns what changed after version, up to the
	// current content version (To). The feed keeps FeedRetention versions:
	// further back, or for versions it never recorded (written before the
	// feed existed) or that are ahead of the store's, it returns an error
	// wrapping ErrFeedGap. A negative version is ErrInvalid.
	ContentChangesSince(ctx context.Context, version int64) (ContentChanges, error)
	// LoadObjects reads the current rows of the named folders and videos,
	// soft-deleted ones included (unknown ids are left out), and every
	// placement of those videos and in those folders, each once.
	LoadObjects(ctx context.Context, folderIDs, videoIDs []string) (Objects, error)
}

// LoadOptions select what LoadSnapshot returns.
type LoadOptions struct {
	IncludeDeleted bool // include soft-deleted folders and videos (for Diff)
}

// Tx is the set of writes available inside Store.Update. Methods that take Vimeo
// ids return an error wrapping ErrNotFound for an id the store does not know.
type Tx interface {
	// UpsertFolders inserts new folders and updates the attributes of known ones,
	// by VimeoID. A folder's parent must be known to the store or come earlier in
	// the same slice (ErrOrphan otherwise). A known folder whose parent changed is
	// moved with its subtree, as MoveFolder does. A move under its own subtree is
	// ErrCycle.
	UpsertFolders(ctx context.Context, folders []Folder) error
	// UpsertVideos inserts new videos and updates known ones, by VimeoID. Hidden
	// and DeletedAt are not changed by an upsert (see SetVideoHidden,
	// DeleteVideos, RestoreVideos).
	UpsertVideos(ctx context.Context, videos []Video) error
	// PlaceVideos sets, for every video named in ps, its complete set of folder
	// placements to the ones given for it in ps (a video in Vimeo lives in one
	// folder; moving it is placing it elsewhere).
	PlaceVideos(ctx context.Context, ps []Placement) error
	// UnplaceVideos removes every placement of the given videos.
	UnplaceVideos(ctx context.Context, videoVimeoIDs []string) error
	// MoveFolder makes newParentVimeoID the parent of the folder and rewrites the
	// materialised paths of its whole subtree in one statement. A move under its
	// own subtree is ErrCycle; an empty newParentVimeoID makes it top-level.
	MoveFolder(ctx context.Context, vimeoID, newParentVimeoID string) error
	// DeleteFolder soft-deletes the folder and every live folder of its subtree.
	DeleteFolder(ctx context.Context, vimeoID string) error
	// RestoreFolder undoes DeleteFolder: the folder and the descendants deleted
	// with it come back, each only with its parent (one moved, while deleted,
	// under a folder deleted at another time stays deleted with it). Its
	// parent must be live (ErrConflict otherwise).
	RestoreFolder(ctx context.Context, vimeoID string) error
	// DeleteVideos soft-deletes videos; placements are kept for a restore.
	DeleteVideos(ctx context.Context, vimeoIDs []string) error
	// RestoreVideos undoes DeleteVideos.
	RestoreVideos(ctx context.Context, vimeoIDs []string) error
	// SetVideoHidden hides or shows a video to users (an admin decision that a
	// reconciliation never overrides).
	SetVideoHidden(ctx context.Context, vimeoID string, hidden bool) error
	// EnqueueOutbox records an event to publish after the transaction commits
	// (the transactional outbox). payload is the encoded event.
	EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error
	// SetSyncState stores a named sync state (value must be a JSON document) so
	// that it commits, or not, with the changes it led to. It does not bump the
	// content version.
	SetSyncState(ctx context.Context, name string, value []byte) error
}

// SyncRuns records reconciliation runs (the sync_runs table).
type SyncRuns interface {
	// StartSyncRun records a run that has begun and returns it with its ID.
	StartSyncRun(ctx context.Context, run SyncRun) (SyncRun, error)
	// FinishSyncRun records the outcome of a started run (ErrNotFound for an
	// unknown ID, ErrConflict for a run already finished).
	FinishSyncRun(ctx context.Context, run SyncRun) error
	// ListSyncRuns returns runs newest first; before > 0 pages past that ID.
	ListSyncRuns(ctx context.Context, before int64, limit int) ([]SyncRun, error)
	// ListHeldRuns returns the finished runs whose held deletions wait for an
	// admin decision (HeldStatus HeldPending), newest first.
	ListHeldRuns(ctx context.Context) ([]SyncRun, error)
	// DecideHeldRun records the admin's decision on a pending held run:
	// status HeldApproved or HeldRejected (ErrInvalid otherwise), by whom and
	// when. ErrNotFound for an unknown run, ErrConflict for a run that is not
	// pending (never held, or already decided).
	DecideHeldRun(ctx context.Context, id int64, status HeldStatus, by string, at time.Time) error
}

// MaxRecordedChanges bounds the changes a sync run keeps (SyncRun.Changes and
// SyncRun.HeldChanges); the counts keep the totals.
const MaxRecordedChanges = 1000

// HeldStatus is where a run's held deletions stand.
type HeldStatus string

// Held statuses. A run that held nothing has the empty status.
const (
	HeldPending  HeldStatus = "pending"  // waiting for an admin decision
	HeldApproved HeldStatus = "approved" // an admin approved; a reconciliation applied them
	HeldRejected HeldStatus = "rejected" // an admin rejected; nothing was deleted
)

// FinishHeldStatus is the held status a store finishes run with
// (FinishSyncRun): HeldPending when it held deletions, none otherwise.
// Approved and rejected are an admin's decisions (DecideHeldRun), not
// outcomes of a run: a run that carries one is ErrInvalid.
func FinishHeldStatus(run SyncRun) (HeldStatus, error) {
	if run.HeldStatus != "" && run.HeldStatus != HeldPending {
		return "", fmt.Errorf("%w: sync run %d cannot finish %s: only an admin decides a held run", ErrInvalid, run.ID, run.HeldStatus)
	}
	if run.Held {
		return HeldPending, nil
	}
	return "", nil
}

// CheckHeldDecision checks the decision a store's DecideHeldRun is given:
// status HeldApproved or HeldRejected (ErrInvalid otherwise). It returns
// the time to record: at, or now when at is zero.
func CheckHeldDecision(status HeldStatus, at time.Time) (time.Time, error) {
	if status != HeldApproved && status != HeldRejected {
		return at, fmt.Errorf("%w: held run decision %q: want %q or %q", ErrInvalid, status, HeldApproved, HeldRejected)
	}
	if at.IsZero() {
		at = time.Now()
	}
	return at, nil
}

// SyncRun is one reconciliation or poll and its outcome.
type SyncRun struct {
	ID         int64
	Trigger    string // "schedule", "admin", "poll", "webhook", "startup"
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Complete   bool      // the walk was complete and consistent
	Held       bool      // deletions held for an admin decision
	Counts     map[string]int
	APICalls   int
	Errors     []string

	// Changes are the first MaxRecordedChanges changes the run applied, in
	// order; ChangesTotal counts them all. They are what "the last
	// reconciliation's changes" shows (Describe puts them into words).
	Changes      []Change
	ChangesTotal int
	// HeldChanges are the first MaxRecordedChanges deletions held for an admin
	// decision (Counts["held"] counts them all).
	HeldChanges []Change
	// HeldStatus is HeldPending when the run held deletions, until an admin
	// decides (DecideHeldRun); HeldBy and HeldDecidedAt record the decision.
	HeldStatus    HeldStatus
	HeldBy        string
	HeldDecidedAt time.Time
}
