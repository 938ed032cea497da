package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/storetest"
	"github.com/vidlib/vidlib/tree"
)

// eventsStore returns a migrated store in a fresh schema.
func eventsStore(t *testing.T) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), testenv.PostgresURL(t), nil)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

func TestEventsOutbox(t *testing.T) {
	storetest.TestOutbox(t, func(t *testing.T) storetest.OutboxStore { return eventsStore(t) })
}

func TestEventsDeadLetters(t *testing.T) {
	storetest.TestDeadLetters(t, func(t *testing.T) events.DeadLetterStore { return eventsStore(t) })
}

func TestEventsDeadLetterCount(t *testing.T) {
	storetest.TestDeadLetterCount(t, func(t *testing.T) storetest.DeadLetterCountStore { return eventsStore(t) })
}

func TestEventsProviderEvents(t *testing.T) {
	storetest.TestProviderEvents(t, func(t *testing.T) events.ProviderEventStore { return eventsStore(t) })
}

func TestEventsDeduper(t *testing.T) {
	storetest.TestDeduper(t, func(t *testing.T) events.Deduper { return eventsStore(t) })
}

func TestEventsTxDeduper(t *testing.T) {
	storetest.TestTxDeduper(t, func(t *testing.T) storetest.TxDeduperHarness[pgx.Tx] {
		s := eventsStore(t)
		_, err := s.Pool().Exec(context.Background(), `CREATE TABLE handler_writes (key text NOT NULL)`)
		require.NoError(t, err)
		return storetest.TxDeduperHarness[pgx.Tx]{
			Store: s,
			Write: func(ctx context.Context, tx pgx.Tx, key string) error {
				_, err := tx.Exec(ctx, `INSERT INTO handler_writes (key) VALUES ($1)`, key)
				return err
			},
			Count: func(t *testing.T, key string) int {
				var n int
				require.NoError(t, s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM handler_writes WHERE key = $1`, key).Scan(&n))
				return n
			},
			Atomic: true,
		}
	})
}

// The plain Deduper and ProcessOnce share one ledger.
func TestEventsDedupLedgerIsShared(t *testing.T) {
	s := eventsStore(t)
	ctx := context.Background()
	first, err := s.MarkProcessed(ctx, "c", "k")
	require.NoError(t, err)
	require.True(t, first)
	applied, err := s.ProcessOnce(ctx, "c", "k", func(context.Context, pgx.Tx) error {
		t.Error("a key marked by MarkProcessed must not run again")
		return nil
	})
	require.NoError(t, err)
	require.False(t, applied)
	ok, err := s.Processed(ctx, "c", "k")
	require.NoError(t, err)
	require.True(t, ok)

	// In the caller's own transaction.
	tx, err := s.Pool().Begin(ctx)
	require.NoError(t, err)
	first, err = pgstore.MarkProcessedTx(ctx, tx, "c", "k")
	require.NoError(t, err)
	require.False(t, first)
	first, err = pgstore.MarkProcessedTx(ctx, tx, "c", "k2")
	require.NoError(t, err)
	require.True(t, first)
	require.NoError(t, tx.Rollback(ctx))
	ok, err = s.Processed(ctx, "c", "k2")
	require.NoError(t, err)
	require.False(t, ok, "rolled back with the caller's transaction")
	_, err = pgstore.MarkProcessedTx(ctx, nil, "", "k")
	require.ErrorIs(t, err, events.ErrInvalid)

	n, err := s.PruneProcessedEvents(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	ok, err = s.Processed(ctx, "c", "k")
	require.NoError(t, err)
	require.False(t, ok)
}

// Rows that tree transactions write are relayed like any other.
func TestEventsTreeOutboxIsRelayed(t *testing.T) {
	s := eventsStore(t)
	ctx := context.Background()
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		return tx.EnqueueOutbox(ctx, events.TopicVimeoSyncNormalized, "video:1", []byte(`{"n":1}`))
	})
	require.NoError(t, err)
	require.NoError(t, s.EnqueueOutbox(ctx, events.TopicAudit, "video:1", []byte(`{"n":2}`)))
	var got []string
	n, err := s.RelayOutbox(ctx, 10, func(_ context.Context, batch []events.OutboxRecord) []error {
		for _, r := range batch {
			got = append(got, r.Topic+" "+string(r.Payload))
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{events.TopicVimeoSyncNormalized + ` {"n":1}`, events.TopicAudit + ` {"n":2}`}, got)
}

func TestEventsPruneOutbox(t *testing.T) {
	s := eventsStore(t)
	ctx := context.Background()
	for range 3 {
		require.NoError(t, s.EnqueueOutbox(ctx, events.TopicAudit, "k", []byte("x")))
	}
	_, err := s.RelayOutbox(ctx, 2, func(context.Context, []events.OutboxRecord) []error { return nil })
	require.NoError(t, err)
	n, err := s.PruneOutbox(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "only sent rows are pruned")
	left, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, left)
}
