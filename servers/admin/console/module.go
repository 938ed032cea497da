package console

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/config"
)

// FromConfig returns the console's Options for a process configured by cfg
// whose admin server trusts the given issuers, or nil when the console is
// off: --console=false, or no Cognito user pool among the issuers (the
// console signs in with the user pool's hosted UI; the demo's local issuer
// stands in for one). IsAdmin is left to the caller (admin.Service.IsAdmin).
//
// Without a configured session key it draws a random one and logs a
// warning: sessions then end with the process and do not span instances.
func FromConfig(cfg *config.Config, trusted []auth.Issuer, log *zap.Logger) (*Options, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if !cfg.Console.Enabled {
		return nil, nil
	}
	i := slices.IndexFunc(trusted, func(is auth.Issuer) bool { return is.Kind == auth.Cognito })
	if i < 0 {
		return nil, nil
	}
	is := trusted[i]
	o := &Options{Issuer: is.URL, ClientID: cfg.Console.ClientID, ClientSecret: cfg.Console.ClientSecret.Value(),
		RedirectURL: cfg.Console.RedirectURL, Logger: log}
	if o.ClientID == "" && len(is.ClientIDs) > 0 {
		o.ClientID = is.ClientIDs[0]
	}
	if !slices.Contains(is.ClientIDs, o.ClientID) {
		return nil, fmt.Errorf("%w: console client id %q is not an app client of the user pool %s (%s)", ErrInvalid, o.ClientID, is.URL, config.Env("cognito-client-ids"))
	}
	key, err := cfg.Console.SessionKeyBytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, config.Env("console-session-key"), err)
	}
	if key == nil {
		key = make([]byte, config.SessionKeySize)
		_, _ = rand.Read(key)
		log.Warn("console: no session key configured (VIDLIB_CONSOLE_SESSION_KEY or VIDLIB_CONSOLE_SESSION_KEY_FILE): " +
			"using a random key, so console sessions end when this process restarts and are not valid on other instances")
	}
	o.SessionKey = key
	return o, nil
}

// Module provides the console as the http.Handler named "admin_console",
// to be served at / of the admin server next to the JSON API, when *Options
// are provided (FromConfig); without them, or with nil Options, the handler
// is nil (no console). It needs the *admin.Service (whose IsAdmin decides
// who may use the console unless Options.IsAdmin is set) and an
// admin.Authenticator; *zap.Logger is optional.
var Module = fx.Module("admin_console", fx.Provide(newFromModule))

type moduleParams struct {
	fx.In
	Service *admin.Service
	Authn   admin.Authenticator
	Opts    *Options    `optional:"true"`
	Logger  *zap.Logger `optional:"true"`
}

type moduleOut struct {
	fx.Out
	Handler http.Handler `name:"admin_console"`
}

func newFromModule(p moduleParams) (moduleOut, error) {
	if p.Opts == nil {
		return moduleOut{}, nil
	}
	o := *p.Opts
	if o.IsAdmin == nil {
		o.IsAdmin = p.Service.IsAdmin
	}
	if o.Logger == nil {
		o.Logger = p.Logger
	}
	c, err := New(p.Service, p.Authn, &o)
	if err != nil {
		return moduleOut{}, err
	}
	return moduleOut{Handler: c}, nil
}
