package events

import (
	"context"
	"fmt"
	"time"

	"github.com/vidlib/vidlib/internal/text"
)

// Deduper is the idempotency ledger (the processed_events table) for handlers
// whose writes are not in the ledger's database: it remembers which keys a
// consumer has processed. Implementations: store/pgstore, store/memstore.
type Deduper interface {
	// Processed reports whether consumer has recorded key as processed.
	Processed(ctx context.Context, consumer, key string) (bool, error)
	// MarkProcessed records key as processed by consumer and reports whether
	// this call recorded it (false: it was already there).
	MarkProcessed(ctx context.Context, consumer, key string) (bool, error)
}

// TxDeduper runs a handler's writes and the idempotency record in one
// transaction of type Tx (pgx.Tx for store/pgstore), which makes a consumer
// exactly-once in effect: a redelivered event finds its key and is skipped,
// and a handler that fails records nothing.
type TxDeduper[Tx any] interface {
	// ProcessOnce records (consumer, key) and runs fn in the same
	// transaction. If the key is already recorded, fn is not called and applied
	// is false. If fn returns an error, nothing it did and no record is kept.
	// Concurrent calls with the same key run fn at most once successfully.
	ProcessOnce(ctx context.Context, consumer, key string, fn func(ctx context.Context, tx Tx) error) (applied bool, err error)
}

// KeyFunc derives the idempotency key of a message.
type KeyFunc func(m *Message) (string, error)

// EventIDKey is the default KeyFunc: the envelope id. A message that does not
// decode has no key (a permanent ErrInvalid error).
func EventIDKey(m *Message) (string, error) {
	e, err := m.Event()
	if err != nil {
		return "", err
	}
	return e.ID, nil
}

// ProviderEventKey is the derived idempotency key of a provider event that has
// no id of its own: provider + object id + event type + source timestamp.
func ProviderEventKey(provider, objectID, eventType string, sourceTime time.Time) string {
	return fmt.Sprintf("%s:%s:%s:%s", provider, objectID, eventType, sourceTime.UTC().Format(time.RFC3339Nano))
}

// ValidateDedupKey checks a consumer name and key for a Deduper.
func ValidateDedupKey(consumer, key string) error {
	p := problems{what: "processed event"}
	if consumer == "" || !text.Printable(consumer, 256) {
		p.add("consumer", "is required: printable UTF-8 of at most 256 bytes")
	}
	if key == "" || !text.Printable(key, 512) {
		p.add("key", "is required: printable UTF-8 of at most 512 bytes")
	}
	return p.err()
}

// Dedup skips messages that consumer has already processed and records the
// ones the handler finished. The check and the record are two steps around the
// handler: if the process dies between the handler's success and the record,
// the message is handled again, so the handler itself must tolerate a repeat.
// Handlers that write PostgreSQL use ProcessOnce instead, which has no such
// gap. A nil key function means EventIDKey.
func Dedup(d Deduper, consumer string, key KeyFunc) Middleware {
	if key == nil {
		key = EventIDKey
	}
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			k, err := key(m)
			if err != nil {
				return err
			}
			done, err := d.Processed(ctx, consumer, k)
			if err != nil {
				return fmt.Errorf("events: dedup check: %w", err)
			}
			if done {
				m.outcome = OutcomeDuplicate
				return nil
			}
			if err := next(ctx, m); err != nil {
				return err
			}
			if _, err := d.MarkProcessed(ctx, consumer, k); err != nil {
				return fmt.Errorf("events: dedup record: %w", err)
			}
			return nil
		}
	}
}

// ProcessOnce adapts a transactional handler: for each message it derives the
// key (nil: EventIDKey) and runs h inside d.ProcessOnce, so the handler's
// writes and the idempotency record commit together. A duplicate is skipped
// and reported as OutcomeDuplicate.
func ProcessOnce[Tx any](d TxDeduper[Tx], consumer string, key KeyFunc, h func(ctx context.Context, tx Tx, m *Message) error) Handler {
	if key == nil {
		key = EventIDKey
	}
	return func(ctx context.Context, m *Message) error {
		k, err := key(m)
		if err != nil {
			return err
		}
		applied, err := d.ProcessOnce(ctx, consumer, k, func(ctx context.Context, tx Tx) error {
			return h(ctx, tx, m)
		})
		if err != nil {
			return err
		}
		if !applied {
			m.outcome = OutcomeDuplicate
		}
		return nil
	}
}
