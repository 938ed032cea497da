package events

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// Header names vidlib sets on messages. Headers are a convenience for tools; the
// envelope in Value is the truth.
const (
	HeaderEventID     = "event-id"
	HeaderEventType   = "event-type"
	HeaderTraceParent = "traceparent"
	HeaderOutboxID    = "outbox-id"    // set by the outbox relay
	HeaderReplay      = "replay-count" // set when a dead letter is replayed: 1, 2, …

	// Set on messages published to a dead-letter topic.
	HeaderDeadError       = "dead-error"
	HeaderDeadAttempts    = "dead-attempts"
	HeaderDeadTopic       = "dead-topic" // the original topic
	HeaderDeadPartition   = "dead-partition"
	HeaderDeadOffset      = "dead-offset"
	HeaderDeadFirstFailed = "dead-first-failed" // RFC 3339
	HeaderDeadLastFailed  = "dead-last-failed"
	HeaderDeadEventID     = "dead-event-id"
)

// Message is one record on a topic: what a Publisher sends and what a
// Subscriber hands to a Handler. Value normally holds an encoded Event (see
// Event.Message and Message.Event), but a bus carries any bytes, so that input
// that is not an event can still be dead-lettered with the reason.
type Message struct {
	Topic   string // the logical topic, without any bus prefix
	Key     string // partition key; "" means no ordering is needed
	Value   []byte
	Headers map[string]string

	// Set by subscribers on delivery; ignored by Publish.
	Partition int
	Offset    int64
	Time      time.Time // when the broker stored it
	Delivery  int       // 1 on the first delivery to this subscription instance, then 2, 3, …

	decoded   bool
	event     Event
	decodeErr error
	outcome   Outcome
}

// Event decodes the envelope in Value (once; later calls return the same
// result). A failure wraps ErrInvalid, which makes it permanent for Retry.
func (m *Message) Event() (Event, error) {
	if !m.decoded {
		m.event, m.decodeErr = Decode(m.Value)
		m.decoded = true
	}
	return m.event, m.decodeErr
}

// Clone returns a copy that shares nothing mutable with m.
func (m *Message) Clone() *Message {
	c := *m
	c.Value = append([]byte(nil), m.Value...)
	c.Headers = maps.Clone(m.Headers)
	return &c
}

// Outcome is what finally happened to a delivered message, as middleware saw it.
type Outcome string

// Outcomes reported to an Observer.
const (
	OutcomeHandled      Outcome = "handled"       // the handler succeeded
	OutcomeDuplicate    Outcome = "duplicate"     // skipped: already processed (dedup)
	OutcomeDeadLettered Outcome = "dead_lettered" // failed for good and dead-lettered
	OutcomeFailed       Outcome = "failed"        // failed; the bus will deliver it again
	OutcomeSkipped      Outcome = "skipped"       // not for this consumer: passed over unhandled (OnlyTypes)
)

// SetOutcome records what middleware did with m; Observe reports it. Handlers
// rarely need it.
func (m *Message) SetOutcome(o Outcome) { m.outcome = o }

// Outcome returns what middleware inside the caller recorded about m so far
// (OutcomeDeadLettered, OutcomeDuplicate), or "" when nothing was recorded.
// Observe and a SpanStarter's end function read it after the handler returns.
func (m *Message) Outcome() Outcome { return m.outcome }

// Handler processes one message. Returning nil means "done": the bus may commit
// past it. Returning an error means "not processed": the bus delivers the
// message again (after a delay) before any later message with the same key,
// and never commits past it. Use the Retry and DeadLetterQueue middleware so that a
// message that keeps failing is set aside instead of blocking its key forever.
type Handler func(ctx context.Context, m *Message) error

// Middleware wraps a Handler.
type Middleware func(Handler) Handler

// Chain wraps h in mws, the first being the outermost:
// Chain(h, a, b) is a(b(h)). The usual order is
//
//	Chain(h, Observe(…), Trace(…), dlq /* DeadLetterQueue */, Retry(…), Recover(), Dedup(…))
//
// so that metrics see the final outcome, a panic is retried like an error, and
// dedup is checked on every attempt.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// HandleEvents adapts a function of decoded events to a Handler. A message
// that does not decode is rejected with a permanent error (ErrInvalid), so the
// DeadLetterQueue middleware sets it aside with the reason.
func HandleEvents(fn func(ctx context.Context, e Event) error) Handler {
	return func(ctx context.Context, m *Message) error {
		e, err := m.Event()
		if err != nil {
			return err
		}
		return fn(ctx, e)
	}
}

