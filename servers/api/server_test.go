package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/servers/api"
)

// TestStartSetsAddr: Addr is usable as soon as Start returns, and a Shutdown
// right after Start stops the server (both used to wait for the Serve
// goroutine to run).
func TestStartSetsAddr(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, false, &api.Options{Addr: "127.0.0.1:0", RateLimit: -1}, nil)
	require.Empty(t, e.srv.Addr(), "not listening yet")
	require.NoError(t, e.srv.Start(ctx))
	addr := e.srv.Addr()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, "Addr right after Start: %q", addr)
	require.Equal(t, "127.0.0.1", host)
	require.NotEqual(t, "0", port, "the port the listener picked, not the configured one")

	res, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, string(b))

	require.ErrorIs(t, e.srv.Start(ctx), api.ErrInvalid, "already serving")
	require.Equal(t, addr, e.srv.Addr())

	require.NoError(t, e.srv.Shutdown(ctx))
	_, err = http.Get("http://" + addr + "/healthz")
	require.Error(t, err, "shut down")
}

// TestShutdownRightAfterStart: a Shutdown that follows Start at once stops
// the server; before the fix it could find no server yet and leave it running.
func TestShutdownRightAfterStart(t *testing.T) {
	ctx := context.Background()
	for range 10 {
		e := newEnv(t, false, &api.Options{Addr: "127.0.0.1:0", RateLimit: -1}, nil)
		require.NoError(t, e.srv.Start(ctx))
		addr := e.srv.Addr()
		require.NotEmpty(t, addr)
		require.NoError(t, e.srv.Shutdown(ctx))
		_, err := http.Get("http://" + addr + "/healthz")
		require.Error(t, err, "shut down right after Start")
	}
}
