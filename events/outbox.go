package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/internal/text"
)

// OutboxRecord is one row of the transactional outbox: an encoded message
// written in the same transaction as the change it announces.
type OutboxRecord struct {
	ID        int64 // increasing in insertion order; the relay publishes in ID order per key
	Topic     string
	Key       string
	Payload   []byte
	CreatedAt time.Time
	Attempts  int // failed publish attempts so far
}

// OutboxWriter adds a message to the outbox inside the writer's transaction.
// tree.Tx has this method; so do the stores, for writers without a
// transaction of their own.
type OutboxWriter interface {
	EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error
}

// Enqueue encodes e and writes it to the outbox for topic, keyed by e.Key.
func Enqueue(ctx context.Context, w OutboxWriter, topic string, e Event) error {
	b, err := e.Marshal()
	if err != nil {
		return err
	}
	return w.EnqueueOutbox(ctx, topic, e.Key, b)
}

// ValidateOutbox checks an outbox row before it is written.
func ValidateOutbox(topic, key string, payload []byte) error {
	p := problems{what: "outbox record"}
	if topic == "" || !text.Printable(topic, 249) { // Kafka's topic name limit
		p.add("topic", "is required: printable, at most 249 bytes")
	}
	if !text.Printable(key, maxKeyLen) {
		p.add("key", "must be printable UTF-8 of at most %d bytes", maxKeyLen)
	}
	if len(payload) == 0 {
		p.add("payload", "is required")
	} else if len(payload) > MaxEventSize {
		p.add("payload", "is %d bytes, at most %d", len(payload), MaxEventSize)
	}
	return p.err()
}

// OutboxStore is what the relay needs from the outbox table. Implementations:
// store/pgstore and store/memstore; both pass store/storetest.TestOutbox.
type OutboxStore interface {
	// RelayOutbox claims up to limit unsent rows in ID order and calls publish
	// with them, then marks sent every row whose entry in the returned slice is
	// nil (a nil slice: all of them) and records the error and one more attempt
	// on the others, all before other relays can claim them again.
	//
	// Claims are exclusive (several relays may run at once; no row is handed to
	// two at the same time) and keep order per key: a row is handed out only if
	// no older unsent row with the same key exists outside the batch, so two
	// relays never publish the same key concurrently. Rows with an empty key
	// have no order. It returns the number of rows marked sent.
	RelayOutbox(ctx context.Context, limit int, publish func(ctx context.Context, batch []OutboxRecord) []error) (sent int, err error)
	// OutboxBacklog counts the unsent rows.
	OutboxBacklog(ctx context.Context) (int64, error)
}

// RelayOptions configure a Relay. The zero value is valid.
type RelayOptions struct {
	BatchSize    int           // rows per claim (0: 500)
	PollInterval time.Duration // pause when the outbox is empty (0: 100 ms)
	ErrorBackoff time.Duration // pause after a failed round (0: 1 s)
	// Backlog, if set, receives the unsent row count at most once per
	// BacklogInterval, from Run: the backlog metric.
	Backlog         func(n int64)
	BacklogInterval time.Duration // 0: 5 s
	// FlushTimeout bounds the final flush Run makes when its context ends, so
	// that what a stopping process committed is published before it exits
	// (0: 5 s; negative: no final flush).
	FlushTimeout time.Duration
	Logger       *zap.Logger
}

// Relay publishes outbox rows and marks them sent: the second half of the
// transactional outbox. Several relays (one per instance) may run on the same
// table; the store's claim keeps them from publishing a row twice at once or a
// key out of order. Delivery is at least once: a relay that dies after
// publishing and before marking leaves the rows to be published again, and
// consumers deduplicate by event id.
type Relay struct {
	store OutboxStore
	pub   Publisher
	opts  RelayOptions
	log   *zap.Logger

	wake chan struct{}

	mu          sync.Mutex
	lastBacklog time.Time
}

