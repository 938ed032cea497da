package compose

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
)

// provideChat assembles the HubSpot chat context when --hubspot-chat is
// on (nil otherwise): tokens shared through Redis when it is configured,
// each generation recorded in the store and, with --audit-chat-context,
// audited; the contact-property updater runs between start and stop.
func provideChat(cfg *config.Config, r optionalRedis, a *audit.Recorder, b Backend, lc fx.Lifecycle, log *zap.Logger) (*api.Chat, error) {
	h := cfg.HubSpot
	if !h.Chat {
		return nil, nil
	}
	cc := api.ChatConfig{
		Token: h.Token.Value(), BaseURL: h.BaseURL, PortalID: h.PortalID, BurstPer10s: h.BurstPer10s, Timeout: h.Timeout,
		ContactProperties: h.ContactProperties, ContactDebounce: h.ContactDebounce, PagePath: h.PagePath, PageOrigin: h.PageOrigin,
		Records: api.ChatRecords(b), Logger: log,
	}
	if r.RS != nil {
		cc.TokenStore = api.RedisTokenStore(r.RS)
	}
	if h.Audit {
		cc.Audit = a.ChatContexts()
	}
	chat, err := api.NewChat(cc)
	if err != nil {
		return nil, err
	}
	if chat.Updater != nil {
		ops.RunWhileStarted(lc, func(ctx context.Context) error {
			chat.Run(ctx) // flushes what is pending when ctx ends
			return nil
		})
	}
	return chat, nil
}
