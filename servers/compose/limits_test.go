package compose

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/vimeo"
)

type noShutdown struct{}

func (noShutdown) Shutdown(...fx.ShutdownOption) error { return nil }

// TestSyncServerLimits: the sync server as wired carries the --http-*
// settings: a client trickling a webhook body is disconnected once
// http-read-timeout has passed, a 1 MB header gets 431, and errors are JSON.
func TestSyncServerLimits(t *testing.T) {
	cfg := config.Default()
	cfg.Listen.Sync = "127.0.0.1:0"
	cfg.HTTP.ReadTimeout = 300 * time.Millisecond
	v, err := vimeo.NewWebhookVerifier("secret", nil)
	require.NoError(t, err)
	bus, err := membus.New(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	in, err := syncworker.NewIntake(v, memstore.New(), bus, nil)
	require.NoError(t, err)
	m, err := ops.NewMetrics(ops.NewRegistry(), nil)
	require.NoError(t, err)
	tr, err := ops.NewTracing(context.Background(), nil)
	require.NoError(t, err)
	lc := fxtest.NewLifecycle(t)
	srv := provideSyncServer(syncServerParams{Cfg: cfg, LC: lc, SD: noShutdown{}, Log: zap.NewNop(), Intake: in, Verifier: v,
		Metrics: m, Tracing: tr, Health: ops.NewHealth(nil)})
	lc.RequireStart()
	t.Cleanup(lc.RequireStop)
	addr := srv.Addr()

	// A slow body on the webhook route.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "POST "+syncworker.WebhookPath+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"webhook_type\":")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, _ = io.Copy(io.Discard, conn) // until the server hangs up
	require.Less(t, time.Since(start), 5*time.Second, "disconnected soon after the 300 ms read timeout")

	// A 1 MB header.
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+syncworker.WebhookPath, strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("a", 1<<20))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	// JSON 404 and 405; HEAD on a GET route.
	for path, want := range map[string]struct {
		status int
		code   string
	}{
		"/nothing":             {http.StatusNotFound, "not_found"},
		syncworker.WebhookPath: {http.StatusMethodNotAllowed, "method_not_allowed"},
	} {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		var body struct{ Error struct{ Code string } }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		require.Equal(t, want.status, resp.StatusCode, path)
		require.Equal(t, want.code, body.Error.Code, path)
	}
	resp, err = http.Head("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
