package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
)

// TestAuditStore runs the audit.Store conformance suite: appending to the
// hash chain, deduplication by record id, checkpoints, search. newStore must
// return a fresh, empty store for each call.
func TestAuditStore(t *testing.T, newStore func(t *testing.T) audit.Store) {
	t.Run("AppendLinksAndRoundTrips", func(t *testing.T) { testAuditAppend(t, newStore(t)) })
	t.Run("DuplicatesAndInvalid", func(t *testing.T) { testAuditDuplicates(t, newStore(t)) })
	t.Run("ConcurrentAppendsNeverFork", func(t *testing.T) { testAuditConcurrent(t, newStore(t)) })
	t.Run("Checkpoints", func(t *testing.T) { testAuditCheckpoints(t, newStore(t)) })
	t.Run("Search", func(t *testing.T) { testAuditSearch(t, newStore(t)) })
}

// AuditRecord returns a valid record for tests: action, actor and object
// vary with i.
func AuditRecord(t testing.TB, i int) audit.Record {
	t.Helper()
	id, err := audit.NewID()
	require.NoError(t, err)
	actions := []audit.Action{audit.ActionLogin, audit.ActionRuleAdded, audit.ActionVideoMoved}
	return audit.Record{
		ID: id, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Add(123456789 * time.Nanosecond),
		ActorKind: audit.ActorUser, ActorID: fmt.Sprintf("user-%d", i%5),
		Action: actions[i%len(actions)], ObjectKind: "video", ObjectID: fmt.Sprint(i % 7), Outcome: audit.OutcomeOK,
		RequestID: fmt.Sprintf("req-%d", i), Details: map[string]string{"n": fmt.Sprint(i), "note": "ü \"quoted\" \\ <tag>"},
	}
}

func readChain(t *testing.T, s audit.Store) []audit.Record {
	t.Helper()
	var out []audit.Record
	require.NoError(t, s.ScanAuditChain(context.Background(), 1, func(r audit.Record) error { out = append(out, r); return nil }))
	return out
}

func requireVerified(t *testing.T, s audit.Store, records int64) {
	t.Helper()
	rep, err := audit.Verify(context.Background(), s, nil)
	require.NoError(t, err)
	require.Nil(t, rep.Break, "chain must verify clean")
	require.Equal(t, records, rep.Records)
}

func testAuditAppend(t *testing.T, s audit.Store) {
	ctx := context.Background()
	head, err := s.AuditHead(ctx)
	require.NoError(t, err)
	require.Zero(t, head.Seq)
	a, b, c := AuditRecord(t, 1), AuditRecord(t, 2), AuditRecord(t, 3)
	c.Details = nil
	got, err := s.AppendAudit(ctx, []audit.Record{a, b})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, int64(1), got[0].Seq)
	require.Nil(t, got[0].PrevHash)
	require.Equal(t, int64(2), got[1].Seq)
	require.Equal(t, got[0].Hash, got[1].PrevHash)
	got2, err := s.AppendAudit(ctx, []audit.Record{c})
	require.NoError(t, err)
	require.Equal(t, int64(3), got2[0].Seq)
	require.Equal(t, got[1].Hash, got2[0].PrevHash)

	stored := readChain(t, s)
	require.Len(t, stored, 3)
	want := []audit.Record{got[0], got[1], got2[0]}
	for i := range want {
		require.Equal(t, want[i], stored[i], "record %d round-trips exactly", i+1)
		require.Equal(t, time.UTC, stored[i].Time.Location())
	}
	require.Equal(t, a.Time.Truncate(time.Microsecond), stored[0].Time, "time kept to the microsecond")
	head, err = s.AuditHead(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), head.Seq)
	require.Equal(t, got2[0].Hash, head.Hash)
	requireVerified(t, s, 3)
}

func testAuditDuplicates(t *testing.T, s audit.Store) {
	ctx := context.Background()
	a, b := AuditRecord(t, 1), AuditRecord(t, 2)
	got, err := s.AppendAudit(ctx, []audit.Record{a, a, b})
	require.NoError(t, err)
	require.Len(t, got, 2, "a record repeated in one batch is stored once")
	got, err = s.AppendAudit(ctx, []audit.Record{b, a})
	require.NoError(t, err)
	require.Empty(t, got, "a redelivered record is not stored again")

	bad := AuditRecord(t, 3)
	bad.Action = "auth.logout"
	_, err = s.AppendAudit(ctx, []audit.Record{AuditRecord(t, 4), bad})
	require.ErrorIs(t, err, audit.ErrInvalid)
	require.Len(t, readChain(t, s), 2, "an invalid record fails the whole batch")
	requireVerified(t, s, 2)
}

