package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
)

// TestAuditVerify: clean log → exit 0 and "OK"; a row changed by a
// superuser → exit 1 naming its seq; a checkpoint signed by another key →
// exit 1.
func TestAuditVerify(t *testing.T) {
	ctx := context.Background()
	code, _, errOut := vidlib(t, "audit")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "verify")

	dsn := testenv.PostgresURL(t)
	st, err := pgstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	var recs []audit.Record
	for i := range 5 {
		id, err := audit.NewID()
		require.NoError(t, err)
		recs = append(recs, audit.Record{ID: id, Time: time.Now(), ActorKind: audit.ActorAdmin, ActorID: "a",
			Action: audit.ActionVideoHide, ObjectKind: "video", ObjectID: fmt.Sprint(i), Outcome: audit.OutcomeOK})
	}
	got, err := st.AppendAudit(ctx, recs)
	require.NoError(t, err)
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, st.WriteAuditCheckpoint(ctx, audit.Checkpoint{Seq: 5, Hash: got[4].Hash, Time: time.Now()}.Sign("k", key)))

	pubArg := base64.StdEncoding.EncodeToString(pub)
	code, out, errOut := vidlib(t, "audit", "verify", "--postgres-url", dsn, "--public-key", pubArg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "records:     5")
	require.Contains(t, out, "OK, the chain is intact")

	other, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	code, out, _ = vidlib(t, "audit", "verify", "--postgres-url", dsn, "--public-key", base64.StdEncoding.EncodeToString(other))
	require.Equal(t, 1, code)
	require.Contains(t, out, "BROKEN at seq 5 (checkpoint)")

	conn, err := st.Pool().Acquire(ctx)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE audit_logs SET actor = 'mallory' WHERE seq = 3`)
	require.NoError(t, err)
	conn.Release()
	code, out, errOut = vidlib(t, "audit", "verify", "--postgres-url", dsn)
	require.Equal(t, 1, code)
	require.Contains(t, out, "BROKEN at seq 3 (modified)")
	require.Contains(t, errOut, "does not verify")
}
