package console

import (
	"context"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/servers/admin"
)

// Service is what the console needs from the admin Service (*admin.Service
// implements it): the same methods the JSON API calls, so both show and
// change the same things, with the same validation and audit records.
type Service interface {
	Overview(ctx context.Context) (admin.Overview, error)

	SyncRuns(ctx context.Context, q admin.SyncRunQuery) (admin.Page[admin.SyncRun], error)
	SyncRun(ctx context.Context, id int64) (admin.SyncRun, error)
	DecideHeld(ctx context.Context, a admin.Actor, runID int64, approve bool, note string) (admin.SyncRun, error)
	Reconcile(ctx context.Context, a admin.Actor, req admin.ReconcileRequest) (admin.ReconcileResult, error)
	Drift(ctx context.Context) (admin.Drift, error)
	DryRun(ctx context.Context, a admin.Actor) (admin.Drift, error)

	ProviderEvents(ctx context.Context, q admin.ProviderEventQuery) (admin.Page[admin.ProviderEvent], error)
	ProviderEvent(ctx context.Context, id int64) (admin.ProviderEvent, error)

	DeadLetters(ctx context.Context, q admin.DeadLetterQuery) (admin.Page[admin.DeadLetter], error)
	DeadLetter(ctx context.Context, id int64) (admin.DeadLetter, error)
	ReplayDeadLetter(ctx context.Context, a admin.Actor, id int64) (admin.DeadLetter, error)
	IgnoreDeadLetter(ctx context.Context, a admin.Actor, id int64, note string) (admin.DeadLetter, error)
	AnnotateDeadLetter(ctx context.Context, a admin.Actor, id int64, note string) (admin.DeadLetter, error)

	Videos(ctx context.Context, q admin.VideoQuery) (admin.Page[admin.Video], error)
	SetVideoHidden(ctx context.Context, a admin.Actor, videoID string, hidden bool) (int64, error)

	Instances(ctx context.Context) ([]admin.Instance, error)
	InvalidateCache(ctx context.Context, a admin.Actor, sc admin.Scope) (admin.InvalidateResult, error)
	ConsumerLag(ctx context.Context) ([]admin.Lag, error)
	Audit(ctx context.Context, q audit.Query) (audit.Page, error)

	Explain(ctx context.Context, req admin.ExplainRequest) (admin.Explanation, error)
	Rules(ctx context.Context) (admin.RuleSet, error)
	PreviewRule(ctx context.Context, ch admin.RuleChange) (admin.Preview, error)
	AddRule(ctx context.Context, a admin.Actor, r admin.Rule) (admin.Rule, error)
	RemoveRule(ctx context.Context, a admin.Actor, id int64) error

	RoleList(ctx context.Context) ([]auth.Role, error)
	PutRole(ctx context.Context, a admin.Actor, r auth.Role) error
	GrantRole(ctx context.Context, a admin.Actor, userID, role string) error
	RevokeRole(ctx context.Context, a admin.Actor, userID, role string) error
	SetUserDisabled(ctx context.Context, a admin.Actor, userID string, disabled bool) error
}

var _ Service = (*admin.Service)(nil)
