package consumers_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/store/memstore"
)

// TestAuditHandlerAppendsOnceAndDeadLettersInvalid: a record is appended to
// the chain; a redelivery is a duplicate; a record that cannot be stored
// goes to deadletters.audit and the dead_letters table, and the chain stays
// valid.
func TestAuditHandlerAppendsOnceAndDeadLettersInvalid(t *testing.T) {
	ctx := context.Background()
	for name, newStore := range map[string]func(t *testing.T) consumers.AuditStore{
		"memstore": func(*testing.T) consumers.AuditStore { return memstore.New() },
		"pgstore":  func(t *testing.T) consumers.AuditStore { return openPG(t, 4) },
	} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			pub := &recordingPublisher{}
			c, err := consumers.NewAudit(s, pub, &consumers.AuditOptions{Retry: events.RetryPolicy{MaxAttempts: 1}})
			require.NoError(t, err)
			h := c.Handler()

			r := record(t, 1)
			m := auditMessage(t, r)
			require.NoError(t, h(ctx, &m))
			require.Equal(t, events.Outcome(""), m.Outcome())
			again := auditMessage(t, r)
			require.NoError(t, h(ctx, &again))
			require.Equal(t, events.OutcomeDuplicate, again.Outcome(), "a redelivered record is recognised")

			bad := record(t, 2)
			bad.Action = "auth.logout" // not an audited action
			e, err := events.New(ctx, events.Event{ID: bad.ID, Type: audit.EventType, Source: "test", Time: bad.Time}, bad)
			require.NoError(t, err)
			bm, err := e.Message(events.TopicAudit)
			require.NoError(t, err)
			require.NoError(t, h(ctx, &bm))
			require.Equal(t, events.OutcomeDeadLettered, bm.Outcome())
			garbage := events.Message{Topic: events.TopicAudit, Value: []byte("not an event")}
			require.NoError(t, h(ctx, &garbage))
			require.Equal(t, events.OutcomeDeadLettered, garbage.Outcome())

			sent := pub.Messages()
			require.Len(t, sent, 2)
			for _, dm := range sent {
				require.Equal(t, events.TopicDeadLettersAudit, dm.Topic)
			}
			letters, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{})
			require.NoError(t, err)
			require.Len(t, letters, 2)
			require.Contains(t, letters[1].Error+letters[0].Error, "auth.logout")

			rep := requireChain(t, s.(audit.ChainReader), 1)
			require.Equal(t, int64(1), rep.HeadSeq)
		})
	}
}

// failingStore fails appends while fail is set.
type failingStore struct {
	*memstore.Store
	fail atomic.Bool
}

func (f *failingStore) AppendAudit(ctx context.Context, recs []audit.Record) ([]audit.Record, error) {
	if f.fail.Load() {
		return nil, errors.New("database down")
	}
	return f.Store.AppendAudit(ctx, recs)
}

// TestAuditStoreFailureIsNeverDeadLettered: when the database fails the
// message is returned to the bus (to be delivered again), not set aside.
func TestAuditStoreFailureIsNeverDeadLettered(t *testing.T) {
	ctx := context.Background()
	s := &failingStore{Store: memstore.New()}
	s.fail.Store(true)
	pub := &recordingPublisher{}
	c, err := consumers.NewAudit(s, pub, &consumers.AuditOptions{Retry: events.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond}})
	require.NoError(t, err)
	m := auditMessage(t, record(t, 1))
	require.ErrorContains(t, c.Handler()(ctx, &m), "database down")
	require.Empty(t, pub.Messages())
	n, err := s.CountDeadLetters(ctx, "")
	require.NoError(t, err)
	require.Zero(t, n)
	s.fail.Store(false)
	require.NoError(t, c.Handler()(ctx, &m))
	requireChain(t, s, 1)
}

// TestAuditGroupCommitConcurrent: many handlers at once share transactions,
// every record is stored once, the chain is valid, and checkpoints (signed)
// are written and verify.
func TestAuditGroupCommitConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openPG(t, 8)
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	c, err := consumers.NewAudit(s, &recordingPublisher{}, &consumers.AuditOptions{
		BatchSize: 50, CheckpointEvery: 100, SigningKey: key, KeyID: "test-key"})
	require.NoError(t, err)
	const n = 1000
	msgs := make([]events.Message, n)
	for i := range msgs {
		msgs[i] = auditMessage(t, record(t, i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range 64 {
		wg.Go(func() {
			for j := i; j < n; j += 64 {
				m := msgs[j]
				if err := c.Handler()(ctx, &m); err != nil {
					errs <- err
				}
				if j%3 == 0 { // a redelivery, at once
					m2 := msgs[j]
					if err := c.Handler()(ctx, &m2); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var rows, distinct int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT event_id) FROM audit_logs`).Scan(&rows, &distinct))
	require.Equal(t, n, rows)
	require.Equal(t, n, distinct)
	cps, err := s.AuditCheckpoints(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, cps, "checkpoints are written")
	rep, err := audit.Verify(ctx, s, &audit.VerifyOptions{PublicKey: pub})
	require.NoError(t, err)
	require.Nil(t, rep.Break)
	require.Equal(t, len(cps), rep.Checkpoints)
	require.Equal(t, int64(n), rep.Records)

	other, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	rep, err = audit.Verify(ctx, s, &audit.VerifyOptions{PublicKey: other})
	require.NoError(t, err)
	require.NotNil(t, rep.Break, "checkpoints signed by another key do not verify")
	require.Equal(t, audit.BreakCheckpoint, rep.Break.Kind)
}
