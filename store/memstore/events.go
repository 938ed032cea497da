package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vidlib/vidlib/events"
)

// The events contracts this package implements.
var (
	_ events.OutboxStore         = (*Store)(nil)
	_ events.OutboxWriter        = (*Store)(nil)
	_ events.DeadLetterStore     = (*Store)(nil)
	_ events.DeadLetterCounter   = (*Store)(nil)
	_ events.ProviderEventStore  = (*Store)(nil)
	_ events.Deduper             = (*Store)(nil)
	_ events.TxDeduper[struct{}] = (*Store)(nil)
)

// eventsState is the in-memory state of the events contracts: the outbox, dead
// letters, provider events and the idempotency ledger. Its lock is never held
// while another lock of the store is taken.
type eventsState struct {
	mu sync.Mutex

	outbox      []*outboxRow // unsent rows in id order; sent rows are dropped
	nextOutbox  int64
	dead        map[int64]*events.DeadLetter
	deadByKey   map[[2]string]int64 // (topic, event id) → id
	nextDead    int64
	prov        map[int64]*events.ProviderEvent
	provByKey   map[[2]string]int64 // (provider, event key) → id
	nextProv    int64
	processed   map[[2]string]time.Time // (consumer, key) → when
	processKeys map[[2]string]*sync.Mutex
}

type outboxRow struct {
	rec     events.OutboxRecord
	claimed bool
}

func (e *eventsState) init() {
	e.dead = map[int64]*events.DeadLetter{}
	e.deadByKey = map[[2]string]int64{}
	e.prov = map[int64]*events.ProviderEvent{}
	e.provByKey = map[[2]string]int64{}
	e.processed = map[[2]string]time.Time{}
	e.processKeys = map[[2]string]*sync.Mutex{}
}

// enqueueOutbox appends rows (topic, key and payload set; they must be valid)
// with the next ids, atomically. A tree transaction should call it with its
// rows when it commits.
func (e *eventsState) enqueueOutbox(now time.Time, recs ...events.OutboxRecord) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range recs {
		e.nextOutbox++
		e.outbox = append(e.outbox, &outboxRow{rec: events.OutboxRecord{
			ID: e.nextOutbox, Topic: r.Topic, Key: r.Key, Payload: slices.Clone(r.Payload), CreatedAt: now,
		}})
	}
}

// EnqueueOutbox writes one outbox row (events.OutboxWriter). Bad input is a
// *events.ValidationError and writes nothing.
func (s *Store) EnqueueOutbox(ctx context.Context, topic, key string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := events.ValidateOutbox(topic, key, payload); err != nil {
		return err
	}
	s.ev.enqueueOutbox(time.Now().UTC(), events.OutboxRecord{Topic: topic, Key: key, Payload: payload})
	return nil
}

