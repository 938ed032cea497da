package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/storetest"
)

func TestAuditStore(t *testing.T) {
	storetest.TestAuditStore(t, func(t *testing.T) audit.Store { return open(t) })
}

// TestAuditLogIsAppendOnly: the database itself refuses to change or remove
// audit records and checkpoints.
func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	got, err := s.AppendAudit(ctx, []audit.Record{storetest.AuditRecord(t, 1)})
	require.NoError(t, err)
	require.NoError(t, s.WriteAuditCheckpoint(ctx, audit.Checkpoint{Seq: 1, Hash: got[0].Hash, Time: time.Now()}))
	for _, sql := range []string{
		`UPDATE audit_logs SET actor = 'mallory'`,
		`DELETE FROM audit_logs`,
		`TRUNCATE audit_logs`,
		`UPDATE audit_checkpoints SET seq = 2`,
		`DELETE FROM audit_checkpoints`,
		`TRUNCATE audit_checkpoints`,
	} {
		_, err := s.Pool().Exec(ctx, sql)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, sql)
		require.Equal(t, "42501", pgErr.Code, sql)
	}
	rep, err := audit.Verify(ctx, s, nil)
	require.NoError(t, err)
	require.Nil(t, rep.Break)
	require.Equal(t, int64(1), rep.Records)
}

