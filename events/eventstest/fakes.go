package eventstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vidlib/vidlib/events"
)

// Deduper is an in-memory events.Deduper and events.TxDeduper[struct{}] for
// tests of handlers. It is safe for concurrent use.
type Deduper struct {
	mu   sync.Mutex
	seen map[[2]string]bool
	keys map[[2]string]*sync.Mutex
}

var (
	_ events.Deduper             = (*Deduper)(nil)
	_ events.TxDeduper[struct{}] = (*Deduper)(nil)
)

// NewDeduper returns an empty ledger.
func NewDeduper() *Deduper {
	return &Deduper{seen: map[[2]string]bool{}, keys: map[[2]string]*sync.Mutex{}}
}

// Processed implements events.Deduper.
func (d *Deduper) Processed(_ context.Context, consumer, key string) (bool, error) {
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen[[2]string{consumer, key}], nil
}

// MarkProcessed implements events.Deduper.
func (d *Deduper) MarkProcessed(_ context.Context, consumer, key string) (bool, error) {
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := [2]string{consumer, key}
	if d.seen[k] {
		return false, nil
	}
	d.seen[k] = true
	return true, nil
}

// ProcessOnce implements events.TxDeduper: fn runs under a lock per key and
// the key is recorded only if fn succeeds.
func (d *Deduper) ProcessOnce(ctx context.Context, consumer, key string, fn func(ctx context.Context, tx struct{}) error) (bool, error) {
	if err := events.ValidateDedupKey(consumer, key); err != nil {
		return false, err
	}
	k := [2]string{consumer, key}
	d.mu.Lock()
	l := d.keys[k]
	if l == nil {
		l = &sync.Mutex{}
		d.keys[k] = l
	}
	d.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	d.mu.Lock()
	seen := d.seen[k]
	d.mu.Unlock()
	if seen {
		return false, nil
	}
	if err := fn(ctx, struct{}{}); err != nil {
		return false, err
	}
	d.mu.Lock()
	d.seen[k] = true
	d.mu.Unlock()
	return true, nil
}

// DeadLetters is an in-memory events.DeadLetterStore for tests. It is safe for
// concurrent use.
type DeadLetters struct {
	mu    sync.Mutex
	next  int64
	items map[int64]*events.DeadLetter
}

var _ events.DeadLetterStore = (*DeadLetters)(nil)

// NewDeadLetters returns an empty store.
func NewDeadLetters() *DeadLetters { return &DeadLetters{items: map[int64]*events.DeadLetter{}} }

// RecordDeadLetter implements events.DeadLetterStore.
func (s *DeadLetters) RecordDeadLetter(_ context.Context, d events.DeadLetter) (events.DeadLetter, error) {
	if err := d.Validate(); err != nil {
		return events.DeadLetter{}, err
	}
	d.FillFailureTimes(time.Now().UTC())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.items {
		if x.Topic == d.Topic && x.EventID == d.EventID {
			x.MarkFailedAgain(d)
			return clone(x), nil
		}
	}
	s.next++
	d.ID = s.next
	d.Status = events.DeadLetterOpen
	d.Note, d.ReplayCount, d.ReplayedAt = "", 0, time.Time{}
	d.Payload = slices.Clone(d.Payload)
	s.items[d.ID] = &d
	return clone(&d), nil
}

// ListDeadLetters implements events.DeadLetterStore.
func (s *DeadLetters) ListDeadLetters(_ context.Context, f events.DeadLetterFilter) ([]events.DeadLetter, error) {
	f, err := f.Normalize()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.DeadLetter
	for id := s.next; id > 0 && len(out) < f.Limit; id-- {
		x := s.items[id]
		if x == nil || (f.Before > 0 && id >= f.Before) || (f.Status != "" && x.Status != f.Status) || (f.Topic != "" && x.Topic != f.Topic) || (f.EventID != "" && x.EventID != f.EventID) {
			continue
		}
		out = append(out, clone(x))
	}
	return out, nil
}

// GetDeadLetter implements events.DeadLetterStore.
func (s *DeadLetters) GetDeadLetter(_ context.Context, id int64) (events.DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.items[id]
	if x == nil {
		return events.DeadLetter{}, fmt.Errorf("%w: dead letter %d", events.ErrNotFound, id)
	}
	return clone(x), nil
}

// MarkDeadLetterReplayed implements events.DeadLetterStore.
func (s *DeadLetters) MarkDeadLetterReplayed(_ context.Context, id int64) (events.DeadLetter, error) {
	return s.change(id, func(x *events.DeadLetter) error { return x.MarkReplayed(time.Now().UTC()) })
}

// MarkDeadLetterIgnored implements events.DeadLetterStore.
func (s *DeadLetters) MarkDeadLetterIgnored(_ context.Context, id int64, note string) (events.DeadLetter, error) {
	return s.change(id, func(x *events.DeadLetter) error { return x.MarkIgnored(note) })
}

// AnnotateDeadLetter implements events.DeadLetterStore.
func (s *DeadLetters) AnnotateDeadLetter(_ context.Context, id int64, note string) (events.DeadLetter, error) {
	return s.change(id, func(x *events.DeadLetter) error { return x.Annotate(note) })
}

// change applies f to dead letter id under the lock; on an error nothing
// changes.
func (s *DeadLetters) change(id int64, f func(*events.DeadLetter) error) (events.DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.items[id]
	if x == nil {
		return events.DeadLetter{}, fmt.Errorf("%w: dead letter %d", events.ErrNotFound, id)
	}
	c := *x
	if err := f(&c); err != nil {
		return events.DeadLetter{}, err
	}
	*x = c
	return clone(x), nil
}

func clone(d *events.DeadLetter) events.DeadLetter {
	c := *d
	c.Payload = slices.Clone(d.Payload)
	return c
}