// RelayOutbox implements events.OutboxStore with the same claim rule as
// store/pgstore: up to limit unsent, unclaimed rows in id order, of which
// those that no older unsent row of their key outside the batch precedes.
// The claim holds while publish runs (without the store's lock).
func (s *Store) RelayOutbox(ctx context.Context, limit int, publish func(ctx context.Context, batch []events.OutboxRecord) []error) (int, error) {
	if limit < 1 || limit > 10000 {
		return 0, events.Invalid("outbox relay", "limit", "must be between 1 and 10000, got %d", limit)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	e := &s.ev
	e.mu.Lock()
	var claimed []*outboxRow
	for _, r := range e.outbox {
		if len(claimed) == limit {
			break
		}
		if !r.claimed {
			claimed = append(claimed, r)
		}
	}
	mine := make(map[*outboxRow]bool, len(claimed))
	for _, r := range claimed {
		r.claimed = true
		mine[r] = true
	}
	firstForeign := map[string]int64{}
	for _, r := range e.outbox {
		if _, seen := firstForeign[r.rec.Key]; !seen && !mine[r] && r.rec.Key != "" {
			firstForeign[r.rec.Key] = r.rec.ID
		}
	}
	var batch []events.OutboxRecord
	var rows []*outboxRow
	for _, r := range claimed {
		if f, ok := firstForeign[r.rec.Key]; ok && f < r.rec.ID {
			continue
		}
		c := r.rec
		c.Payload = slices.Clone(c.Payload)
		batch = append(batch, c)
		rows = append(rows, r)
	}
	e.mu.Unlock()

	var errs []error
	if len(batch) > 0 {
		errs = publish(ctx, batch)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	sent := map[*outboxRow]bool{}
	for i, r := range rows {
		if errs == nil || errs[i] == nil {
			sent[r] = true
		} else {
			r.rec.Attempts++
		}
	}
	for _, r := range claimed {
		r.claimed = false
	}
	if len(sent) > 0 {
		e.outbox = slices.DeleteFunc(e.outbox, func(r *outboxRow) bool { return sent[r] })
	}
	return len(sent), nil
}

// OutboxBacklog implements events.OutboxStore.
func (s *Store) OutboxBacklog(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	return int64(len(s.ev.outbox)), nil
}

// Dead letters ----------------------------------------------------------------

func cloneDead(d *events.DeadLetter) events.DeadLetter {
	c := *d
	c.Payload = slices.Clone(d.Payload)
	return c
}

// RecordDeadLetter implements events.DeadLetterStore.
func (s *Store) RecordDeadLetter(ctx context.Context, d events.DeadLetter) (events.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return events.DeadLetter{}, err
	}
	if err := d.Validate(); err != nil {
		return events.DeadLetter{}, err
	}
	d.FillFailureTimes(norm(time.Now()))
	d.FirstFailedAt, d.LastFailedAt = norm(d.FirstFailedAt), norm(d.LastFailedAt)
	e := &s.ev
	e.mu.Lock()
	defer e.mu.Unlock()
	k := [2]string{d.Topic, d.EventID}
	if id, ok := e.deadByKey[k]; ok {
		x := e.dead[id]
		x.MarkFailedAgain(d)
		return cloneDead(x), nil
	}
	e.nextDead++
	d.ID = e.nextDead
	d.Status = events.DeadLetterOpen
	d.Note, d.ReplayCount, d.ReplayedAt = "", 0, time.Time{}
	d.Payload = slices.Clone(d.Payload)
	if d.Payload == nil {
		d.Payload = []byte{}
	}
	e.dead[d.ID] = &d
	e.deadByKey[k] = d.ID
	return cloneDead(&d), nil
}

// ListDeadLetters implements events.DeadLetterStore.
func (s *Store) ListDeadLetters(ctx context.Context, f events.DeadLetterFilter) ([]events.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return events.ListThrough(ctx, f, s.SearchDeadLetters)
}

// CountDeadLetters implements events.DeadLetterCounter.
func (s *Store) CountDeadLetters(ctx context.Context, status events.DeadLetterStatus) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if status != "" && !status.Valid() {
		return 0, events.Invalid("dead letter count", "status", "unknown status %q", status)
	}
	e := &s.ev
	e.mu.Lock()
	defer e.mu.Unlock()
	if status == "" {
		return int64(len(e.dead)), nil
	}
	var n int64
	for _, x := range e.dead {
		if x.Status == status {
			n++
		}
	}
	return n, nil
}

// deadLetter returns the letter or ErrNotFound. e.mu is held.
func (e *eventsState) deadLetter(id int64) (*events.DeadLetter, error) {
	x := e.dead[id]
	if x == nil {
		return nil, fmt.Errorf("memstore: dead letter %d: %w", id, events.ErrNotFound)
	}
	return x, nil
}

// changeDeadLetter applies one of events.DeadLetter's state changes to the
// letter under the lock; on an error nothing changes.
func (e *eventsState) changeDeadLetter(id int64, f func(*events.DeadLetter) error) (events.DeadLetter, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.deadLetter(id)
	if err != nil {
		return events.DeadLetter{}, err
	}
	c := *x
	if err := f(&c); err != nil {
		return events.DeadLetter{}, err
	}
	*x = c
	return cloneDead(x), nil
}

// GetDeadLetter implements events.DeadLetterStore.
func (s *Store) GetDeadLetter(ctx context.Context, id int64) (events.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return events.DeadLetter{}, err
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	x, err := s.ev.deadLetter(id)
	if err != nil {
		return events.DeadLetter{}, err
	}
	return cloneDead(x), nil
}

// MarkDeadLetterReplayed implements events.DeadLetterStore.
func (s *Store) MarkDeadLetterReplayed(ctx context.Context, id int64) (events.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return events.DeadLetter{}, err
	}
	return s.ev.changeDeadLetter(id, func(x *events.DeadLetter) error { return x.MarkReplayed(norm(time.Now())) })
}

// MarkDeadLetterIgnored implements events.DeadLetterStore.
func (s *Store) MarkDeadLetterIgnored(ctx context.Context, id int64, note string) (events.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return events.DeadLetter{}, err
	}
	return s.ev.changeDeadLetter(id, func(x *events.DeadLetter) error { return x.MarkIgnored(note) })
}

// AnnotateDeadLetter implements events.DeadLetterStore.
func (s *Store) AnnotateDeadLetter(ctx context.Context, id int64, note string) (events.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return events.DeadLetter{}, err
	}
	return s.ev.changeDeadLetter(id, func(x *events.DeadLetter) error { return x.Annotate(note) })
}

// Provider events ---------------------------------------------------------------

func cloneProv(p *events.ProviderEvent) events.ProviderEvent {
	c := *p
	c.Payload = slices.Clone(p.Payload)
	return c
}

