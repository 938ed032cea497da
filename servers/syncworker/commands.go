package syncworker

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

// GroupCommands is the consumer group of the admin's commands.
const GroupCommands = "vidlib.syncworker.commands"

// EventSyncCommand is the type of an admin's command to the sync worker on
// vimeo.sync.normalized (data: Command): an admin service without a mirror of
// its own asks the sync worker to reconcile, refresh a video, or decide a
// held run. Every command is published with the key CommandKey.
const EventSyncCommand = "vimeo.sync.command"

// CommandKey is the partition key of every command: one key, so that
// commands are carried out one after the other, in the order they were given
// (an approval after the reconciliation requested before it).
const CommandKey = "vidlib.sync.command"

// CommandAction is what a Command asks for.
type CommandAction string

// Command actions.
const (
	CommandReconcileRoot   CommandAction = "reconcile.root"   // Mirror.Reconcile, under the reconcile lock
	CommandReconcileFolder CommandAction = "reconcile.folder" // Mirror.ReconcileFolder(ID), under the reconcile lock
	CommandRefreshVideo    CommandAction = "reconcile.video"  // Mirror.RefreshVideo(ID)
	CommandApproveHeld     CommandAction = "held.approve"     // Mirror.ApproveHeld(RunID), under the reconcile lock
	CommandRejectHeld      CommandAction = "held.reject"      // Mirror.RejectHeld(RunID)
)

// Command is the data of an EventSyncCommand event.
type Command struct {
	Action CommandAction `json:"action"`
	// ID is the folder or video id of reconcile.folder and reconcile.video.
	ID string `json:"id,omitempty"`
	// RunID is the held run of held.approve and held.reject.
	RunID int64 `json:"run_id,omitempty"`
	// Actor is the admin who gave the command (audit actor, held decider);
	// RequestID the admin request's id (audit).
	Actor     string `json:"actor"`
	RequestID string `json:"request_id,omitempty"`
	// Note goes to the audit record of a held decision.
	Note string `json:"note,omitempty"`
}

// Validate reports a command that cannot be carried out (events.ErrInvalid).
func (c Command) Validate() error {
	if c.Actor == "" {
		return events.Invalid("command", "actor", "an admin command needs its actor")
	}
	switch c.Action {
	case CommandReconcileRoot:
	case CommandReconcileFolder, CommandRefreshVideo:
		if c.ID == "" {
			return events.Invalid("command", "id", "%s needs an id", c.Action)
		}
	case CommandApproveHeld, CommandRejectHeld:
		if c.RunID <= 0 {
			return events.Invalid("command", "run_id", "%s needs a run id", c.Action)
		}
	default:
		return events.Invalid("command", "action", "unknown action %q", c.Action)
	}
	return nil
}

// object is the audit object of the command (the admin service's names).
func (c Command) object() (action audit.Action, kind, id string) {
	switch c.Action {
	case CommandReconcileFolder:
		return audit.ActionReconcile, "tree", "folder:" + c.ID
	case CommandRefreshVideo:
		return audit.ActionReconcile, "tree", "video:" + c.ID
	case CommandApproveHeld:
		return audit.ActionReconcileApprove, "sync_run", strconv.FormatInt(c.RunID, 10)
	case CommandRejectHeld:
		return audit.ActionReconcileReject, "sync_run", strconv.FormatInt(c.RunID, 10)
	default:
		return audit.ActionReconcile, "tree", "root"
	}
}

// CommandMirror is what the command consumer needs of a mirror: *tree.Mirror.
type CommandMirror interface {
	Reconcile(ctx context.Context, opts tree.ReconcileOptions) (*tree.Report, error)
	ReconcileFolder(ctx context.Context, folderVimeoID string, opts tree.ReconcileOptions) (*tree.Report, error)
	RefreshVideo(ctx context.Context, vimeoID, trigger string) (*tree.Report, error)
	ApproveHeld(ctx context.Context, runID int64, actor string) (*tree.Report, error)
	RejectHeld(ctx context.Context, runID int64, actor string) error
}

var _ CommandMirror = (*tree.Mirror)(nil)

// CommandStore is what the command consumer needs of a store: the ledger,
// the dead letters and the outbox (audit records).
type CommandStore interface {
	ConsumerStore
	events.OutboxWriter
}

// CommandsOptions configure Commands. The zero value is valid.
type CommandsOptions struct {
	ConsumerOptions
	// LockName is the lock reconciliations take (0: LockReconcile, the
	// scheduler's).
	LockName string
}

// Commands consumes vimeo.sync.normalized in a group of its own and carries
// out the admin's commands (EventSyncCommand; other event types are passed
// over before dedup, retry and tracing: events.OnlyTypes). Reconciliations (root, folder, the re-run of an approval) take
// the scheduler's lock first, so they never run with a scheduled one on any
// worker; a lock held elsewhere is a failure like any other: retried with
// backoff (ConsumerOptions.Retry), then dead-lettered, from where an admin
// can replay it. A command is carried out once per event id (the dedup
// ledger). Every command carried out is audited as its admin's action, with
// the outcome (ok, denied for one that cannot be done, error) and the
// command's request id.
type Commands struct {
	mirror  CommandMirror
	locker  Locker
	store   CommandStore
	opts    CommandsOptions
	log     *zap.Logger
	handler events.Handler
}

