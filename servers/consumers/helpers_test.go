package consumers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openPG(t testing.TB, maxConns int32) *pgstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := pgstore.Open(ctx, testenv.PostgresURL(t), &pgstore.Options{MaxConns: maxConns})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	return s
}

// record returns a valid audit record about object i.
func record(t testing.TB, i int) audit.Record {
	t.Helper()
	id, err := audit.NewID()
	require.NoError(t, err)
	return audit.Record{ID: id, Time: time.Now(), ActorKind: audit.ActorAdmin, ActorID: fmt.Sprintf("admin-%d", i%10),
		Action: audit.ActionVideoHide, ObjectKind: "video", ObjectID: fmt.Sprint(i), Outcome: audit.OutcomeOK,
		Details: map[string]string{"i": fmt.Sprint(i)}}
}

func auditMessage(t testing.TB, r audit.Record) events.Message {
	t.Helper()
	e, err := audit.Event(context.Background(), "test", r)
	require.NoError(t, err)
	m, err := e.Message(events.TopicAudit)
	require.NoError(t, err)
	return m
}

func requireChain(t *testing.T, s audit.ChainReader, n int64) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), s, nil)
	require.NoError(t, err)
	require.Nil(t, rep.Break, "the chain verifies")
	require.Equal(t, n, rep.Records)
	return rep
}

// recordingPublisher keeps what is published.
type recordingPublisher struct {
	mu   sync.Mutex
	msgs []events.Message
}

func (p *recordingPublisher) Publish(_ context.Context, msgs ...events.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *recordingPublisher) Messages() []events.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]events.Message(nil), p.msgs...)
}
