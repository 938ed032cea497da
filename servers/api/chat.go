package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/redisstore"
)

// chatContext is GET /videos/{id}/chat-context: never stored by caches
// (it carries a token).
func (s *Server) chatContext(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	b, err := s.lib.ChatContextJSON(r.Context(), v, idParam(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeBody(w, r, b, cacheNone)
}

// RedisTokenStore shares HubSpot identification tokens across instances
// through Redis (hubspot:token:{user}, locked by hubspot:token-lock:{user}).
func RedisTokenStore(rs *redisstore.Store) hubspot.TokenStore { return redisTokens{rs} }

type redisTokens struct{ rs *redisstore.Store }

func (r redisTokens) GetToken(ctx context.Context, userID string) ([]byte, error) {
	return r.rs.GetChatToken(ctx, userID)
}

func (r redisTokens) SetToken(ctx context.Context, userID string, v []byte, ttl time.Duration) error {
	return r.rs.SetChatToken(ctx, userID, v, ttl)
}

func (r redisTokens) LockToken(ctx context.Context, userID string, ttl time.Duration) (func(), bool, error) {
	return r.rs.LockChatToken(ctx, userID, ttl)
}

// ChatConfig assembles the HubSpot chat context (NewChat).
type ChatConfig struct {
	// Token is the HubSpot private app token or service key (empty: the
	// context carries no identification).
	Token       string
	BaseURL     string // default hubspot.DefaultBaseURL
	PortalID    string
	BurstPer10s int           // default hubspot.DefaultBurstPer10s
	Timeout     time.Duration // a request's wait for a token (default library.DefaultChatTimeout)
	// AttemptTimeout bounds one HubSpot attempt (default 2 s) and
	// MintTimeout one minting, retries included (default 3 s): an attempt
	// that times out counts toward the breaker, so a hanging HubSpot opens
	// it like a failing one.
	AttemptTimeout time.Duration
	MintTimeout    time.Duration
	// ContactProperties also writes the contact's vidlib_last_* properties,
	// at most once per contact per ContactDebounce.
	ContactProperties bool
	ContactDebounce   time.Duration
	PagePath          string
	PageOrigin        string
	// HTTPClient and Clock reach HubSpot (defaults: a fresh client, the
	// wall clock).
	HTTPClient *http.Client
	Clock      hubspot.Clock
	// TokenStore shares tokens across instances (RedisTokenStore; nil: this
	// process only).
	TokenStore hubspot.TokenStore
	// Records and Audit record every generated context.
	Records, Audit library.ChatRecorder
	Logger         *zap.Logger
}

// Chat is the assembled chat context: Options goes into
// library.Options.Chat; Run runs the contact-property updater, if any.
type Chat struct {
	Options *library.ChatOptions
	Client  *hubspot.Client         // nil without a token
	Tokens  *hubspot.Tokens         // nil without a token
	Updater *hubspot.ContactUpdater // nil unless ContactProperties
	log     *zap.Logger
}

// NewChat builds the HubSpot client (one per credential), the per-user
// token cache and, if asked, the contact updater.
func NewChat(c ChatConfig) (*Chat, error) {
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	out := &Chat{Options: &library.ChatOptions{Timeout: c.Timeout, Records: c.Records, Audit: c.Audit,
		PagePath: c.PagePath, PageOrigin: c.PageOrigin, PortalID: c.PortalID}, log: c.Logger}
	if c.Token == "" {
		return out, nil
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 2 * time.Second
	}
	if c.MintTimeout <= 0 {
		c.MintTimeout = hubspot.DefaultMintTimeout
	}
	if c.MintTimeout <= c.AttemptTimeout {
		return nil, fmt.Errorf("%w: the mint timeout %v must exceed the attempt timeout %v", ErrInvalid, c.MintTimeout, c.AttemptTimeout)
	}
	client, err := hubspot.New(c.Token, &hubspot.Options{BaseURL: c.BaseURL, HTTPClient: c.HTTPClient, BurstPer10s: c.BurstPer10s,
		AttemptTimeout: c.AttemptTimeout, Clock: c.Clock, Logger: c.Logger})
	if err != nil {
		return nil, fmt.Errorf("api: hubspot: %w", err)
	}
	tokens, err := hubspot.NewTokens(client, &hubspot.TokensOptions{Store: c.TokenStore, Clock: c.Clock, Logger: c.Logger, MintTimeout: c.MintTimeout,
		AgentContext: func(userID string) map[string]string {
			return map[string]string{"appUserId": userID, "source": "vidlib"}
		}})
	if err != nil {
		return nil, fmt.Errorf("api: hubspot: %w", err)
	}
	out.Client, out.Tokens, out.Options.Tokens = client, tokens, tokens
	if c.ContactProperties {
		out.Updater = hubspot.NewContactUpdater(client, &hubspot.UpdaterOptions{Debounce: c.ContactDebounce, Logger: c.Logger})
		u := out.Updater
		out.Options.ContactUpdate = func(email string, cc *library.ChatContext) {
			u.Update(email, ContactProperties(cc))
		}
	}
	return out, nil
}

// ContactProperties are the vidlib_last_* properties of a chat context.
func ContactProperties(c *library.ChatContext) map[string]string {
	folder := ""
	if n := len(c.Context.FolderPath); n > 0 {
		folder = c.Widget.Query[library.ChatQueryPath]
	}
	reason := ""
	if r := c.Context.RankReason; r != nil {
		reason = r.Text
	}
	return map[string]string{
		hubspot.PropLastVideoID: c.Context.Video.ID, hubspot.PropLastVideoTitle: c.Context.Video.Title,
		hubspot.PropLastFolder: folder, hubspot.PropLastReason: reason,
	}
}

// Run creates the contact properties (best effort) and runs the contact
// updater until ctx is done, then flushes it. Without an updater it
// returns at once.
func (c *Chat) Run(ctx context.Context) {
	if c.Updater == nil {
		return
	}
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := c.Client.EnsureContactProperties(ectx, hubspot.ContactProperties); err != nil {
		// Updates to missing properties fail and are logged; the chat
		// context does not depend on them.
		c.log.Warn("hubspot contact properties not created", zap.Error(err))
	}
	cancel()
	c.Updater.Run(ctx)
}

// ChatContextWriter keeps generated chat contexts: pgstore.Store and
// memstore.Store (hubspot_context).
type ChatContextWriter interface {
	RecordChatContext(ctx context.Context, r hubspot.ContextRecord) error
}

// ChatRecords records the library's chat contexts in w (the one mapping of
// library.ChatRecord to the stored record).
func ChatRecords(w ChatContextWriter) library.ChatRecorder { return chatRecords{w} }

type chatRecords struct{ w ChatContextWriter }

func (c chatRecords) RecordChatContext(ctx context.Context, r library.ChatRecord) error {
	rec := hubspot.ContextRecord{UserID: r.UserID, VideoID: r.VideoID, FolderID: r.FolderID, CreatedAt: r.Time,
		ExpiresAt: r.ExpiresAt, Context: make(map[string]string, len(r.Context)+2)}
	for k, v := range r.Context {
		rec.Context[k] = v
	}
	rec.Context["identification"] = string(r.Status)
	if r.Reason != "" {
		rec.Context["reason"] = r.Reason
	}
	return c.w.RecordChatContext(ctx, rec)
}
