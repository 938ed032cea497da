package admin

import (
	"context"
	"fmt"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
)

// AuditEventType is the event type of audit records on audit.events: the
// type every audit producer writes and the audit consumer stores (data: one
// audit.Record, envelope id: the record's id).
const AuditEventType = "audit.record"

// OutboxAuditor writes admin audit records as events to audit.events
// through the transactional outbox: durable once RecordAdmin returns.
type OutboxAuditor struct {
	w      events.OutboxWriter
	source string
}

// NewOutboxAuditor returns an Auditor over an outbox writer (pgstore.Store,
// memstore.Store).
func NewOutboxAuditor(w events.OutboxWriter) (*OutboxAuditor, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: NewOutboxAuditor needs an outbox writer", ErrInvalid)
	}
	return &OutboxAuditor{w: w, source: "vidlib/admin"}, nil
}

// RecordAdmin implements Auditor. The record's id is the event's id, so a
// consumer stores it once.
func (a *OutboxAuditor) RecordAdmin(ctx context.Context, r audit.Record) error {
	subject := r.ObjectKind + ":" + r.ObjectID
	ev, err := events.New(ctx, events.Event{ID: r.ID, Type: AuditEventType, Source: a.source, Subject: subject, Key: subject, Time: r.Time}, r)
	if err != nil {
		return err
	}
	return events.Enqueue(ctx, a.w, events.TopicAudit, ev)
}
