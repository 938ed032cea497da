package api

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/ops"
)

// Module provides the API *Server and runs it: it listens in OnStart and
// shuts down gracefully in OnStop. It needs a *library.Service and an
// Authenticator; *Options and *zap.Logger are optional.
var Module = fx.Module("api",
	fx.Provide(newServer),
	fx.Invoke(func(*Server) {}),
)

// LibraryModule provides a *library.Service over a library.Store and keeps
// it current (Service.Run) between OnStart and OnStop. *library.Options and
// *zap.Logger are optional. OnStart does not wait for the first snapshot:
// /readyz says when it is loaded.
var LibraryModule = fx.Module("library",
	fx.Provide(newLibrary),
)

type serverParams struct {
	fx.In
	LC     fx.Lifecycle
	Lib    *library.Service
	Authn  Authenticator
	Opts   *Options    `optional:"true"`
	Logger *zap.Logger `optional:"true"`
}

func newServer(p serverParams) (*Server, error) {
	var o Options
	if p.Opts != nil {
		o = *p.Opts
	}
	if o.Logger == nil {
		o.Logger = p.Logger
	}
	s, err := New(p.Lib, p.Authn, &o)
	if err != nil {
		return nil, err
	}
	p.LC.Append(fx.Hook{
		OnStart: s.Start,
		OnStop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, s.opts.ShutdownTimeout)
			defer cancel()
			return s.Shutdown(ctx)
		},
	})
	return s, nil
}

type libraryParams struct {
	fx.In
	LC     fx.Lifecycle
	Store  library.Store
	Opts   *library.Options `optional:"true"`
	Logger *zap.Logger      `optional:"true"`
}

func newLibrary(p libraryParams) (*library.Service, error) {
	var o library.Options
	if p.Opts != nil {
		o = *p.Opts
	}
	if o.Logger == nil {
		o.Logger = p.Logger
	}
	lib, err := library.New(p.Store, &o)
	if err != nil {
		return nil, err
	}
	ops.RunWhileStarted(p.LC, lib.Run)
	return lib, nil
}