// NewRelay returns a relay from store to pub.
func NewRelay(store OutboxStore, pub Publisher, opts *RelayOptions) (*Relay, error) {
	if store == nil || pub == nil {
		return nil, fmt.Errorf("%w: NewRelay needs a store and a publisher", ErrInvalid)
	}
	if opts == nil {
		opts = &RelayOptions{}
	}
	o := *opts
	if o.BatchSize < 0 || o.PollInterval < 0 || o.ErrorBackoff < 0 || o.BacklogInterval < 0 {
		return nil, fmt.Errorf("%w: RelayOptions must not be negative", ErrInvalid)
	}
	if o.BatchSize == 0 {
		o.BatchSize = 500
	}
	if o.PollInterval == 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.ErrorBackoff == 0 {
		o.ErrorBackoff = time.Second
	}
	if o.BacklogInterval == 0 {
		o.BacklogInterval = 5 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Relay{store: store, pub: pub, opts: o, log: log.Named("events.relay"), wake: make(chan struct{}, 1)}, nil
}

// Notify wakes a Run that is waiting for rows (writers may call it after a
// commit to cut latency below PollInterval). It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is done, then flushes what is left (bounded by
// FlushTimeout) and returns nil. Failures are logged and retried after
// ErrorBackoff; rows are never skipped.
func (r *Relay) Run(ctx context.Context) error {
	defer r.flush(ctx)
	for {
		n, err := r.RelayOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		switch {
		case err != nil:
			r.log.Warn("outbox relay round failed", zap.Error(err))
			wait = r.opts.ErrorBackoff
		case n < r.opts.BatchSize:
			r.reportBacklog(ctx)
			wait = r.opts.PollInterval
		default:
			r.reportBacklog(ctx)
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// flush relays what is in the outbox after ctx ended, until it is empty, a
// round fails, or FlushTimeout passes.
func (r *Relay) flush(ctx context.Context) {
	d := r.opts.FlushTimeout
	if d == 0 {
		d = 5 * time.Second
	}
	if d < 0 {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	for fctx.Err() == nil {
		n, err := r.RelayOnce(fctx)
		if err != nil {
			r.log.Warn("outbox relay: final flush incomplete; the rows stay for the next relay", zap.Error(err))
			return
		}
		if n == 0 {
			return
		}
	}
}

// RelayOnce claims and publishes one batch and returns how many rows it
// claimed and handled (sent or failed).
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	var claimed int
	var failures []error
	_, err := r.store.RelayOutbox(ctx, r.opts.BatchSize, func(ctx context.Context, batch []OutboxRecord) []error {
		claimed = len(batch)
		errs := r.publish(ctx, batch)
		for _, e := range errs {
			if e != nil {
				failures = append(failures, e)
			}
		}
		return errs
	})
	if err != nil {
		return claimed, fmt.Errorf("events: relay outbox: %w", err)
	}
	if len(failures) > 0 {
		return claimed, fmt.Errorf("events: relay: %d of %d rows not published: %w", len(failures), claimed, failures[0])
	}
	return claimed, nil
}

// publish sends a batch in one call; if that fails it falls back to one row at
// a time, so that one bad row does not hold back the others. A row whose key
// already failed in this batch is not sent (its order would break); after
// three consecutive failures the rest is left for the next round.
func (r *Relay) publish(ctx context.Context, batch []OutboxRecord) []error {
	msgs := make([]Message, len(batch))
	for i, rec := range batch {
		msgs[i] = outboxMessage(rec)
	}
	err := r.pub.Publish(ctx, msgs...)
	if err == nil {
		return nil
	}
	errs := make([]error, len(batch))
	if ctx.Err() != nil || len(batch) == 1 {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	failedKeys := map[string]bool{}
	consecutive := 0
	for i, rec := range batch {
		switch {
		case consecutive >= 3 || ctx.Err() != nil:
			errs[i] = fmt.Errorf("not attempted after repeated failures: %w", err)
		case rec.Key != "" && failedKeys[rec.Key]:
			errs[i] = errors.New("held back: an earlier row with the same key failed")
		default:
			errs[i] = r.pub.Publish(ctx, msgs[i])
		}
		if errs[i] != nil {
			consecutive++
			if rec.Key != "" {
				failedKeys[rec.Key] = true
			}
			r.log.Warn("outbox row not published", zap.Int64("outbox_id", rec.ID),
				zap.String("topic", rec.Topic), zap.Int("attempts", rec.Attempts+1), zap.Error(errs[i]))
		} else {
			consecutive = 0
		}
	}
	return errs
}

func outboxMessage(rec OutboxRecord) Message {
	return Message{
		Topic: rec.Topic, Key: rec.Key, Value: rec.Payload,
		Headers: map[string]string{HeaderOutboxID: strconv.FormatInt(rec.ID, 10)},
	}
}

// Backlog returns the number of unsent rows.
func (r *Relay) Backlog(ctx context.Context) (int64, error) {
	return r.store.OutboxBacklog(ctx)
}

func (r *Relay) reportBacklog(ctx context.Context) {
	if r.opts.Backlog == nil {
		return
	}
	r.mu.Lock()
	due := time.Since(r.lastBacklog) >= r.opts.BacklogInterval
	if due {
		r.lastBacklog = time.Now()
	}
	r.mu.Unlock()
	if !due {
		return
	}
	n, err := r.store.OutboxBacklog(ctx)
	if err != nil {
		r.log.Warn("outbox backlog", zap.Error(err))
		return
	}
	r.opts.Backlog(n)
}
