package main

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/config"
)

// provideChat assembles the HubSpot chat context when --hubspot-chat is
// on (nil otherwise): tokens shared through Redis when it is configured,
// each generation recorded in the store and, with --audit-chat-context,
// audited; the contact-property updater runs with the process.
func provideChat(cfg *config.Config, r optionalRedis, a *audit.Recorder, b backend, lc fx.Lifecycle, log *zap.Logger) (*api.Chat, error) {
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
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				go func() { defer close(done); chat.Run(ctx) }()
				return nil
			},
			OnStop: func(stop context.Context) error {
				cancel() // Run flushes what is pending
				select {
				case <-done:
				case <-stop.Done():
				}
				return nil
			},
		})
	}
	return chat, nil
}