// tamperedChain returns a store holding a chain of n records with a
// checkpoint at its head, and a function that runs SQL as a superuser with
// the append-only triggers off.
func tamperedChain(t *testing.T, n int) (*pgstore.Store, []audit.Record, func(sql string, args ...any)) {
	t.Helper()
	ctx := context.Background()
	s := open(t)
	recs := make([]audit.Record, n)
	for i := range recs {
		recs[i] = storetest.AuditRecord(t, i)
	}
	got, err := s.AppendAudit(ctx, recs)
	require.NoError(t, err)
	require.Len(t, got, n)
	require.NoError(t, s.WriteAuditCheckpoint(ctx, audit.Checkpoint{Seq: int64(n), Hash: got[n-1].Hash, Time: time.Now()}))
	exec := func(sql string, args ...any) {
		t.Helper()
		conn, err := s.Pool().Acquire(ctx)
		require.NoError(t, err)
		defer conn.Release()
		_, err = conn.Exec(ctx, `SET session_replication_role = replica`)
		require.NoError(t, err)
		defer conn.Exec(ctx, `SET session_replication_role = DEFAULT`) //nolint:errcheck // the connection is released anyway
		_, err = conn.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	return s, got, exec
}

// TestAuditVerifyNamesTheFirstTamperedRecord: a superuser who switches the
// triggers off and edits, deletes, reorders, inserts or truncates is caught,
// and verify names the first bad record every time.
func TestAuditVerifyNamesTheFirstTamperedRecord(t *testing.T) {
	const n = 20
	cases := []struct {
		name   string
		tamper func(t *testing.T, chain []audit.Record, exec func(string, ...any))
		seq    int64
		kind   audit.BreakKind
	}{
		{"Untouched", func(*testing.T, []audit.Record, func(string, ...any)) {}, 0, ""},
		{"EditDetails", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`UPDATE audit_logs SET details = '{"n":"forged"}' WHERE seq = 7`)
		}, 7, audit.BreakModified},
		{"EditActor", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`UPDATE audit_logs SET actor = 'mallory' WHERE seq = 12`)
		}, 12, audit.BreakModified},
		{"EditTimeByOneMicrosecond", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`UPDATE audit_logs SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 3`)
		}, 3, audit.BreakModified},
		{"EditPrevHash", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`UPDATE audit_logs SET prev_hash = hash WHERE seq = 9`)
		}, 9, audit.BreakModified},
		{"EditAndRehash", func(t *testing.T, chain []audit.Record, exec func(string, ...any)) {
			r := chain[4] // seq 5
			r.ActorID = "mallory"
			exec(`UPDATE audit_logs SET actor = $1, hash = $2 WHERE seq = 5`, r.ActorID, audit.ComputeHash(r.PrevHash, r))
		}, 5, audit.BreakModified}, // 5 hashes right, but 6 links to its old hash
		{"DeleteMiddle", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`DELETE FROM audit_logs WHERE seq IN (7, 8)`)
		}, 7, audit.BreakDeleted},
		{"DeleteFirst", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`DELETE FROM audit_logs WHERE seq = 1`)
		}, 1, audit.BreakDeleted},
		{"Reorder", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`UPDATE audit_logs SET seq = 1000008 WHERE seq = 8`)
			exec(`UPDATE audit_logs SET seq = 8 WHERE seq = 9`)
			exec(`UPDATE audit_logs SET seq = 9 WHERE seq = 1000008`)
		}, 8, audit.BreakReordered},
		{"InsertForged", func(t *testing.T, chain []audit.Record, exec func(string, ...any)) {
			// A record correctly hashed after seq 10, shifting the rest up.
			exec(`UPDATE audit_logs SET seq = seq + 1000000 WHERE seq > 10`)
			exec(`UPDATE audit_logs SET seq = seq - 999999 WHERE seq > 1000000`)
			f := audit.Link(chain[9].Seq, chain[9].Hash, storetest.AuditRecord(t, 99))
			exec(`INSERT INTO audit_logs (seq, event_id, occurred_at, actor_kind, actor, action, object_kind, object_id, outcome, request_id, details, prev_hash, hash)
				VALUES (11, $1, $2, 'user', $3, $4, 'video', $5, 'ok', $6, $7, $8, $9)`,
				f.ID, f.Time, f.ActorID, string(f.Action), f.ObjectID, f.RequestID, f.Details, f.PrevHash, f.Hash)
		}, 11, audit.BreakInserted},
		{"AppendForgedAfterHead", func(t *testing.T, chain []audit.Record, exec func(string, ...any)) {
			// Correctly linked and hashed after the last record: only the
			// writer's head tells it apart.
			f := audit.Link(chain[n-1].Seq, chain[n-1].Hash, storetest.AuditRecord(t, 98))
			exec(`INSERT INTO audit_logs (seq, event_id, occurred_at, actor_kind, actor, action, object_kind, object_id, outcome, request_id, details, prev_hash, hash)
				VALUES ($1, $2, $3, 'user', $4, $5, 'video', $6, 'ok', $7, $8, $9, $10)`,
				f.Seq, f.ID, f.Time, f.ActorID, string(f.Action), f.ObjectID, f.RequestID, f.Details, f.PrevHash, f.Hash)
		}, n + 1, audit.BreakInserted},
		{"TruncateTail", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`DELETE FROM audit_logs WHERE seq > 15`)
		}, 16, audit.BreakTruncated},
		{"TruncateTable", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`TRUNCATE audit_logs`)
		}, 1, audit.BreakTruncated},
		{"TruncateTailAndHead", func(_ *testing.T, _ []audit.Record, exec func(string, ...any)) {
			exec(`DELETE FROM audit_logs WHERE seq > 17`)
			exec(`UPDATE audit_chain_head SET seq = 17`)
		}, 18, audit.BreakTruncated}, // the checkpoint still says 20
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, chain, exec := tamperedChain(t, n)
			tc.tamper(t, chain, exec)
			rep, err := audit.Verify(context.Background(), s, nil)
			require.NoError(t, err)
			if tc.kind == "" {
				require.Nil(t, rep.Break)
				require.Equal(t, int64(n), rep.Records)
				require.Equal(t, 1, rep.Checkpoints)
				return
			}
			require.NotNil(t, rep.Break, "tampering must be detected")
			require.Equal(t, tc.seq, rep.Break.Seq, rep.Break.String())
			require.Equal(t, tc.kind, rep.Break.Kind, rep.Break.String())
			require.Equal(t, tc.kind == audit.BreakTruncated, rep.Truncated)
		})
	}
}

func TestAuditedRuleStore(t *testing.T) {
	storetest.TestAuditedRuleStore(t, func(t *testing.T) storetest.AuditedRuleStore { return open(t) })
}
