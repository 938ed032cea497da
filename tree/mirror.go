package tree

// CONTRACT STUB written by the lead so that servers/syncworker can be built in
// parallel. The helper building the mirror replaces the bodies (and may add
// fields and options), but keeps these exported names and signatures.

import (
	"context"
	"errors"
	"time"
)

var errNotBuilt = errors.New("tree: mirror not built yet")

// Triggers recorded in sync_runs.
const (
	TriggerSchedule = "schedule"
	TriggerAdmin    = "admin"
	TriggerStartup  = "startup"
	TriggerPoll     = "poll"
	TriggerWebhook  = "webhook"
)

// MirrorOptions configure a Mirror. The zero value is valid.
type MirrorOptions struct {
	// MaxDeleteShare is the share of the mirrored tree (folders plus videos)
	// that one reconciliation may delete before it holds the deletions for an
	// admin decision. 0 means the default, 0.10.
	MaxDeleteShare float64
	// Record is called inside every applying transaction with the changes it
	// applies, to enqueue outbox events (sync change events, audit records).
	// Nil records nothing.
	Record func(ctx context.Context, tx Tx, changes []Change) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
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
	Run     SyncRun  // as recorded in sync_runs
	Applied []Change // what was written, in order
	Held    []Change // deletions held for an admin decision
	Version int64    // the content version after the run
}

// Mirror keeps a Store equal to a Source.
type Mirror struct {
	store Store
	src   Source
	opts  MirrorOptions
}

// NewMirror returns a Mirror of src into store.
func NewMirror(store Store, src Source, opts *MirrorOptions) (*Mirror, error) {
	m := &Mirror{store: store, src: src}
	if opts != nil {
		m.opts = *opts
	}
	return m, nil
}

// Reconcile walks the source and applies the difference.
func (m *Mirror) Reconcile(ctx context.Context, opts ReconcileOptions) (*Report, error) {
	return nil, errNotBuilt
}

// Poll applies the source's recent changes since the persisted cursor and
// persists the next cursor with them.
func (m *Mirror) Poll(ctx context.Context) (*Report, error) {
	return nil, errNotBuilt
}

// RefreshVideo re-reads one video from the source and applies what it finds
// (the webhook applier). A video outside the mirrored root that the mirror
// does not know changes nothing.
func (m *Mirror) RefreshVideo(ctx context.Context, vimeoID, trigger string) (*Report, error) {
	return nil, errNotBuilt
}

// Change is one difference between the mirror and the source (see Diff).
type Change struct {
	Kind    ChangeKind
	VimeoID string // the folder's or the video's id
}

// ChangeKind names a kind of change.
type ChangeKind string
