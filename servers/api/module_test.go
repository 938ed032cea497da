package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
)

func TestModuleValidates(t *testing.T) {
	require.NoError(t, fx.ValidateApp(
		api.LibraryModule, api.Module,
		fx.Provide(
			func() library.Store { return memstore.New() },
			func() api.Authenticator { return nil },
		),
	))
	// Without an Authenticator the graph is incomplete.
	require.Error(t, fx.ValidateApp(api.LibraryModule, api.Module,
		fx.Provide(func() library.Store { return memstore.New() })))
}

func TestModuleLifecycle(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	is, as := newAuth(t, st)
	var srv *api.Listener
	var lib *library.Service
	app := fxtest.New(t,
		api.LibraryModule, api.Module,
		fx.Provide(
			func() library.Store { return st },
			func() api.Authenticator { return as },
			func() *api.Options { return &api.Options{Addr: "127.0.0.1:0"} },
			func() *library.Options { return &library.Options{PollInterval: -1} },
		),
		fx.Populate(&srv, &lib),
	)
	app.RequireStart()
	require.NoError(t, lib.WaitReady(ctx))
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.Addr()+"/library/home", nil)
	req.Header.Set("Authorization", "Bearer "+is.IDToken(uCarol))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, string(b))
	app.RequireStop()
	_, err = http.Get("http://" + srv.Addr() + "/healthz")
	require.Error(t, err, "the listener is closed after OnStop")
}
