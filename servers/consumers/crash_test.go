package consumers_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/consumers"
)

// crashSize is the number of records of TestAuditCrashExactlyOnce:
// VIDLIB_AUDIT_CRASH_N if set, else 100,000 (5,000 with -short, 10,000
// under -race, where each transaction is several times slower).
func crashSize(t *testing.T) int {
	if s := os.Getenv("VIDLIB_AUDIT_CRASH_N"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "VIDLIB_AUDIT_CRASH_N")
		return n
	}
	switch {
	case testing.Short():
		return 5_000
	case raceEnabled:
		return 10_000
	}
	return 100_000
}

func newKafkaBus(t testing.TB, k *testenv.KafkaCluster) *kafkabus.Bus {
	t.Helper()
	b, err := kafkabus.New(k.Brokers(), &kafkabus.Options{
		TopicPrefix: k.TopicPrefix(), Partitions: 4,
		SessionTimeout: 3 * time.Second, HeartbeatInterval: 100 * time.Millisecond, RebalanceTimeout: 4 * time.Second,
		JoinGroupBackoff: 100 * time.Millisecond, DrainTimeout: 2 * time.Second, CommitInterval: 20 * time.Millisecond,
		MaxWait: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.Provision(ctx))
	return b
}

// TestAuditCrashExactlyOnce: audit records published to Kafka (kfake) are
// consumed into PostgreSQL by consumers that are killed three times, each
// time right after a transaction committed and before the offsets did (so
// records come back), and finished by two consumers running at once: every
// record is stored exactly once and the chain verifies.
func TestAuditCrashExactlyOnce(t *testing.T) {
	n := crashSize(t)
	ctx := context.Background()
	k := testenv.Kafka(t)
	s := openPG(t, 16)

	pubBus := newKafkaBus(t, k)
	start := time.Now()
	batch := make([]events.Event, 0, 5000)
	for i := range n {
		e, err := audit.Event(ctx, "crash-test", record(t, i))
		require.NoError(t, err)
		batch = append(batch, e)
		if len(batch) == cap(batch) || i == n-1 {
			pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			require.NoError(t, events.PublishEvents(pctx, pubBus, events.TopicAudit, batch...))
			cancel()
			batch = batch[:0]
		}
	}
	t.Logf("published %d records in %v", n, time.Since(start))

	var dups atomic.Int64
	stored := func() int64 {
		h, err := s.AuditHead(ctx)
		require.NoError(t, err)
		return h.Seq
	}
	// member consumes with a fresh bus and consumer (a fresh process); with
	// killAt > 0 it dies, by ErrAbort from inside a handler whose record is
	// committed, once the log holds killAt records.
	member := func(ctx context.Context, killAt int64) error {
		bus := newKafkaBus(t, k)
		c, err := consumers.NewAudit(s, bus, &consumers.AuditOptions{BatchSize: 500, CheckpointEvery: n / 7})
		require.NoError(t, err)
		ctx, abort := context.WithCancelCause(ctx)
		defer abort(nil)
		var killed atomic.Bool
		var handled atomic.Int64
		h := c.Handler()
		handler := func(hctx context.Context, m *events.Message) error {
			if err := h(hctx, m); err != nil {
				return err
			}
			if m.Outcome() == events.OutcomeDuplicate {
				dups.Add(1)
			}
			if killAt > 0 && handled.Add(1)%32 == 0 && stored() >= killAt && killed.CompareAndSwap(false, true) {
				abort(events.ErrAbort)
				<-hctx.Done() // never finishes: committed in PostgreSQL, not in Kafka
				return hctx.Err()
			}
			return nil
		}
		sub := c.Subscription()
		sub.RedeliveryDelay = 10 * time.Millisecond
		return bus.Subscribe(ctx, sub, handler)
	}
	for i := range 3 {
		killAt := int64(n) * int64(i+1) / 4 // at a quarter, half, three quarters
		err := member(ctx, killAt)
		require.ErrorIs(t, err, events.ErrAbort, "member %d dies by abort", i+1)
		t.Logf("member %d killed with %d records stored", i+1, stored())
	}

	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() { errs <- member(fctx, 0) })
	}
	deadline := time.Now().Add(5 * time.Minute)
	for stored() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let late redeliveries arrive: they must not be stored
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("consumed in %v; %d redeliveries recognised as duplicates", time.Since(start), dups.Load())

	var rows, distinct, minSeq, maxSeq int64
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT event_id), min(seq), max(seq) FROM audit_logs`).
		Scan(&rows, &distinct, &minSeq, &maxSeq))
	require.Equal(t, int64(n), rows, "every record stored exactly once: no loss, no duplicate")
	require.Equal(t, int64(n), distinct)
	require.Equal(t, []int64{1, int64(n)}, []int64{minSeq, maxSeq}, "seq is dense")
	require.GreaterOrEqual(t, dups.Load(), int64(3), "the record of each kill came back and was recognised")
	rep := requireChain(t, s, int64(n))
	require.NotZero(t, rep.Checkpoints, "the consumers wrote checkpoints")
}
