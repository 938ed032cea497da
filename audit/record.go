package audit

import (
	"context"
	"time"
)

// ActorKind says who acted.
type ActorKind string

// Actor kinds.
const (
	ActorUser     ActorKind = "user"     // a signed-in app user (internal user id)
	ActorAdmin    ActorKind = "admin"    // an operator acting through the admin service (internal user id)
	ActorSystem   ActorKind = "system"   // vidlib itself: the mirror, a consumer, a schedule
	ActorProvider ActorKind = "provider" // an outside service: "vimeo", "hubspot"
)

// Action is what happened, from a closed list: Valid reports membership.
type Action string

// The audited actions.
const (
	ActionLogin        Action = "auth.login"         // a sign-in that succeeded
	ActionLoginRefused Action = "auth.login_refused" // a sign-in that was refused (bad token, disabled user)

	ActionRuleAdded   Action = "entitlement.rule_added"
	ActionRuleRemoved Action = "entitlement.rule_removed"
	ActionRoleCreated Action = "role.created"
	ActionRoleDeleted Action = "role.deleted"
	ActionRoleGranted Action = "role.granted" // a role given to a user
	ActionRoleRevoked Action = "role.revoked"
	ActionUserDisable Action = "user.disabled"
	ActionUserEnable  Action = "user.enabled"

	ActionDeadLetterReplay   Action = "dead_letter.replay"
	ActionDeadLetterIgnore   Action = "dead_letter.ignore"
	ActionDeadLetterAnnotate Action = "dead_letter.annotate"
	ActionReconcile          Action = "admin.reconcile"         // root, subtree or one video, on demand
	ActionReconcileApprove   Action = "admin.reconcile_approve" // a held reconciliation let through
	ActionReconcileReject    Action = "admin.reconcile_reject"
	ActionCacheInvalidate    Action = "admin.cache_invalidate"
	ActionVideoHide          Action = "admin.video_hide"
	ActionVideoShow          Action = "admin.video_show"

	ActionWebhookReceived Action = "webhook.received"
	ActionWebhookRejected Action = "webhook.rejected"

	ActionSyncFailed       Action = "sync.failed"
	ActionSyncHeld         Action = "sync.held" // deletions held for an admin decision
	ActionFolderMoved      Action = "sync.folder.moved"
	ActionFolderDeleted    Action = "sync.folder.deleted"
	ActionVideoMoved       Action = "sync.video.moved"
	ActionVideoDeleted     Action = "sync.video.deleted"
	ActionVideoUnavailable Action = "sync.video.unavailable"
	ActionAccessDecision   Action = "access.decision" // sampled, off by default
	ActionChatContext      Action = "hubspot.context"
)

// Actions lists every valid action, in the order above.
var Actions = []Action{
	ActionLogin, ActionLoginRefused,
	ActionRuleAdded, ActionRuleRemoved, ActionRoleCreated, ActionRoleDeleted, ActionRoleGranted, ActionRoleRevoked,
	ActionUserDisable, ActionUserEnable,
	ActionDeadLetterReplay, ActionDeadLetterIgnore, ActionDeadLetterAnnotate, ActionReconcile,
	ActionReconcileApprove, ActionReconcileReject, ActionCacheInvalidate, ActionVideoHide, ActionVideoShow,
	ActionWebhookReceived, ActionWebhookRejected,
	ActionSyncFailed, ActionSyncHeld, ActionFolderMoved, ActionFolderDeleted, ActionVideoMoved, ActionVideoDeleted,
	ActionVideoUnavailable, ActionAccessDecision, ActionChatContext,
}

// Outcome is how an action ended.
type Outcome string

// Outcomes.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeDenied Outcome = "denied" // refused: authorisation, validation, a held decision
	OutcomeError  Outcome = "error"  // attempted and failed
)

// Record is one audited action. ID (a UUIDv7) is its identity: a record
// delivered twice is stored once. Seq, PrevHash and Hash are set when the
// record is appended to the chain and are zero before.
type Record struct {
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	ActorKind  ActorKind         `json:"actor_kind"`
	ActorID    string            `json:"actor_id"`
	Action     Action            `json:"action"`
	ObjectKind string            `json:"object_kind"` // "video", "folder", "rule", "dead_letter", "user", "sync_run", …
	ObjectID   string            `json:"object_id"`
	Outcome    Outcome           `json:"outcome"`
	RequestID  string            `json:"request_id,omitempty"`
	TraceID    string            `json:"trace_id,omitempty"`
	Details    map[string]string `json:"details,omitempty"`

	Seq      int64  `json:"seq,omitempty"`       // position in the chain, from 1
	PrevHash []byte `json:"prev_hash,omitempty"` // Hash of record Seq-1 (nil for the first)
	Hash     []byte `json:"hash,omitempty"`
}

// Query selects stored records for Search: every set field must match.
type Query struct {
	ActorKind  ActorKind
	ActorID    string
	Action     Action
	ObjectKind string
	ObjectID   string
	From, To   time.Time // Time in [From, To); zero: unbounded
	Before     int64     // cursor: only records with Seq < Before (0: from the newest)
	Limit      int       // 1…1000 (0: 50)
}

// Page is one page of records, newest first; Next is the Before of the next
// page, 0 on the last.
type Page struct {
	Items []Record
	Next  int64
}

// Searcher finds stored records: pgstore.Store and memstore.Store implement it.
type Searcher interface {
	SearchAudit(ctx context.Context, q Query) (Page, error)
}
