package admin

import (
	"context"
	"fmt"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/syncworker"
)

// A Service without a Mirror (the sync worker runs in another process) but
// with a Publisher sends reconciliations and held decisions to the sync
// worker as commands: a syncworker.EventSyncCommand event on
// vimeo.sync.normalized, keyed syncworker.CommandKey, carrying the actor,
// the request id and the target. The sync worker's command consumer carries
// it out (under the reconcile lock), once per command id, and audits it as
// the admin's action; here the request is audited with queued=true and the
// command id.

// command publishes cmd and returns its id.
func (s *Service) command(ctx context.Context, a Actor, cmd syncworker.Command) (string, error) {
	cmd.Actor, cmd.RequestID = a.ID, a.RequestID
	if err := cmd.Validate(); err != nil {
		return "", invalid("command", "%v", err)
	}
	e, err := events.New(ctx, events.Event{Type: syncworker.EventSyncCommand, Source: "vidlib/admin",
		Subject: string(cmd.Action), Key: syncworker.CommandKey}, cmd)
	if err != nil {
		return "", err
	}
	if err := events.PublishEvents(ctx, s.opts.Publisher, events.TopicVimeoSyncNormalized, e); err != nil {
		return "", fmt.Errorf("%w: the command to the sync worker could not be sent: %v", ErrUnavailable, err)
	}
	return e.ID, nil
}

func (s *Service) queueReconcile(ctx context.Context, a Actor, req ReconcileRequest, obj string) (ReconcileResult, error) {
	cmd := syncworker.Command{Action: syncworker.CommandReconcileRoot}
	switch req.Scope {
	case ReconcileFolder:
		cmd = syncworker.Command{Action: syncworker.CommandReconcileFolder, ID: req.ID}
	case ReconcileVideo:
		cmd = syncworker.Command{Action: syncworker.CommandRefreshVideo, ID: req.ID}
	}
	id, err := s.command(ctx, a, cmd)
	if err := s.done(ctx, a, audit.ActionReconcile, "tree", obj, err, map[string]string{"queued": "true", "command_id": id}); err != nil {
		return ReconcileResult{}, err
	}
	return ReconcileResult{Scope: req.Scope, ID: req.ID, Started: true, Queued: true, CommandID: id}, nil
}

func (s *Service) queueDecision(ctx context.Context, a Actor, runID int64, approve bool, note string, action audit.Action, oid string) (SyncRun, error) {
	cmd := syncworker.Command{Action: syncworker.CommandRejectHeld, RunID: runID, Note: note}
	if approve {
		cmd.Action = syncworker.CommandApproveHeld
	}
	id, err := s.command(ctx, a, cmd)
	if err := s.done(ctx, a, action, "sync_run", oid, err, map[string]string{"note": note, "queued": "true", "command_id": id}); err != nil {
		return SyncRun{}, err
	}
	r, err := s.SyncRun(ctx, runID)
	if err != nil {
		return SyncRun{}, err
	}
	r.CommandID = id
	return r, nil
}