// RecordProviderEvent implements events.ProviderEventStore.
func (s *Store) RecordProviderEvent(ctx context.Context, pe events.ProviderEvent) (events.ProviderEvent, bool, error) {
	if err := ctx.Err(); err != nil {
		return events.ProviderEvent{}, false, err
	}
	pe, err := pe.Normalize()
	if err != nil {
		return events.ProviderEvent{}, false, err
	}
	e := &s.ev
	e.mu.Lock()
	defer e.mu.Unlock()
	k := [2]string{pe.Provider, pe.EventKey}
	if id, ok := e.provByKey[k]; ok {
		return cloneProv(e.prov[id]), true, nil
	}
	e.nextProv++
	pe.ID = e.nextProv
	pe.ReceivedAt = norm(time.Now())
	pe.Status = events.ProviderEventReceived
	pe.ProcessedAt, pe.Error = time.Time{}, ""
	if !pe.SourceTimestamp.IsZero() {
		pe.SourceTimestamp = norm(pe.SourceTimestamp)
	}
	pe.Payload = slices.Clone(pe.Payload)
	e.prov[pe.ID] = &pe
	e.provByKey[k] = pe.ID
	return cloneProv(&pe), false, nil
}

// GetProviderEvent implements events.ProviderEventStore.
func (s *Store) GetProviderEvent(ctx context.Context, id int64) (events.ProviderEvent, error) {
	if err := ctx.Err(); err != nil {
		return events.ProviderEvent{}, err
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	p := s.ev.prov[id]
	if p == nil {
		return events.ProviderEvent{}, fmt.Errorf("memstore: provider event %d: %w", id, events.ErrNotFound)
	}
	return cloneProv(p), nil
}

// ListProviderEvents implements events.ProviderEventStore.
func (s *Store) ListProviderEvents(ctx context.Context, f events.ProviderEventFilter) ([]events.ProviderEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return events.ListThrough(ctx, f, s.SearchProviderEvents)
}

// MarkProviderEventProcessed implements events.ProviderEventStore.
func (s *Store) MarkProviderEventProcessed(ctx context.Context, id int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	p := s.ev.prov[id]
	switch {
	case p == nil:
		return fmt.Errorf("memstore: provider event %d: %w", id, events.ErrNotFound)
	case p.Status == events.ProviderEventProcessed:
		return nil
	case p.Status != events.ProviderEventReceived && p.Status != events.ProviderEventFailed:
		return fmt.Errorf("%w: cannot mark provider event %d processed: it is %s", events.ErrConflict, id, p.Status)
	}
	p.Status, p.ProcessedAt, p.Error = events.ProviderEventProcessed, norm(time.Now()), ""
	return nil
}

// MarkProviderEventFailed implements events.ProviderEventStore.
func (s *Store) MarkProviderEventFailed(ctx context.Context, id int64, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if reason == "" {
		return events.Invalid("provider event", "error", "a failure needs a reason")
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	p := s.ev.prov[id]
	switch {
	case p == nil:
		return fmt.Errorf("memstore: provider event %d: %w", id, events.ErrNotFound)
	case p.Status != events.ProviderEventReceived && p.Status != events.ProviderEventFailed:
		return fmt.Errorf("%w: cannot mark provider event %d failed: it is %s", events.ErrConflict, id, p.Status)
	}
	p.Status, p.Error = events.ProviderEventFailed, reason
	return nil
}

// Processed events (dedup) -------------------------------------------------------

// Processed implements events.Deduper.
func (s *Store) Processed(ctx context.Context, consumer, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	_, ok := s.ev.processed[[2]string{consumer, key}]
	return ok, nil
}

// MarkProcessed implements events.Deduper.
func (s *Store) MarkProcessed(ctx context.Context, consumer, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	k := [2]string{consumer, key}
	if _, ok := s.ev.processed[k]; ok {
		return false, nil
	}
	s.ev.processed[k] = time.Now()
	return true, nil
}

// ProcessOnce implements events.TxDeduper[struct{}]. The store has no
// transactions that span other writes: fn runs under a lock per key, and the
// key is recorded only if fn succeeds, so a key is applied at most once
// successfully; but writes fn made before failing are not undone.
func (s *Store) ProcessOnce(ctx context.Context, consumer, key string, fn func(ctx context.Context, tx struct{}) error) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	e := &s.ev
	k := [2]string{consumer, key}
	e.mu.Lock()
	l := e.processKeys[k]
	if l == nil {
		l = &sync.Mutex{}
		e.processKeys[k] = l
	}
	e.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	e.mu.Lock()
	_, done := e.processed[k]
	e.mu.Unlock()
	if done {
		return false, nil
	}
	if err := fn(ctx, struct{}{}); err != nil {
		return false, err
	}
	e.mu.Lock()
	e.processed[k] = time.Now()
	delete(e.processKeys, k) // later callers see the record and never need the lock
	e.mu.Unlock()
	return true, nil
}
