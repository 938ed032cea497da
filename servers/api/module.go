package api

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/ops"
)

// Module provides the API *Server and its *Listener, an ops.HTTPServer on
// Options.Addr: it listens in OnStart and drains in-flight requests in
// OnStop, within the application's stop timeout. It needs a
// *library.Service and an Authenticator; *Options, *ops.HTTPServerOptions
// (timeouts, limits, metrics, tracing, access log) and *zap.Logger are
// optional. vidlib's own servers are composed by servers/compose, with the
// same listener.
var Module = fx.Module("api",
	fx.Provide(newServer),
	fx.Invoke(func(*Listener) {}),
)

// Listener is the API's listener in Module.
type Listener struct{ *ops.HTTPServer }

// LibraryModule provides a *library.Service over a library.Store and keeps
// it current (Service.Run) between OnStart and OnStop. *library.Options and
// *zap.Logger are optional. OnStart does not wait for the first snapshot:
// /readyz says when it is loaded.
var LibraryModule = fx.Module("library",
	fx.Provide(newLibrary),
)

type serverParams struct {
	fx.In
	LC       fx.Lifecycle
	Lib      *library.Service
	Authn    Authenticator
	Opts     *Options               `optional:"true"`
	HTTPOpts *ops.HTTPServerOptions `optional:"true"`
	Logger   *zap.Logger            `optional:"true"`
}

func newServer(p serverParams) (*Server, *Listener, error) {
	var o Options
	if p.Opts != nil {
		o = *p.Opts
	}
	if o.Logger == nil {
		o.Logger = p.Logger
	}
	s, err := New(p.Lib, p.Authn, &o)
	if err != nil {
		return nil, nil, err
	}
	var ho ops.HTTPServerOptions
	if p.HTTPOpts != nil {
		ho = *p.HTTPOpts
	}
	if ho.Logger == nil {
		ho.Logger = p.Logger
	}
	l := &Listener{ops.NewHTTPServer("api", s.opts.Addr, s.Handler(), &ho)}
	ops.RegisterHTTPServer(p.LC, l.HTTPServer)
	return s, l, nil
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
