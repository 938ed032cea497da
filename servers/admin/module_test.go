package admin_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/store/memstore"
)

func TestModules(t *testing.T) {
	st := memstore.New()
	require.NoError(t, librarytest.Seed(context.Background(), st))
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(context.Background()))
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x", ClientIDs: []string{"c"}}}, nil)
	require.NoError(t, err)
	authn, err := auth.New(v, st, nopAuthAuditor{}, nil)
	require.NoError(t, err)
	bus := admin.NewLocalCache()
	opts := fx.Options(
		fx.Supply(fx.Annotate(st, fx.As(new(admin.Store))), fx.Annotate(authn, fx.As(new(admin.Authenticator)))),
		fx.Supply(fx.Annotate(lib, fx.As(new(admin.InstanceLibrary))), fx.Annotate(bus, fx.As(new(admin.CacheBus)))),
		fx.Supply(&admin.Options{Cache: bus}, &admin.AgentOptions{ID: "one"}),
		admin.Module, admin.AgentModule,
	)
	require.NoError(t, fx.ValidateApp(opts))

	var api *admin.API
	app := fxtest.New(t, opts, fx.Populate(&api))
	app.RequireStart()
	require.NotNil(t, api.Handler())
	// The agent started with the app reports on the shared bus.
	require.Eventually(t, func() bool {
		in, err := bus.Instances(context.Background())
		return err == nil && len(in) == 1 && in[0].ID == "one" && in[0].Ready
	}, 5*time.Second, 10*time.Millisecond)
	app.RequireStop()
}
