package consumers_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/consumers"
)

// BenchmarkAuditConsumer: records/s the audit consumer appends to the chain
// in PostgreSQL, with as many handlers at once as a subscription gives it
// (MaxInFlight, 2 × BatchSize): decode, validate, group commit, dedup
// check, hash, COPY, head update.
//
//	go test -run '^$' -bench BenchmarkAuditConsumer -benchtime=100000x ./servers/consumers/
func BenchmarkAuditConsumer(b *testing.B) {
	ctx := context.Background()
	s := openPG(b, 8)
	c, err := consumers.NewAudit(s, &recordingPublisher{}, nil)
	require.NoError(b, err)
	msgs := make([]events.Message, b.N)
	for i := range msgs {
		msgs[i] = auditMessage(b, record(b, i))
	}
	inFlight := c.Subscription().MaxInFlight
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range inFlight {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(msgs) {
					return
				}
				m := msgs[i]
				if err := c.Handler()(ctx, &m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	h, err := s.AuditHead(ctx)
	require.NoError(b, err)
	require.Equal(b, int64(b.N), h.Seq)
}
