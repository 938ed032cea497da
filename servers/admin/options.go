package admin

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
)

// Defaults of Options.
const (
	DefaultAddr           = ":8081"
	DefaultAdminRole      = "admin"
	DefaultReconcileWait  = 2 * time.Minute
	DefaultHandlerTimeout = 30 * time.Second
	DefaultMaxBodyBytes   = 64 << 10
)

// Options configure a Service and its API. The zero value (and nil) is
// valid: each nil collaborator turns its feature off (ErrUnavailable, 503).
type Options struct {
	// Mirror runs reconciliations, dry runs and held decisions (nil: those
	// are unavailable; the process does not run the sync worker).
	Mirror Mirror
	// Source, where there is no Mirror, is walked for a dry run (compared
	// with the store's tree).
	Source Source
	// Library is the loaded read generation for Explain and previews (nil:
	// unavailable).
	Library Library
	// Publisher re-publishes replayed dead letters (nil: replay unavailable).
	Publisher events.Publisher
	// Cache fans cache invalidations out to every API instance and collects
	// their reports (nil: an in-process LocalCache).
	Cache CacheBus
	// Lag reads consumer lag for Groups (nil: no lag view).
	Lag    LagReader
	Groups []ConsumerGroup
	// Audit searches the audit log (nil: audit search unavailable).
	Audit audit.Searcher
	// Auditor records every admin action (nil: actions are logged only).
	Auditor Auditor
	// Announcer tells the readers about version changes after a hide / show
	// or a rule change (nil: they find out by polling).
	Announcer Announcer

	// Addr is where Start listens (default DefaultAddr).
	Addr string
	// AdminRole is the role (Cognito group mapped to a role) that makes a
	// signed-in user an admin (default DefaultAdminRole).
	AdminRole string
	// AdminIssuers are token issuers whose every token is an admin (e.g. an
	// operators' user pool).
	AdminIssuers []string
	// ReconcileWait bounds a reconciliation the admin waits for: one with
	// wait, an approval of a held run, a dry run (default
	// DefaultReconcileWait). Without wait a reconciliation runs in the
	// background, bounded the same.
	ReconcileWait time.Duration
	// HandlerTimeout bounds every other request (default DefaultHandlerTimeout).
	HandlerTimeout time.Duration
	// MaxBodyBytes refuses larger bodies with 413 (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Now          func() time.Time
	Logger       *zap.Logger
}

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Addr == "" {
		r.Addr = DefaultAddr
	}
	if r.AdminRole == "" {
		r.AdminRole = DefaultAdminRole
	}
	if r.ReconcileWait == 0 {
		r.ReconcileWait = DefaultReconcileWait
	}
	if r.HandlerTimeout == 0 {
		r.HandlerTimeout = DefaultHandlerTimeout
	}
	if r.MaxBodyBytes == 0 {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if r.ReconcileWait < 0 || r.HandlerTimeout < 0 || r.MaxBodyBytes < 0 {
		return r, fmt.Errorf("%w: negative limit", ErrInvalid)
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Logger == nil {
		r.Logger = zap.NewNop()
	}
	r.Logger = r.Logger.Named("admin")
	if r.Cache == nil {
		r.Cache = NewLocalCache()
	}
	return r, nil
}
