package syncworker

import (
	"encoding/json"
	"time"
)

// Event types the sync worker produces.
const (
	// EventWebhookReceived is the type of a verified webhook on
	// vimeo.webhooks.raw (data: RawWebhook).
	EventWebhookReceived = "vimeo.webhook.received"
	// EventVideoRefetch is the type of the normalised action on
	// vimeo.sync.normalized: "re-read video X from Vimeo" (data: Refetch).
	EventVideoRefetch = "vimeo.video.refetch"
)

// Provider is the provider name of Vimeo's rows in provider_events.
const Provider = "vimeo"

// maxInlinePayload bounds the raw body copied into the RawWebhook event; a
// larger one stays in provider_events only (the event names its row).
const maxInlinePayload = 64 << 10

// RawWebhook is the data of an EventWebhookReceived event: a verified webhook
// as stored in provider_events.
type RawWebhook struct {
	ProviderEventID int64     `json:"provider_event_id"`
	EventKey        string    `json:"event_key"` // provider_events' idempotency key
	WebhookType     string    `json:"webhook_type"`
	VideoID         string    `json:"video_id,omitempty"` // "" for webhooks about no video
	Timestamp       time.Time `json:"timestamp"`          // the payload's timestamp
	// Payload is the raw body when it is at most 64 KiB.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Refetch is the data of an EventVideoRefetch event.
type Refetch struct {
	VideoID string `json:"video_id"`
	Reason  string `json:"reason"` // the webhook type that asked for it
	// ProviderEventKey is the idempotency key of the webhook it came from;
	// the applier deduplicates by it.
	ProviderEventKey string `json:"provider_event_key,omitempty"`
	ProviderEventID  int64  `json:"provider_event_id,omitempty"`
}