func testAuditConcurrent(t *testing.T, s audit.Store) {
	ctx := context.Background()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				recs := []audit.Record{AuditRecord(t, w*1000+i), AuditRecord(t, w*1000+i+500)}
				if _, err := s.AppendAudit(ctx, recs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireVerified(t, s, writers*each*2)
}

func testAuditCheckpoints(t *testing.T, s audit.Store) {
	ctx := context.Background()
	got, err := s.AppendAudit(ctx, []audit.Record{AuditRecord(t, 1), AuditRecord(t, 2)})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	require.NoError(t, s.WriteAuditCheckpoint(ctx, audit.Checkpoint{Seq: 2, Hash: got[1].Hash, Time: now, KeyID: "k1", Signature: []byte{1, 2}}))
	require.NoError(t, s.WriteAuditCheckpoint(ctx, audit.Checkpoint{Seq: 1, Hash: got[0].Hash, Time: now}))
	require.NoError(t, s.WriteAuditCheckpoint(ctx, audit.Checkpoint{Seq: 2, Hash: got[0].Hash, Time: now}), "a second checkpoint at one seq is a no-op")
	require.ErrorIs(t, s.WriteAuditCheckpoint(ctx, audit.Checkpoint{Seq: 3, Hash: []byte{1}, Time: now}), audit.ErrInvalid)
	cps, err := s.AuditCheckpoints(ctx)
	require.NoError(t, err)
	require.Len(t, cps, 2)
	require.Equal(t, int64(1), cps[0].Seq)
	require.Equal(t, audit.Checkpoint{Seq: 2, Hash: got[1].Hash, Time: now, KeyID: "k1", Signature: []byte{1, 2}}, cps[1])
	rep, err := audit.Verify(ctx, s, nil)
	require.NoError(t, err)
	require.Nil(t, rep.Break)
	require.Equal(t, 2, rep.Checkpoints)
}

func testAuditSearch(t *testing.T, s audit.Store) {
	ctx := context.Background()
	var all []audit.Record
	for i := range 30 {
		got, err := s.AppendAudit(ctx, []audit.Record{AuditRecord(t, i)})
		require.NoError(t, err)
		all = append(all, got...)
	}
	// An oracle: the records matching q, newest first.
	expect := func(q audit.Query) []int64 {
		var seqs []int64
		for i := len(all) - 1; i >= 0; i-- {
			if q.Match(all[i]) {
				seqs = append(seqs, all[i].Seq)
			}
		}
		return seqs
	}
	seqsOf := func(p audit.Page) []int64 {
		var out []int64
		for _, r := range p.Items {
			out = append(out, r.Seq)
		}
		return out
	}
	base := all[0].Time
	queries := []audit.Query{
		{},
		{ActorID: "user-3"},
		{ActorKind: audit.ActorUser, Action: audit.ActionRuleAdded},
		{ObjectKind: "video", ObjectID: "4"},
		{ObjectKind: "folder"},
		{From: base.Add(10 * time.Second), To: base.Add(20 * time.Second)},
		{ActorID: "user-1", From: base.Add(5 * time.Second)},
	}
	for _, q := range queries {
		want := expect(q)
		// Page through with a small limit; the pages must add up to the oracle.
		q.Limit = 4
		var got []int64
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20)
			p, err := s.SearchAudit(ctx, q)
			require.NoError(t, err)
			require.LessOrEqual(t, len(p.Items), 4)
			got = append(got, seqsOf(p)...)
			if p.Next == 0 {
				break
			}
			q.Before = p.Next
		}
		require.Equal(t, want, got, "query %+v", q)
	}
	p, err := s.SearchAudit(ctx, audit.Query{ActorID: "user-2", Limit: 1})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	last := all[len(all)-1]
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].ActorID == "user-2" {
			last = all[i]
			break
		}
	}
	require.Equal(t, last, p.Items[0], "search returns the stored record, chain fields included")

	for _, q := range []audit.Query{{Limit: 1001}, {Action: "nope"}, {Before: -1}, {ActorKind: "robot"}} {
		_, err := s.SearchAudit(ctx, q)
		require.ErrorIs(t, err, audit.ErrInvalid, "%+v", q)
	}
}