// Publisher sends messages. It is safe for concurrent use.
type Publisher interface {
	// Publish sends msgs and returns once every one of them is durably
	// stored (Kafka: acknowledged by all in-sync replicas). Messages with the
	// same topic and key keep their order. On error, any subset may have been
	// stored: the caller retries, and consumers deduplicate by event id.
	Publish(ctx context.Context, msgs ...Message) error
}

// Subscriber consumes topics as a member of a consumer group.
type Subscriber interface {
	// Subscribe joins sub.Group and calls h for the messages of the
	// partitions assigned to this member, until ctx is done. It blocks.
	//
	// Delivery is at least once: a message is committed only after h returned
	// nil for it and for every earlier message of its partition. Messages with
	// the same key are handled one at a time in order; others concurrently, at
	// most sub.MaxInFlight at once. On a plain cancellation of ctx Subscribe
	// stops fetching, waits for the handlers in flight (up to the bus's drain
	// timeout), commits what finished, leaves the group and returns nil. With
	// the cause ErrAbort it commits nothing more and returns the cause.
	Subscribe(ctx context.Context, sub Subscription, h Handler) error
}

// Subscription names what to consume and how.
type Subscription struct {
	Group  string   // consumer group; required
	Topics []string // logical topics; at least one

	// MaxInFlight bounds the messages fetched but not yet finished (0: 64).
	MaxInFlight int
	// RedeliveryDelay is the pause before a message whose handler failed is
	// handled again; it doubles on each failure of that message up to 30 s
	// (0: 1 s).
	RedeliveryDelay time.Duration
}

// Defaults for a Subscription.
const (
	DefaultMaxInFlight     = 64
	DefaultRedeliveryDelay = time.Second
	MaxRedeliveryDelay     = 30 * time.Second
)

// WithDefaults returns s with zero fields set to their defaults.
func (s Subscription) WithDefaults() Subscription {
	if s.MaxInFlight == 0 {
		s.MaxInFlight = DefaultMaxInFlight
	}
	if s.RedeliveryDelay == 0 {
		s.RedeliveryDelay = DefaultRedeliveryDelay
	}
	return s
}

// Validate checks a subscription (after WithDefaults).
func (s Subscription) Validate() error {
	p := problems{what: "subscription"}
	if s.Group == "" {
		p.add("group", "is required")
	}
	if len(s.Topics) == 0 {
		p.add("topics", "at least one topic is required")
	}
	seen := map[string]bool{}
	for _, t := range s.Topics {
		if t == "" {
			p.add("topics", "a topic name is empty")
		} else if seen[t] {
			p.add("topics", "%q is listed twice", t)
		}
		seen[t] = true
	}
	if s.MaxInFlight < 0 {
		p.add("max_in_flight", "must not be negative")
	}
	if s.RedeliveryDelay < 0 {
		p.add("redelivery_delay", "must not be negative")
	}
	return p.err()
}

// ValidateMessage checks what every bus requires of a message to publish.
func ValidateMessage(m *Message) error {
	if m.Topic == "" {
		return Invalid("message", "topic", "is required")
	}
	if len(m.Key) > maxKeyLen {
		return Invalid("message", "key", "is %d bytes, at most %d", len(m.Key), maxKeyLen)
	}
	if len(m.Value) > MaxEventSize {
		return Invalid("message", "value", "is %d bytes, at most %d", len(m.Value), MaxEventSize)
	}
	return nil
}

// PublishEvents encodes evs as messages of topic and publishes them in one call.
func PublishEvents(ctx context.Context, p Publisher, topic string, evs ...Event) error {
	msgs := make([]Message, 0, len(evs))
	for i, e := range evs {
		m, err := e.Message(topic)
		if err != nil {
			return fmt.Errorf("events: publish event %d: %w", i, err)
		}
		msgs = append(msgs, m)
	}
	return p.Publish(ctx, msgs...)
}
