package admin

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/servers/ops"
)

// Module provides the admin *Service and *API. It needs a Store and an
// Authenticator; *Options and *zap.Logger are optional. The process serves
// API.Handler (servers/compose serves it in an ops.HTTPServer, which adds
// request ids, the access log, metrics and tracing).
var Module = fx.Module("admin",
	fx.Provide(newService, NewAPI),
)

// AgentModule runs an Agent next to an API instance's library between
// OnStart and OnStop. It needs an InstanceLibrary and a CacheBus;
// *AgentOptions and *zap.Logger are optional.
var AgentModule = fx.Module("admin_agent",
	fx.Provide(newAgent),
	fx.Invoke(func(*Agent) {}),
)

type serviceParams struct {
	fx.In
	Store  Store
	Opts   *Options    `optional:"true"`
	Logger *zap.Logger `optional:"true"`
}

func newService(p serviceParams) (*Service, error) {
	var o Options
	if p.Opts != nil {
		o = *p.Opts
	}
	if o.Logger == nil {
		o.Logger = p.Logger
	}
	return New(p.Store, &o)
}

type agentParams struct {
	fx.In
	LC     fx.Lifecycle
	Lib    InstanceLibrary
	Bus    CacheBus
	Opts   *AgentOptions `optional:"true"`
	Logger *zap.Logger   `optional:"true"`
}

func newAgent(p agentParams) (*Agent, error) {
	var o AgentOptions
	if p.Opts != nil {
		o = *p.Opts
	}
	if o.Logger == nil {
		o.Logger = p.Logger
	}
	ag, err := NewAgent(p.Lib, p.Bus, &o)
	if err != nil {
		return nil, err
	}
	ops.RunWhileStarted(p.LC, ag.Run)
	return ag, nil
}
