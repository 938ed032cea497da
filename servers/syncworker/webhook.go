package syncworker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/vimeo"
)

// WebhookPath is where the reference servers mount the intake.
const WebhookPath = "/webhooks/vimeo"

// DefaultMaxBody is the largest webhook body accepted (1 MiB), as the
// verifier's default.
const DefaultMaxBody = 1 << 20

// IntakeStore is what the intake needs of a store: provider_events, and the
// outbox for its audit records.
type IntakeStore interface {
	RecordProviderEvent(ctx context.Context, e events.ProviderEvent) (stored events.ProviderEvent, duplicate bool, err error)
	events.OutboxWriter
}

// IntakeOptions configure an Intake. The zero value is valid.
type IntakeOptions struct {
	// MaxBody is the largest body accepted; larger ones get 413 (0:
	// DefaultMaxBody). Keep it equal to the verifier's MaxBody.
	MaxBody int64
	// Source of the events the intake writes (0: "vidlib/syncworker").
	Source string
	// PublishTimeout bounds the publish to vimeo.webhooks.raw before the
	// intake gives up and answers 503 (0: 5 s).
	PublishTimeout time.Duration
	// AuditRate and AuditBurst limit the audit records of rejected requests
	// per second, so that a flood of forged requests cannot flood the audit
	// log; beyond it rejections are only logged and counted (0: 10 and 100).
	AuditRate  float64
	AuditBurst int
	// NoAcceptedAudit leaves out the audit record of accepted webhooks
	// (provider_events is the receipt log either way).
	NoAcceptedAudit bool
	// Now is the clock of ReceivedAt (nil: time.Now).
	Now    func() time.Time
	Logger *zap.Logger
}

// Intake is the http.Handler Vimeo's App Webhooks post to. See the package
// documentation for what it does with a delivery and why it publishes
// directly. It is safe for concurrent use.
type Intake struct {
	v       *vimeo.WebhookVerifier
	store   IntakeStore
	pub     events.Publisher
	opts    IntakeOptions
	log     *zap.Logger
	limiter *rate.Limiter
}

