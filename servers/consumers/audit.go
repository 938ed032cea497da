package consumers

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
)

// GroupAudit is the consumer group of the audit consumer.
const GroupAudit = "vidlib.consumers.audit"

// AuditStore is what the audit consumer needs of a store: the chain and the
// dead letters (store/pgstore, store/memstore).
type AuditStore interface {
	audit.Appender
	audit.CheckpointWriter
	AuditHead(ctx context.Context) (audit.Checkpoint, error)
	events.DeadLetterStore
}

// AuditOptions configure an Audit consumer. The zero value is valid.
type AuditOptions struct {
	// Group overrides the consumer group (0: GroupAudit).
	Group string
	// BatchSize caps the records appended in one transaction (0: 1000).
	BatchSize int
	// MaxInFlight bounds the messages handled at once, and so the batches
	// (0: 2 × BatchSize). RedeliveryDelay tunes the subscription (0: the
	// bus's default).
	MaxInFlight     int
	RedeliveryDelay time.Duration
	// Retry is the in-handler retry policy of a failed append (zero: 5
	// attempts with exponential backoff); after it the message is left to the
	// bus to deliver again (a store failure is never dead-lettered).
	Retry events.RetryPolicy
	// FlushTimeout bounds one append transaction (0: 30 s).
	FlushTimeout time.Duration
	// CheckpointEvery and CheckpointInterval: a checkpoint of the chain head
	// is written after this many appended records or this much time with
	// appends, whichever comes first (0: 10,000 records, 1 min; negative
	// CheckpointEvery: no checkpoints).
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// SigningKey, if set, signs every checkpoint; KeyID names it.
	SigningKey ed25519.PrivateKey
	KeyID      string
	// Observe, if set, receives every handled message (metrics); StartSpan
	// starts a span per message (events.Trace).
	Observe   func(events.Observation)
	StartSpan events.SpanStarter
	Logger    *zap.Logger
}

// Audit consumes audit.events into the audit log.
type Audit struct {
	store   AuditStore
	opts    AuditOptions
	log     *zap.Logger
	handler events.Handler
	// group appends the records of concurrent handler calls together, one
	// transaction at a time, BatchSize records at the most.
	group groupCommit[audit.Record]

	cpMu     sync.Mutex
	cpSeq    int64 // the last checkpoint written by this consumer
	cpTime   time.Time
	appended int // records appended since that checkpoint
}

