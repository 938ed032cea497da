package pgstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/store/pgstore"
)

// auditBenchSize is the size of the audit log the audit benchmarks build:
// VIDLIB_AUDIT_BENCH_N, default 1,000,000.
func auditBenchSize(b *testing.B) int {
	if s := os.Getenv("VIDLIB_AUDIT_BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(b, err)
		return n
	}
	return 1_000_000
}

var auditActions = []audit.Action{audit.ActionLogin, audit.ActionAccessDecision, audit.ActionVideoMoved,
	audit.ActionRuleAdded, audit.ActionWebhookReceived, audit.ActionDeadLetterReplay}

var auditBenchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// genAudit returns record i of a log spread over a year: 10,000 actors,
// 100,000 videos, six actions.
func genAudit(i, n int) audit.Record {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	t := auditBenchStart.Add(time.Duration(int64(i) * int64(365*24*time.Hour) / int64(n)))
	id, _ := uuid.NewV7()
	return audit.Record{ID: id.String(), Time: t, ActorKind: audit.ActorUser, ActorID: fmt.Sprintf("user-%d", r.IntN(10_000)),
		Action: auditActions[r.IntN(len(auditActions))], ObjectKind: "video", ObjectID: strconv.Itoa(r.IntN(100_000)),
		Outcome: audit.OutcomeOK, RequestID: fmt.Sprintf("req-%d", i), Details: map[string]string{"n": strconv.Itoa(i), "ip": "10.0.0.1"}}
}

// auditBenchLog fills a schema with the benchmark log through AppendAudit,
// batches of 10,000, then VACUUM ANALYZE.
func auditBenchLog(b *testing.B) (*pgstore.Store, int) {
	n := auditBenchSize(b)
	ctx := context.Background()
	s := open(b)
	start := time.Now()
	{
		const batch = 10_000
		recs := make([]audit.Record, 0, batch)
		for i := range n {
			recs = append(recs, genAudit(i, n))
			if len(recs) == batch || i == n-1 {
				_, err := s.AppendAudit(ctx, recs)
				require.NoError(b, err)
				recs = recs[:0]
			}
		}
		_, err := s.Pool().Exec(ctx, `VACUUM ANALYZE audit_logs`)
		require.NoError(b, err)
		b.Logf("filled %d audit records in %v (%.0f records/s through AppendAudit)", n, time.Since(start), float64(n)/time.Since(start).Seconds())
	}
	return s, n
}

// BenchmarkAuditLog builds a log of VIDLIB_AUDIT_BENCH_N records (default
// 1,000,000), then measures Verify over all of it and the latency of
// searches. Run with -benchtime=1x:
//
//	go test -run '^$' -bench BenchmarkAuditLog -benchtime=1x ./store/pgstore/
func BenchmarkAuditLog(b *testing.B) {
	s, n := auditBenchLog(b)
	b.Run("Verify", func(b *testing.B) { benchAuditVerify(b, s, n) })
	b.Run("Search", func(b *testing.B) { benchAuditSearch(b, s, n) })
}

// benchAuditVerify: audit.Verify over the whole log (read, rehash, check
// every link).
func benchAuditVerify(b *testing.B, s *pgstore.Store, n int) {
	ctx := context.Background()
	for b.Loop() {
		rep, err := audit.Verify(ctx, s, nil)
		require.NoError(b, err)
		require.True(b, rep.OK())
		require.Equal(b, int64(n), rep.Records)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// benchAuditSearch: 1,000 searches of every shape the admin console makes
// (by actor, action, object, time window, combinations, deep pages),
// reporting p50 and p99 latency.
func benchAuditSearch(b *testing.B, s *pgstore.Store, n int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	queries := func() audit.Query {
		day := auditBenchStart.Add(time.Duration(r.IntN(364)) * 24 * time.Hour)
		switch r.IntN(8) {
		case 0:
			return audit.Query{}
		case 1:
			return audit.Query{ActorID: fmt.Sprintf("user-%d", r.IntN(10_000))}
		case 2:
			return audit.Query{Action: auditActions[r.IntN(len(auditActions))]}
		case 3:
			return audit.Query{ObjectKind: "video", ObjectID: strconv.Itoa(r.IntN(100_000))}
		case 4:
			return audit.Query{From: day, To: day.Add(24 * time.Hour)}
		case 5:
			return audit.Query{Action: auditActions[r.IntN(len(auditActions))], From: day, To: day.Add(7 * 24 * time.Hour)}
		case 6:
			return audit.Query{ActorKind: audit.ActorUser, ActorID: fmt.Sprintf("user-%d", r.IntN(10_000)), Action: audit.ActionLogin}
		}
		return audit.Query{Before: int64(1 + r.IntN(n)), Limit: 200} // a deep page
	}
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for range 1000 {
			q := queries()
			t0 := time.Now()
			_, err := s.SearchAudit(ctx, q)
			lat = append(lat, time.Since(t0))
			require.NoError(b, err)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