// NewIntake returns the webhook handler: v verifies, store keeps
// provider_events and the audit outbox, pub publishes to vimeo.webhooks.raw.
// A nil v means no webhook secret is configured: every delivery is refused
// with 401 (a server then leaves the route unmounted), while Redrive still
// publishes the deliveries stored earlier.
func NewIntake(v *vimeo.WebhookVerifier, store IntakeStore, pub events.Publisher, opts *IntakeOptions) (*Intake, error) {
	if store == nil || pub == nil {
		return nil, fmt.Errorf("%w: intake needs a store and a publisher", ErrInvalid)
	}
	var o IntakeOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBody < 0 || o.PublishTimeout < 0 || o.AuditRate < 0 || o.AuditBurst < 0 {
		return nil, fmt.Errorf("%w: negative intake option", ErrInvalid)
	}
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Source == "" {
		o.Source = "vidlib/syncworker"
	}
	if o.PublishTimeout == 0 {
		o.PublishTimeout = 5 * time.Second
	}
	if o.AuditRate == 0 {
		o.AuditRate = 10
	}
	if o.AuditBurst == 0 {
		o.AuditBurst = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Intake{v: v, store: store, pub: pub, opts: o, log: log.Named("webhook_intake"),
		limiter: rate.NewLimiter(rate.Limit(o.AuditRate), o.AuditBurst)}, nil
}

// Error codes of the intake's JSON errors.
const (
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooLarge         = "payload_too_large"
	CodeBadSignature     = "invalid_signature"
	CodeStale            = "stale_webhook"
	CodeMalformed        = "malformed_webhook"
	CodeUnavailable      = "unavailable"
)

// ServeHTTP handles one delivery:
//
//	405 not a POST
//	413 body larger than MaxBody
//	401 missing or wrong signature, or a timestamp outside the verifier's window
//	400 signed but not a webhook payload
//	503 provider_events or the bus failed (Vimeo delivers again; nothing kept
//	    is lost: a stored event that was not published is published on the
//	    next delivery)
//	200 stored and published, or a duplicate of one that was
//
// Every rejection (4xx) changes nothing but the audit log.
func (in *Intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		in.reject(ctx, w, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "webhooks are POSTed", nil)
		return
	}
	if r.ContentLength > in.opts.MaxBody {
		in.reject(ctx, w, r, http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("the body is larger than %d bytes", in.opts.MaxBody), nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, in.opts.MaxBody+1))
	if err != nil {
		in.reject(ctx, w, r, http.StatusBadRequest, CodeMalformed, "the body could not be read", err)
		return
	}
	if int64(len(body)) > in.opts.MaxBody {
		in.reject(ctx, w, r, http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("the body is larger than %d bytes", in.opts.MaxBody), nil)
		return
	}
	if in.v == nil {
		in.reject(ctx, w, r, http.StatusUnauthorized, CodeBadSignature, "no webhook secret is configured", nil)
		return
	}
	ev, err := in.v.Verify(r.Header, body)
	switch {
	case errors.Is(err, vimeo.ErrWebhookSignature):
		in.reject(ctx, w, r, http.StatusUnauthorized, CodeBadSignature, "the webhook signature is missing or wrong", err)
		return
	case errors.Is(err, vimeo.ErrWebhookStale):
		in.reject(ctx, w, r, http.StatusUnauthorized, CodeStale, "the webhook timestamp is outside the accepted window", err)
		return
	case err != nil:
		in.reject(ctx, w, r, http.StatusBadRequest, CodeMalformed, "the body is not a Vimeo webhook payload", err)
		return
	}

	pe := events.ProviderEvent{
		Provider:        Provider,
		EventType:       ev.Type,
		ObjectID:        ev.VideoID,
		SourceTimestamp: ev.Timestamp,
		Payload:         body,
		ReceivedAt:      in.opts.Now(),
	}
	if ev.VideoID == "" {
		// A webhook about no video (live events, say) has no object id to
		// derive the key from; the body's hash stands in for it.
		sum := sha256.Sum256(body)
		pe.EventKey = events.ProviderEventKey(Provider, "sha256:"+hex.EncodeToString(sum[:]), ev.Type, ev.Timestamp)
	}
	stored, dup, err := in.store.RecordProviderEvent(ctx, pe)
	switch {
	case errors.Is(err, events.ErrInvalid):
		in.reject(ctx, w, r, http.StatusBadRequest, CodeMalformed, "the webhook breaks a rule: "+err.Error(), err)
		return
	case err != nil:
		in.log.Error("record provider event", zap.String("webhook_type", ev.Type), zap.String("video_id", ev.VideoID), zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the webhook could not be stored; deliver it again")
		return
	}
	if dup && stored.Status != events.ProviderEventReceived {
		// Already published and taken further: answer as before, do nothing.
		writeJSON(w, http.StatusOK, map[string]any{"status": "duplicate", "id": stored.ID})
		return
	}
	// New, or stored by an earlier delivery that may not have been published
	// (we answered 503, or died): publish (again). The normaliser
	// deduplicates by the event key, so a repeat is processed once.
	if err := in.publish(ctx, stored); err != nil {
		in.log.Error("publish webhook", zap.Int64("provider_event_id", stored.ID), zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the webhook could not be queued; deliver it again")
		return
	}
	if !dup && !in.opts.NoAcceptedAudit {
		in.audit(ctx, audit.Record{
			ActorKind: audit.ActorProvider, ActorID: Provider, Action: audit.ActionWebhookReceived,
			ObjectKind: "provider_event", ObjectID: strconv.FormatInt(stored.ID, 10), Outcome: audit.OutcomeOK,
			Details: map[string]string{"webhook_type": ev.Type, "video_id": ev.VideoID, "event_key": stored.EventKey},
		})
	}
	status := "accepted"
	if dup {
		status = "duplicate"
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": status, "id": stored.ID})
}

func (in *Intake) publish(ctx context.Context, pe events.ProviderEvent) error {
	data := RawWebhook{
		ProviderEventID: pe.ID, EventKey: pe.EventKey, WebhookType: pe.EventType,
		VideoID: pe.ObjectID, Timestamp: pe.SourceTimestamp.UTC(),
	}
	if len(pe.Payload) <= maxInlinePayload && json.Valid(pe.Payload) {
		data.Payload = pe.Payload
	}
	key := pe.ObjectID
	if key == "" {
		key = pe.EventKey
	}
	subject := ""
	if pe.ObjectID != "" {
		subject = "video:" + pe.ObjectID
	}
	e, err := events.New(ctx, events.Event{Type: EventWebhookReceived, Source: in.opts.Source, Subject: subject, Key: key}, data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, in.opts.PublishTimeout)
	defer cancel()
	return events.PublishEvents(ctx, in.pub, events.TopicVimeoWebhooksRaw, e)
}

// reject answers with a JSON error and audits the rejection.
func (in *Intake) reject(ctx context.Context, w http.ResponseWriter, r *http.Request, status int, code, msg string, cause error) {
	fields := []zap.Field{zap.Int("status", status), zap.String("code", code), zap.String("remote_addr", r.RemoteAddr)}
	if cause != nil {
		fields = append(fields, zap.NamedError("reason", cause))
	}
	in.log.Info("webhook rejected", fields...)
	details := map[string]string{"status": strconv.Itoa(status), "code": code, "remote_addr": r.RemoteAddr,
		"content_length": strconv.FormatInt(r.ContentLength, 10)}
	if cause != nil {
		details["reason"] = audit.DetailValue(clip(cause.Error(), 512))
	}
	if in.limiter.Allow() {
		in.audit(ctx, audit.Record{
			ActorKind: audit.ActorProvider, ActorID: Provider, Action: audit.ActionWebhookRejected,
			ObjectKind: "webhook", ObjectID: Provider, Outcome: audit.OutcomeDenied, Details: details,
		})
	} else {
		in.log.Warn("webhook rejection not audited: audit rate exceeded", zap.String("code", code))
	}
	writeError(w, status, code, msg)
}

// audit writes an audit record to the outbox. A failure is logged: the
// answer to Vimeo does not depend on it.
func (in *Intake) audit(ctx context.Context, rec audit.Record) {
	if _, err := audit.Enqueue(context.WithoutCancel(ctx), in.store, in.opts.Source, rec); err != nil {
		in.log.Error("audit webhook", zap.String("action", string(rec.Action)), zap.Error(err))
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