// NewAudit returns the audit consumer over store; pub publishes dead letters
// to deadletters.audit.
func NewAudit(store AuditStore, pub events.Publisher, opts *AuditOptions) (*Audit, error) {
	if store == nil || pub == nil {
		return nil, fmt.Errorf("%w: the audit consumer needs a store and a publisher", ErrInvalid)
	}
	var o AuditOptions
	if opts != nil {
		o = *opts
	}
	if o.BatchSize < 0 || o.MaxInFlight < 0 || o.FlushTimeout < 0 || o.CheckpointInterval < 0 {
		return nil, fmt.Errorf("%w: AuditOptions must not be negative", ErrInvalid)
	}
	if o.SigningKey != nil && len(o.SigningKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: the checkpoint signing key is not an Ed25519 private key", ErrInvalid)
	}
	if o.Group == "" {
		o.Group = GroupAudit
	}
	if o.BatchSize == 0 {
		o.BatchSize = 1000
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 2 * o.BatchSize
	}
	if o.FlushTimeout == 0 {
		o.FlushTimeout = 30 * time.Second
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = 10_000
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	a := &Audit{store: store, opts: o, log: o.Logger.Named("audit_consumer"), cpTime: time.Now(),
		group: groupCommit[audit.Record]{max: 1, maxSize: o.BatchSize}}
	h, err := chain(a.handle, events.DeadLetterOptions{Publisher: pub, Store: store, Logger: o.Logger}, o.Observe, o.StartSpan, o.Retry)
	if err != nil {
		return nil, fmt.Errorf("consumers: audit: %w", err)
	}
	a.handler = h
	return a, nil
}

// chain wraps handle in the middleware of the analytics and audit
// consumers, outermost first: Observe (when observe is set), Trace, the
// dead-letter queue of dl for permanent failures only (onlyPermanent),
// Retry with retry, Recover.
func chain(handle events.Handler, dl events.DeadLetterOptions, observe func(events.Observation), startSpan events.SpanStarter, retry events.RetryPolicy) (events.Handler, error) {
	dlq, err := events.DeadLetterQueue(dl)
	if err != nil {
		return nil, err
	}
	mws := []events.Middleware{}
	if observe != nil {
		mws = append(mws, events.Observe(observe))
	}
	mws = append(mws, events.Trace(startSpan), onlyPermanent(dlq), events.Retry(retry), events.Recover())
	return events.Chain(handle, mws...), nil
}

// onlyPermanent applies the dead-letter middleware to permanent failures (a
// record that does not decode or validate, a handler that panics every
// time) and returns any other failure (the store) to the bus, which delivers
// the message again: a failing database stops the log, it loses nothing.
func onlyPermanent(dlq events.Middleware) events.Middleware {
	return func(next events.Handler) events.Handler {
		return func(ctx context.Context, m *events.Message) error {
			err := next(ctx, m)
			var pe *events.PanicError
			if err == nil || (!events.IsPermanent(err) && !errors.As(err, &pe)) {
				return err
			}
			return dlq(func(context.Context, *events.Message) error { return err })(ctx, m)
		}
	}
}

// Handler returns the consumer's handler with its middleware, for a
// subscription of the caller's own.
func (a *Audit) Handler() events.Handler { return a.handler }

// Subscription is what Run subscribes with.
func (a *Audit) Subscription() events.Subscription {
	return events.Subscription{Group: a.opts.Group, Topics: []string{events.TopicAudit},
		MaxInFlight: a.opts.MaxInFlight, RedeliveryDelay: a.opts.RedeliveryDelay}
}

// Run consumes audit.events until ctx ends. Every CheckpointInterval it also
// checkpoints the head when records were appended since the last
// checkpoint, so that the tail of a burst is covered without waiting for
// the next append.
func (a *Audit) Run(ctx context.Context, sub events.Subscriber) error {
	if a.opts.CheckpointEvery >= 0 {
		tctx, stop := context.WithCancel(ctx)
		defer stop()
		go a.checkpointLoop(tctx)
	}
	return sub.Subscribe(ctx, a.Subscription(), a.handler)
}

func (a *Audit) checkpointLoop(ctx context.Context) {
	t := time.NewTicker(a.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.cpMu.Lock()
		due := a.appended > 0 && time.Since(a.cpTime) >= a.opts.CheckpointInterval
		a.cpMu.Unlock()
		if !due {
			continue
		}
		head, err := a.store.AuditHead(ctx)
		if err != nil {
			a.log.Warn("audit checkpoint: read head", zap.Error(err))
			continue
		}
		if head.Seq > 0 {
			a.checkpoint(ctx, 0, head.Seq, head.Hash)
		}
	}
}

// handle decodes, validates and appends one record.
func (a *Audit) handle(ctx context.Context, m *events.Message) error {
	e, err := m.Event()
	if err != nil {
		return err // permanent (events.ErrInvalid): dead-lettered
	}
	rec, err := audit.FromEvent(e)
	if err != nil {
		return events.Permanent(err)
	}
	req := newCommitReq(rec)
	if err := a.group.apply(ctx, req, a.flush); err != nil {
		if errors.Is(err, audit.ErrInvalid) {
			return events.Permanent(err)
		}
		return err
	}
	if req.dup {
		m.SetOutcome(events.OutcomeDuplicate)
	}
	return nil
}

// flush appends a group of records in one transaction (the group commit's
// apply; the transaction has its own FlushTimeout, not a handler's
// context) and answers each. If the store refuses the group as invalid,
// each record is tried alone so that one bad record does not hold back the
// others.
func (a *Audit) flush(_ context.Context, batch []*commitReq[audit.Record]) {
	recs := make([]audit.Record, len(batch))
	for i, p := range batch {
		recs[i] = p.item
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.FlushTimeout)
	defer cancel()
	out, err := a.store.AppendAudit(ctx, recs)
	if err != nil && errors.Is(err, audit.ErrInvalid) && len(batch) > 1 {
		for _, p := range batch {
			a.flush(ctx, []*commitReq[audit.Record]{p})
		}
		return
	}
	if err != nil {
		err = fmt.Errorf("append %d audit records: %w", len(batch), err)
		for _, p := range batch {
			p.answer(err, false)
		}
		return
	}
	ids := make(map[string]bool, len(out))
	for _, r := range out {
		ids[r.ID] = true
	}
	appended := make([]bool, len(batch))
	for i, p := range batch {
		appended[i] = ids[p.item.ID]
		ids[p.item.ID] = false // a record twice in the batch: the second is the duplicate
	}
	if len(out) > 0 {
		last := out[len(out)-1]
		a.checkpoint(ctx, len(out), last.Seq, last.Hash)
	}
	for i, p := range batch {
		p.answer(nil, !appended[i])
	}
}

// checkpoint writes a checkpoint of (seq, hash) when one is due. A failure
// is logged; the next batch tries again.
func (a *Audit) checkpoint(ctx context.Context, appended int, seq int64, hash []byte) {
	if a.opts.CheckpointEvery < 0 {
		return
	}
	a.cpMu.Lock()
	defer a.cpMu.Unlock()
	a.appended += appended
	if seq <= a.cpSeq || (a.appended < a.opts.CheckpointEvery && time.Since(a.cpTime) < a.opts.CheckpointInterval) {
		if seq <= a.cpSeq && appended == 0 {
			a.appended = 0 // another consumer's checkpoint covers it already
		}
		return
	}
	cp := audit.Checkpoint{Seq: seq, Hash: hash, Time: time.Now().UTC()}
	if a.opts.SigningKey != nil {
		cp = cp.Sign(a.opts.KeyID, a.opts.SigningKey)
	}
	if err := a.store.WriteAuditCheckpoint(ctx, cp); err != nil {
		a.log.Warn("audit checkpoint not written", zap.Int64("seq", seq), zap.Error(err))
		return
	}
	a.cpSeq, a.cpTime, a.appended = seq, time.Now(), 0
	a.log.Info("audit checkpoint", zap.Int64("seq", seq), zap.String("hash", hex.EncodeToString(hash)),
		zap.Bool("signed", cp.Signature != nil), zap.String("key_id", cp.KeyID))
}