// NewCommands returns the command consumer over mirror. locker excludes
// concurrent reconciliations; pub publishes dead letters; store keeps the
// ledger, the dead letters and the audit records' outbox.
func NewCommands(mirror CommandMirror, locker Locker, pub events.Publisher, store CommandStore, opts *CommandsOptions) (*Commands, error) {
	if mirror == nil || locker == nil || pub == nil || store == nil {
		return nil, fmt.Errorf("%w: commands need a mirror, a locker, a publisher and a store", ErrInvalid)
	}
	var co CommandsOptions
	if opts != nil {
		co = *opts
	}
	co.ConsumerOptions = co.defaults(GroupCommands)
	if co.LockName == "" {
		co.LockName = LockReconcile
	}
	c := &Commands{mirror: mirror, locker: locker, store: store, opts: co, log: co.Logger.Named("commands")}
	dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: pub, Store: store, Logger: co.Logger})
	if err != nil {
		return nil, fmt.Errorf("syncworker: commands: %w", err)
	}
	c.handler = chain(events.HandleEvents(c.handle), co.ConsumerOptions, dlq, events.Dedup(store, co.Group, events.EventIDKey), EventSyncCommand)
	return c, nil
}

// Handler returns the consumer's handler with its middleware.
func (c *Commands) Handler() events.Handler { return c.handler }

// Run consumes vimeo.sync.normalized with sub until ctx ends.
func (c *Commands) Run(ctx context.Context, sub events.Subscriber) error {
	return sub.Subscribe(ctx, subscription(c.opts.ConsumerOptions, events.TopicVimeoSyncNormalized), c.handler)
}

func (c *Commands) handle(ctx context.Context, e events.Event) error {
	var cmd Command
	if err := e.DecodeData(&cmd); err != nil {
		return err
	}
	if err := cmd.Validate(); err != nil {
		c.audit(ctx, e.ID, cmd, err, nil)
		return events.Permanent(err)
	}
	details := map[string]string{}
	err := c.execute(ctx, cmd, details)
	if errors.Is(err, ErrBusy) {
		// Not carried out: retried, then dead-lettered.
		c.log.Info("admin command waits for a running reconciliation", zap.String("action", string(cmd.Action)))
		return err
	}
	c.audit(ctx, e.ID, cmd, err, details)
	if errors.Is(err, tree.ErrInvalid) || errors.Is(err, tree.ErrNotFound) || errors.Is(err, tree.ErrConflict) {
		err = events.Permanent(err)
	}
	if err != nil {
		return fmt.Errorf("admin command %s: %w", cmd.Action, err)
	}
	return nil
}

func (c *Commands) execute(ctx context.Context, cmd Command, details map[string]string) error {
	report := func(rep *tree.Report) {
		if rep == nil {
			return
		}
		if rep.Run.ID != 0 {
			details["result_run"] = strconv.FormatInt(rep.Run.ID, 10)
		}
		details["applied"] = strconv.Itoa(len(rep.Applied))
		details["held"] = strconv.Itoa(len(rep.Held))
	}
	opts := tree.ReconcileOptions{Trigger: tree.TriggerAdmin}
	switch cmd.Action {
	case CommandRefreshVideo:
		rep, err := c.mirror.RefreshVideo(ctx, cmd.ID, tree.TriggerAdmin)
		report(rep)
		return err
	case CommandRejectHeld:
		return c.mirror.RejectHeld(ctx, cmd.RunID, cmd.Actor)
	}
	release, ok, err := c.locker.TryLock(ctx, c.opts.LockName)
	if err != nil {
		return fmt.Errorf("syncworker: reconcile lock: %w", err)
	}
	if !ok {
		return ErrBusy
	}
	defer release()
	var rep *tree.Report
	switch cmd.Action {
	case CommandReconcileFolder:
		rep, err = c.mirror.ReconcileFolder(ctx, cmd.ID, opts)
	case CommandApproveHeld:
		rep, err = c.mirror.ApproveHeld(ctx, cmd.RunID, cmd.Actor)
	default:
		rep, err = c.mirror.Reconcile(ctx, opts)
	}
	report(rep)
	return err
}

// audit records a command carried out (or refused) as its admin's action.
// The action has happened: a failure to audit it is logged, not retried.
func (c *Commands) audit(ctx context.Context, eventID string, cmd Command, err error, details map[string]string) {
	if details == nil {
		details = map[string]string{}
	}
	details["command_id"] = eventID
	details["executed_by"] = "sync_worker"
	if cmd.Note != "" {
		details["note"] = audit.DetailValue(clip(cmd.Note, 1024))
	}
	outcome := audit.OutcomeOK
	if err != nil {
		outcome = audit.OutcomeError
		if errors.Is(err, events.ErrInvalid) || errors.Is(err, tree.ErrInvalid) || errors.Is(err, tree.ErrNotFound) || errors.Is(err, tree.ErrConflict) {
			outcome = audit.OutcomeDenied
		}
		details["error"] = audit.DetailValue(clip(err.Error(), 512))
	}
	action, kind, id := cmd.object()
	actor := cmd.Actor
	if actor == "" {
		actor = "unknown"
	}
	rec := audit.Record{ActorKind: audit.ActorAdmin, ActorID: actor, Action: action, ObjectKind: kind, ObjectID: id,
		Outcome: outcome, RequestID: cmd.RequestID, Details: details}
	if _, aerr := audit.Enqueue(context.WithoutCancel(ctx), c.store, c.opts.Source, rec); aerr != nil {
		c.log.Error("admin command not audited", zap.String("action", string(action)), zap.String("object", kind+":"+id), zap.Error(aerr))
	}
}
