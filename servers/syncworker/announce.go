package syncworker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/tree"
)

// Announcer tells the readers of the mirror (library.Service instances)
// that a version moved: redisstore's version pub/sub across processes, or
// library.LocalVersions in one process.
type Announcer interface {
	Publish(ctx context.Context, name string, version int64) error
}

// Sync run kinds, as AnnounceOptions.Observe and the sync metrics name them.
const (
	RunReconcile = "reconcile"
	RunPoll      = "poll"
	RunWebhook   = "webhook"
)

// AnnounceOptions configure Announce. The zero value announces nothing and
// observes nothing (a plain pass-through).
type AnnounceOptions struct {
	// Announcer, if set, is told the content version after every run that
	// applied changes and moved the version past the last one announced.
	Announcer Announcer
	// Observe, if set, is called after every run of kind RunReconcile,
	// RunPoll or RunWebhook, with the run's start, its report (nil on some
	// errors) and its error: the sync metrics hang here.
	Observe func(kind string, start time.Time, rep *tree.Report, err error)
	// AnnounceTimeout bounds one announcement (default 5 s).
	AnnounceTimeout time.Duration
	Logger          *zap.Logger
}

// AnnouncingMirror wraps a mirror: every run is observed and every run that
// moved the content version is announced to the readers, so that they load
// the new snapshot at once instead of at their next poll. It is a
// CommandMirror, so the sync worker also carries out the admin's commands
// through it. It is safe for concurrent use.
type AnnouncingMirror struct {
	m   PollingMirror
	o   AnnounceOptions
	log *zap.Logger

	mu   sync.Mutex
	last int64
}

var (
	_ CommandMirror = (*AnnouncingMirror)(nil)
	_ Mirror        = (*AnnouncingMirror)(nil)
)

// PollingMirror is a CommandMirror that also polls: *tree.Mirror.
type PollingMirror interface {
	CommandMirror
	Poll(ctx context.Context) (*tree.Report, error)
}

var _ PollingMirror = (*tree.Mirror)(nil)

// Announce wraps m (a *tree.Mirror in production).
func Announce(m PollingMirror, opts *AnnounceOptions) (*AnnouncingMirror, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: announce: a mirror is required", ErrInvalid)
	}
	var o AnnounceOptions
	if opts != nil {
		o = *opts
	}
	if o.AnnounceTimeout < 0 {
		return nil, fmt.Errorf("%w: announce: negative timeout", ErrInvalid)
	}
	if o.AnnounceTimeout == 0 {
		o.AnnounceTimeout = 5 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &AnnouncingMirror{m: m, o: o, log: log}, nil
}

func (a *AnnouncingMirror) after(kind string, start time.Time, rep *tree.Report, err error) {
	if a.o.Observe != nil {
		a.o.Observe(kind, start, rep, err)
	}
	if rep == nil || a.o.Announcer == nil {
		return
	}
	a.mu.Lock()
	bump := rep.Version > a.last
	if bump {
		a.last = rep.Version
	}
	a.mu.Unlock()
	if !bump || len(rep.Applied) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.o.AnnounceTimeout)
	defer cancel()
	if perr := a.o.Announcer.Publish(ctx, library.VersionContent, rep.Version); perr != nil {
		a.log.Warn("could not announce the content version; readers will poll", zap.Int64("version", rep.Version), zap.Error(perr))
	}
}

// Reconcile runs a full reconciliation (RunReconcile).
func (a *AnnouncingMirror) Reconcile(ctx context.Context, opts tree.ReconcileOptions) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.Reconcile(ctx, opts)
	a.after(RunReconcile, start, rep, err)
	return rep, err
}

// Poll runs a change poll (RunPoll).
func (a *AnnouncingMirror) Poll(ctx context.Context) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.Poll(ctx)
	a.after(RunPoll, start, rep, err)
	return rep, err
}

// RefreshVideo re-reads one video (RunWebhook).
func (a *AnnouncingMirror) RefreshVideo(ctx context.Context, id, trigger string) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.RefreshVideo(ctx, id, trigger)
	a.after(RunWebhook, start, rep, err)
	return rep, err
}

// ReconcileFolder reconciles one subtree (RunReconcile).
func (a *AnnouncingMirror) ReconcileFolder(ctx context.Context, id string, opts tree.ReconcileOptions) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.ReconcileFolder(ctx, id, opts)
	a.after(RunReconcile, start, rep, err)
	return rep, err
}

// ApproveHeld applies a held reconciliation (RunReconcile).
func (a *AnnouncingMirror) ApproveHeld(ctx context.Context, runID int64, actor string) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.ApproveHeld(ctx, runID, actor)
	a.after(RunReconcile, start, rep, err)
	return rep, err
}

// RejectHeld rejects a held reconciliation; nothing changes, nothing is
// announced.
func (a *AnnouncingMirror) RejectHeld(ctx context.Context, runID int64, actor string) error {
	return a.m.RejectHeld(ctx, runID, actor)
}
