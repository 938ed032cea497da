package changeevents

import (
	"context"
	"fmt"

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

// Audit event types on events.TopicAudit.
const (
	TypeAuditChange = "audit.sync.change" // a move, deletion or loss of access
	TypeAuditHeld   = "audit.sync.held"   // deletions held for an admin decision
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

// Audit is the payload of an audit event, with the field names of audit_logs.
type Audit struct {
	Actor   string         `json:"actor"`
	Action  string         `json:"action"` // "sync.folder.moved", "sync.held", …
	Target  string         `json:"target"` // "folder:<vimeo id>", "video:<vimeo id>", "sync_run:<id>"
	Outcome string         `json:"outcome"`
	Details map[string]any `json:"details,omitempty"`
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
			if !audited(c.Kind) {
				continue
			}
			a := Audit{Actor: Source, Action: "sync." + string(c.Kind), Target: subject, Outcome: "applied",
				Details: map[string]any{"from": c.From, "to": c.To, "reason": c.Reason, "name": d.Name}}
			ae, err := events.New(ctx, events.Event{Type: TypeAuditChange, Source: Source, Subject: subject, Key: subject}, a)
			if err != nil {
				return fmt.Errorf("changeevents: audit %s: %w", subject, err)
			}
			if err := events.Enqueue(ctx, tx, events.TopicAudit, ae); err != nil {
				return fmt.Errorf("changeevents: audit %s: %w", subject, err)
			}
		}
		return nil
	}
}

// RecordHeld returns a tree.MirrorOptions.RecordHeld that writes one audit
// event for a reconciliation whose deletions were held.
func RecordHeld() func(ctx context.Context, tx tree.Tx, run tree.SyncRun, held []tree.Change) error {
	return func(ctx context.Context, tx tree.Tx, run tree.SyncRun, held []tree.Change) error {
		ids := make([]string, 0, min(len(held), 100))
		for _, c := range held[:min(len(held), 100)] {
			ids = append(ids, string(c.Kind)+":"+c.VimeoID)
		}
		target := fmt.Sprintf("sync_run:%d", run.ID)
		a := Audit{Actor: Source, Action: "sync.held", Target: target, Outcome: "held",
			Details: map[string]any{"deletions": len(held), "trigger": run.Trigger, "sample": ids}}
		ev, err := events.New(ctx, events.Event{Type: TypeAuditHeld, Source: Source, Subject: target, Key: target}, a)
		if err != nil {
			return fmt.Errorf("changeevents: held run: %w", err)
		}
		return events.Enqueue(ctx, tx, events.TopicAudit, ev)
	}
}

func audited(k tree.ChangeKind) bool {
	switch k {
	case tree.ChangeFolderMoved, tree.ChangeFolderDeleted, tree.ChangeVideoMoved, tree.ChangeVideoDeleted, tree.ChangeVideoUnavailable:
		return true
	}
	return false
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
