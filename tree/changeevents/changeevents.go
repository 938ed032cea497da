package changeevents

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

// Source is the envelope source of every event this package writes.
const Source = "vidlib/sync"

// Event types on events.TopicVimeoSyncNormalized.
const (
	TypeFolderCreated    = "vimeo.folder.created"
	TypeFolderRestored   = "vimeo.folder.restored"
	TypeFolderMoved      = "vimeo.folder.moved"
	TypeFolderRenamed    = "vimeo.folder.renamed"
	TypeFolderDeleted    = "vimeo.folder.deleted"
	TypeVideoCreated     = "vimeo.video.created"
	TypeVideoRestored    = "vimeo.video.restored"
	TypeVideoMoved       = "vimeo.video.moved"
	TypeVideoUpdated     = "vimeo.video.updated"
	TypeVideoUnavailable = "vimeo.video.unavailable"
	TypeVideoDeleted     = "vimeo.video.deleted"
)

// Types lists every change event type, for consumers that filter the topic.
var Types = []string{
	TypeFolderCreated, TypeFolderRestored, TypeFolderMoved, TypeFolderRenamed, TypeFolderDeleted,
	TypeVideoCreated, TypeVideoRestored, TypeVideoMoved, TypeVideoUpdated, TypeVideoUnavailable, TypeVideoDeleted,
}

var typeOf = map[tree.ChangeKind]string{
	tree.ChangeFolderCreated: TypeFolderCreated, tree.ChangeFolderRestored: TypeFolderRestored,
	tree.ChangeFolderMoved: TypeFolderMoved, tree.ChangeFolderRenamed: TypeFolderRenamed,
	tree.ChangeFolderDeleted: TypeFolderDeleted, tree.ChangeVideoCreated: TypeVideoCreated,
	tree.ChangeVideoRestored: TypeVideoRestored, tree.ChangeVideoMoved: TypeVideoMoved,
	tree.ChangeVideoUpdated: TypeVideoUpdated, tree.ChangeVideoUnavailable: TypeVideoUnavailable,
	tree.ChangeVideoDeleted: TypeVideoDeleted,
}

// TypeOf returns the event type of a change kind, or "" for kinds that
// produce no event.
func TypeOf(k tree.ChangeKind) string { return typeOf[k] }

// Data is the payload of a change event.
type Data struct {
	Kind    string   `json:"kind"`   // the tree.ChangeKind
	Object  string   `json:"object"` // "folder" or "video"
	VimeoID string   `json:"vimeo_id"`
	From    string   `json:"from,omitempty"`
	To      string   `json:"to,omitempty"`
	Fields  []string `json:"fields,omitempty"`
	Name    string   `json:"name,omitempty"` // folder name or video title
	Status  string   `json:"status,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// Record returns a tree.MirrorOptions.Record that writes the events of every
// applied change into the transaction's outbox.
func Record() func(ctx context.Context, tx tree.Tx, changes []tree.Change) error {
	return func(ctx context.Context, tx tree.Tx, changes []tree.Change) error {
		for _, c := range changes {
			typ := typeOf[c.Kind]
			if typ == "" {
				continue
			}
			d := dataOf(c)
			subject := d.Object + ":" + c.VimeoID
			ev, err := events.New(ctx, events.Event{Type: typ, Source: Source, Subject: subject, Key: c.VimeoID}, d)
			if err != nil {
				return fmt.Errorf("changeevents: %s: %w", subject, err)
			}
			if err := events.Enqueue(ctx, tx, events.TopicVimeoSyncNormalized, ev); err != nil {
				return fmt.Errorf("changeevents: %s: %w", subject, err)
			}
			action, ok := auditAction[c.Kind]
			if !ok {
				continue
			}
			rec := audit.Record{ActorKind: audit.ActorSystem, ActorID: Source, Action: action,
				ObjectKind: d.Object, ObjectID: c.VimeoID, Outcome: audit.OutcomeOK,
				Details: map[string]string{"from": c.From, "to": c.To, "reason": string(c.Reason), "name": audit.DetailValue(d.Name)}}
			if _, err := audit.Enqueue(ctx, tx, Source, rec); err != nil {
				return fmt.Errorf("changeevents: audit %s: %w", subject, err)
			}
		}
		return nil
	}
}

// RecordHeld returns a tree.MirrorOptions.RecordHeld that writes one audit
// record for a reconciliation whose deletions were held.
func RecordHeld() func(ctx context.Context, tx tree.Tx, run tree.SyncRun, held []tree.Change) error {
	return func(ctx context.Context, tx tree.Tx, run tree.SyncRun, held []tree.Change) error {
		ids := make([]string, 0, min(len(held), 100))
		for _, c := range held[:min(len(held), 100)] {
			ids = append(ids, string(c.Kind)+":"+c.VimeoID)
		}
		rec := audit.Record{ActorKind: audit.ActorSystem, ActorID: Source, Action: audit.ActionSyncHeld,
			ObjectKind: "sync_run", ObjectID: strconv.FormatInt(run.ID, 10), Outcome: audit.OutcomeDenied,
			Details: map[string]string{"deletions": strconv.Itoa(len(held)), "trigger": run.Trigger, "sample": strings.Join(ids, ",")}}
		if _, err := audit.Enqueue(ctx, tx, Source, rec); err != nil {
			return fmt.Errorf("changeevents: held run: %w", err)
		}
		return nil
	}
}

// RecordFailed returns a tree.MirrorOptions.RecordFailed that writes one
// audit record for a sync run that failed.
func RecordFailed() func(ctx context.Context, tx tree.Tx, run tree.SyncRun, runErr error) error {
	return func(ctx context.Context, tx tree.Tx, run tree.SyncRun, runErr error) error {
		msg := audit.DetailValue(runErr.Error())
		rec := audit.Record{ActorKind: audit.ActorSystem, ActorID: Source, Action: audit.ActionSyncFailed,
			ObjectKind: "sync_run", ObjectID: strconv.FormatInt(run.ID, 10), Outcome: audit.OutcomeError,
			Details: map[string]string{"error": msg, "trigger": run.Trigger}}
		if _, err := audit.Enqueue(ctx, tx, Source, rec); err != nil {
			return fmt.Errorf("changeevents: failed run: %w", err)
		}
		return nil
	}
}

// auditAction is the audit action of each audited change kind: moves,
// deletions and loss of access.
var auditAction = map[tree.ChangeKind]audit.Action{
	tree.ChangeFolderMoved: audit.ActionFolderMoved, tree.ChangeFolderDeleted: audit.ActionFolderDeleted,
	tree.ChangeVideoMoved: audit.ActionVideoMoved, tree.ChangeVideoDeleted: audit.ActionVideoDeleted,
	tree.ChangeVideoUnavailable: audit.ActionVideoUnavailable,
}

func dataOf(c tree.Change) Data {
	d := Data{Kind: string(c.Kind), Object: "video", VimeoID: c.VimeoID, From: c.From, To: c.To, Fields: c.Fields, Reason: c.Reason}
	if c.Kind.IsFolder() {
		d.Object = "folder"
	}
	if c.Folder != nil {
		d.Name = c.Folder.Name
	}
	if c.Video != nil {
		d.Name, d.Status = c.Video.Title, string(c.Video.Status)
	}
	return d
}
