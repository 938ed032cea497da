package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/library"
)

// InstanceLibrary is what an Agent needs of an API instance's read service
// (*library.Service).
type InstanceLibrary interface {
	Status() library.Status
	CacheStats() library.CacheStats
	InvalidateFolder(ctx context.Context, folderID string) error
	InvalidateVideo(ctx context.Context, videoID string) error
	InvalidateAll(ctx context.Context) error
}

// Defaults of AgentOptions.
const (
	DefaultReportInterval = 5 * time.Second
)

// AgentOptions tune an Agent. The zero value (and nil) is valid.
type AgentOptions struct {
	// ID names the instance (default: host name and a random suffix).
	ID string
	// Interval between reports (default DefaultReportInterval); a report
	// lives three intervals.
	Interval time.Duration
	Logger   *zap.Logger
}

// Agent runs in every API instance: it applies the admin's cache
// invalidations to the instance's library.Service and reports the
// instance's versions and cache stats. It is safe for concurrent use.
type Agent struct {
	lib      InstanceLibrary
	bus      CacheBus
	id, host string
	interval time.Duration
	log      *zap.Logger

	mu   sync.Mutex
	last string // the last invalidation applied
}

// NewAgent returns an Agent for one instance's library on the bus.
func NewAgent(lib InstanceLibrary, bus CacheBus, opts *AgentOptions) (*Agent, error) {
	if lib == nil || bus == nil {
		return nil, fmt.Errorf("%w: NewAgent needs a library and a cache bus", ErrInvalid)
	}
	var o AgentOptions
	if opts != nil {
		o = *opts
	}
	host, _ := os.Hostname()
	if o.ID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		o.ID = host + "-" + hex.EncodeToString(b[:])
	}
	if o.Interval <= 0 {
		o.Interval = DefaultReportInterval
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return &Agent{lib: lib, bus: bus, id: o.ID, host: host, interval: o.Interval, log: o.Logger.Named("admin_agent")}, nil
}

// ID is the instance's id in reports.
func (a *Agent) ID() string { return a.id }

// Run applies invalidations and reports until ctx is done. It subscribes
// before it returns from its first report, so an invalidation sent after
// the instance shows up in Instances reaches it.
func (a *Agent) Run(ctx context.Context) error {
	invs, stop := a.bus.Subscribe(ctx)
	defer stop()
	a.report(ctx)
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case inv, ok := <-invs:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("admin agent: invalidation subscription closed")
			}
			if err := a.Apply(ctx, inv); err != nil {
				a.log.Warn("cache invalidation not applied", zap.String("invalidation", inv.ID), zap.Error(err))
			}
			a.report(ctx)
		case <-t.C:
			a.report(ctx)
		}
	}
}

// Apply drops the instance's cached answers of the invalidation's scope.
// A folder or video this instance does not know (yet) is not an error.
func (a *Agent) Apply(ctx context.Context, inv Invalidation) error {
	var err error
	switch inv.Scope.Kind {
	case ScopeAll:
		err = a.lib.InvalidateAll(ctx)
	case ScopeFolder:
		err = a.lib.InvalidateFolder(ctx, inv.Scope.ID)
	case ScopeVideo:
		err = a.lib.InvalidateVideo(ctx, inv.Scope.ID)
	default:
		return fmt.Errorf("%w: scope %q", ErrInvalid, inv.Scope.Kind)
	}
	if errors.Is(err, library.ErrNotFound) || errors.Is(err, library.ErrNotReady) {
		err = nil
	}
	if err == nil {
		a.mu.Lock()
		a.last = inv.ID
		a.mu.Unlock()
		a.log.Info("cache invalidated", zap.String("invalidation", inv.ID), zap.String("scope", string(inv.Scope.Kind)), zap.String("id", inv.Scope.ID))
	}
	return err
}

// State is the instance's report now.
func (a *Agent) State() Instance {
	st := a.lib.Status()
	cs := a.lib.CacheStats()
	a.mu.Lock()
	last := a.last
	a.mu.Unlock()
	return Instance{
		ID: a.id, Host: a.host, ContentVersion: st.ContentVersion, EntitlementVersion: st.EntitlementVersion,
		LoadedAt: st.LoadedAt, Ready: st.Ready, Folders: st.Folders, Videos: st.Videos,
		CachedPages: cs.Pages, CachedBytes: cs.Bytes, LastInvalidation: last, ReportedAt: time.Now().UTC(),
	}
}

func (a *Agent) report(ctx context.Context) {
	if err := a.bus.Report(ctx, a.State(), 3*a.interval); err != nil && ctx.Err() == nil {
		a.log.Warn("instance report failed", zap.Error(err))
	}
}
