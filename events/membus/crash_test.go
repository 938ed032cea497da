package membus_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/eventstest"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
)

// pgSink is a PostgreSQL table written by the crash test's handler, with the
// idempotency record in the same transaction.
func pgSink(t *testing.T) eventstest.Sink[pgx.Tx] {
	t.Helper()
	ctx := context.Background()
	s, err := pgstore.Open(ctx, testenv.PostgresURL(t), &pgstore.Options{MaxConns: 16})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	_, err = s.Pool().Exec(ctx, `CREATE TABLE crash_applied (event_id text NOT NULL, key text NOT NULL)`)
	require.NoError(t, err)
	return eventstest.Sink[pgx.Tx]{
		Deduper: s,
		Apply: func(ctx context.Context, tx pgx.Tx, e events.Event) error {
			_, err := tx.Exec(ctx, `INSERT INTO crash_applied (event_id, key) VALUES ($1, $2)`, e.ID, e.Key)
			return err
		},
		Count: func(t *testing.T) (int, int) {
			var rows, distinct int
			require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT event_id) FROM crash_applied`).Scan(&rows, &distinct))
			return rows, distinct
		},
		Processed: func(t *testing.T, consumer string) int {
			var n int
			require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM processed_events WHERE consumer = $1`, consumer).Scan(&n))
			return n
		},
	}
}

// TestCrashExactlyOnce: on the in-process bus, a consumer killed mid-batch
// and restarted applies every one of 20,000 events exactly once (10,000 with
// -short). The 100,000-event run is kafkabus's; the cost here is PostgreSQL's,
// the same for both buses.
func TestCrashExactlyOnce(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 10_000
	}
	// One in-process broker; each call is a new client of it (a restarted
	// consumer process keeps talking to the same broker).
	b, err := membus.New(&membus.Options{Partitions: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	eventstest.RunCrash(t, n, func(*testing.T) eventstest.Bus { return b }, pgSink(t))
}
