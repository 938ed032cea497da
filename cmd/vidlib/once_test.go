package main

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestSyncOnceNeedsVimeoAndPostgresOnly runs `vidlib sync --once` with only
// the Vimeo (a fake account) and PostgreSQL settings: no Kafka, Redis or
// webhook secret. It mirrors the account, and the change events it wrote
// wait in the outbox for a relay.
func TestSyncOnceNeedsVimeoAndPostgresOnly(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 5, Folders: 4, Videos: 20})
	require.NoError(t, err)
	fake := vimeotest.Start(t, acct, nil)
	for _, k := range []string{"VIDLIB_KAFKA_BROKERS", "VIDLIB_REDIS_URL", "VIDLIB_VIMEO_WEBHOOK_SECRETS", "VIDLIB_VIMEO_WEBHOOK_SECRETS_FILE"} {
		t.Setenv(k, "") // whatever the environment holds: not read
	}
	t.Setenv("VIDLIB_POSTGRES_URL", dsn)
	t.Setenv("VIDLIB_VIMEO_TOKEN", fake.Token())
	t.Setenv("VIDLIB_VIMEO_BASE_URL", fake.URL())
	t.Setenv("VIDLIB_VIMEO_ROOT_FOLDER_ID", strconv.FormatInt(root, 10))
	t.Setenv("VIDLIB_LOG_LEVEL", "warn")

	var out, errb bytes.Buffer
	code := run(ctx, []string{"sync", "--once", "--reconcile-calls-per-minute", "600"}, &out, &errb)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errb.String())
	require.Contains(t, out.String(), "reconciled: run ")

	st, err := pgstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	defer st.Close()
	snap, err := acct.Snapshot(root, "", "")
	require.NoError(t, err)
	var videos, folders, unsent int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM videos WHERE deleted_at IS NULL`).Scan(&videos))
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM folders WHERE deleted_at IS NULL`).Scan(&folders))
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent))
	require.Equal(t, len(snap.Videos), videos, "every video under the root mirrored")
	require.Equal(t, len(snap.Folders), folders)
	require.Positive(t, unsent, "the change events wait for a relay")
}
