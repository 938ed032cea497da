package admin

import (
	"context"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// Store is what the Service reads and writes itself: the admin searches
// over sync runs, videos, provider events and dead letters, the dead-letter
// history, idempotency keys, the mirror (hide / show a video), the rules and
// the users. store/pgstore and store/memstore implement it.
type Store interface {
	tree.AdminStore
	ListHeldRuns(ctx context.Context) ([]tree.SyncRun, error)
	events.DeadLetterSearcher
	events.IdempotencyStore
	events.DeadLetterStore
	GetProviderEvent(ctx context.Context, id int64) (events.ProviderEvent, error)
	// Update is the mirror's one write path (tree.Store.Update).
	Update(ctx context.Context, fn func(tree.Tx) error) (int64, error)
	LoadSnapshot(ctx context.Context, opts tree.LoadOptions) (*tree.Snapshot, error)
	entitle.RuleStore
	Users
}

// Users is the part of the user store the admin uses.
type Users interface {
	User(ctx context.Context, userID string) (auth.User, error)
	Roles(ctx context.Context) ([]auth.Role, error)
	PutRole(ctx context.Context, r auth.Role) error
	GrantRole(ctx context.Context, userID, role string) error
	RevokeRole(ctx context.Context, userID, role string) error
	UserRoles(ctx context.Context, userID string) ([]string, error)
	// SetUserDisabled disables (or enables again) a user (auth.ErrNotFound).
	SetUserDisabled(ctx context.Context, userID string, disabled bool) error
}

// Mirror runs reconciliations and decides held ones: *tree.Mirror.
type Mirror interface {
	Reconcile(ctx context.Context, opts tree.ReconcileOptions) (*tree.Report, error)
	ReconcileFolder(ctx context.Context, folderVimeoID string, opts tree.ReconcileOptions) (*tree.Report, error)
	RefreshVideo(ctx context.Context, vimeoID, trigger string) (*tree.Report, error)
	DryRun(ctx context.Context) (*tree.DryRunReport, error)
	ApproveHeld(ctx context.Context, runID int64, actor string) (*tree.Report, error)
	RejectHeld(ctx context.Context, runID int64, actor string) error
}

// Source is the live tree for a dry run where no Mirror runs (tree.Source;
// only Walk is used).
type Source interface {
	Walk(ctx context.Context) (*tree.Walk, error)
}

// Library is the in-process read service the explanations use: the loaded
// generation's tree and compiled rules (*library.Service).
type Library interface {
	Index() (*entitle.Index, error)
	Status() library.Status
}

// LagReader reads a consumer group's lag per topic and partition
// (kafkabus.Bus, membus.Bus).
type LagReader interface {
	Lag(ctx context.Context, group string, topics ...string) (map[string]map[int]int64, error)
}

// ConsumerGroup is a consumer group and the topics it reads.
type ConsumerGroup struct {
	Group  string   `json:"group"`
	Topics []string `json:"topics"`
}

// Auditor records admin actions durably (an outbox writer in production).
type Auditor interface {
	Record(ctx context.Context, r audit.Record) error
}

// Announcer tells the readers that a version moved (Redis pub/sub or
// in-process), after the admin changed the mirror or the rules.
type Announcer interface {
	Publish(ctx context.Context, name string, v int64) error
}

var (
	_ Store           = (*pgstore.Store)(nil)
	_ Store           = (*memstore.Store)(nil)
	_ Library         = (*library.Service)(nil)
	_ InstanceLibrary = (*library.Service)(nil)
)
