package library

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/rank"
)

// ChatTokens hands out HubSpot visitor identification tokens per user
// (hubspot.Tokens): cached, or minted. An error may have a
// Code() string method naming it for the client ("timeout",
// "circuit_open", "rate_limited", "forbidden", …).
type ChatTokens interface {
	IdentificationToken(ctx context.Context, userID, email, name string) (token string, expiresAt time.Time, err error)
}

// ChatRecord is one generated chat context, as recorded: never the token.
type ChatRecord struct {
	UserID    string
	VideoID   string
	FolderID  string // "" when the video is in no folder the viewer sees
	Time      time.Time
	ExpiresAt time.Time // the token's expiry; zero when none was handed out
	// Status is the identification status (ChatIdentified, ChatNoEmail, …)
	// and Reason why there was no token, if any.
	Status ChatStatus
	Reason string
	// Context is what the record keeps besides: folder path, rank reason.
	Context map[string]string
}

// ChatRecorder records generated chat contexts: the store's hubspot_context
// table (pgstore, memstore), and the audit log (audit.Recorder.ChatContexts).
// It must be durable before it returns nil.
type ChatRecorder interface {
	RecordChatContext(ctx context.Context, rec ChatRecord) error
}

// Defaults of ChatOptions.
const (
	DefaultChatTimeout = 800 * time.Millisecond
	DefaultChatPage    = "/videos/{id}"
)

// ChatOptions switch on ChatContext.
type ChatOptions struct {
	// Tokens identifies viewers to the chat (nil: context without
	// identification, status ChatDisabled).
	Tokens ChatTokens
	// Timeout bounds how long ChatContext waits for a token (default
	// DefaultChatTimeout); past it the answer carries no token and says
	// why. A minting that outlives it carries on for the next request.
	Timeout time.Duration
	// Records and Audit, if set, record every generated context; a
	// failure refuses the answer with ErrUnavailable.
	Records ChatRecorder
	Audit   ChatRecorder
	// PagePath is the app's page of a video, "{id}" standing for the video
	// id (default DefaultChatPage); PageOrigin, if set, makes page_url
	// absolute ("https://app.example.com").
	PagePath   string
	PageOrigin string
	// PortalID is the HubSpot account whose widget the page loads; it is
	// handed to the page with the script's URL.
	PortalID string
	// ContactUpdate, if set, is told of every context with an email, to
	// update the contact's properties for agents (asynchronously: it must
	// not block).
	ContactUpdate func(email string, c *ChatContext)
}

func (o *ChatOptions) withDefaults() (*ChatOptions, error) {
	if o == nil {
		return nil, nil
	}
	r := *o
	if r.Timeout <= 0 {
		r.Timeout = DefaultChatTimeout
	}
	if r.PagePath == "" {
		r.PagePath = DefaultChatPage
	}
	if !strings.HasPrefix(r.PagePath, "/") || !strings.Contains(r.PagePath, "{id}") {
		return nil, fmt.Errorf("%w: chat page path %q must start with / and hold {id}", ErrInvalid, r.PagePath)
	}
	if r.PageOrigin != "" {
		u, err := url.Parse(r.PageOrigin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("%w: chat page origin %q", ErrInvalid, r.PageOrigin)
		}
		r.PageOrigin = strings.TrimSuffix(r.PageOrigin, "/")
	}
	return &r, nil
}

// ChatStatus says whether the chat context identifies the viewer.
type ChatStatus string

// Identification statuses.
const (
	ChatIdentified  ChatStatus = "identified"  // email and token are set
	ChatNoEmail     ChatStatus = "no_email"    // the viewer has no email: context only
	ChatUnavailable ChatStatus = "unavailable" // HubSpot did not give a token in time; Reason says why
	ChatDisabled    ChatStatus = "disabled"    // no identification is configured
)

// ChatIdentification is what the widget needs to identify the visitor.
type ChatIdentification struct {
	Status    ChatStatus `json:"status"`
	Email     string     `json:"email,omitempty"`
	Token     string     `json:"token,omitempty"`
	ExpiresAt time.Time  `json:"expires_at,omitzero"`
	// Reason names why there is no token ("timeout", "circuit_open",
	// "rate_limited", "forbidden", "unauthorized", …); Message says it in
	// words.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ChatUser is the viewer in a chat context.
type ChatUser struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// ChatVideo is the video in a chat context.
type ChatVideo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ChatRankReason is why the viewer's ranked feed holds the video.
type ChatRankReason struct {
	Kind rank.ReasonKind `json:"kind"`
	Text string          `json:"text"`
}

// ChatInfo is the context of a chat: who watches what, where.
type ChatInfo struct {
	User  ChatUser  `json:"user"`
	Video ChatVideo `json:"video"`
	// FolderPath is the breadcrumb down to the video's folder, the folder
	// last; empty for a video in no folder the viewer sees.
	FolderPath []FolderRef     `json:"folder_path"`
	RankReason *ChatRankReason `json:"rank_reason,omitempty"`
}

// HSConversationsSettings is window.hsConversationsSettings for the
// HubSpot chat widget: set it before the widget loads, then call
// window.HubSpotConversations.widget.load().
type HSConversationsSettings struct {
	LoadImmediately     bool   `json:"loadImmediately"`
	IdentificationEmail string `json:"identificationEmail,omitempty"`
	IdentificationToken string `json:"identificationToken,omitempty"`
}

// ChatWidget is ready-to-use widget settings for the page.
type ChatWidget struct {
	Settings HSConversationsSettings `json:"hsConversationsSettings"`
	// PortalID and ScriptURL name the HubSpot account and its widget
	// script (empty when ChatOptions.PortalID is).
	PortalID  string `json:"portal_id,omitempty"`
	ScriptURL string `json:"script_url,omitempty"`
	// PagePath is the video page with the query parameters that chatflow
	// targeting rules can match ("Query parameter is …"); a single-page
	// app sets it (history.replaceState, _hsq setPath) and calls
	// widget.refresh(). PageURL is it made absolute (ChatOptions.PageOrigin).
	PagePath string            `json:"page_path"`
	PageURL  string            `json:"page_url,omitempty"`
	Query    map[string]string `json:"query"`
}

// ChatContext is GET /videos/{id}/chat-context.
type ChatContext struct {
	Identification ChatIdentification `json:"identification"`
	Context        ChatInfo           `json:"context"`
	Widget         ChatWidget         `json:"widget"`
	GeneratedAt    time.Time          `json:"generated_at"`
}

// Query parameters of ChatWidget.PagePath.
const (
	ChatQueryVideo  = "vidlib_video"
	ChatQueryFolder = "vidlib_folder"
	ChatQueryPath   = "vidlib_folder_path"
	ChatQueryReason = "vidlib_reason"
)

// ChatEnabled reports whether ChatContext is configured (Options.Chat).
func (s *Service) ChatEnabled() bool { return s.opts.Chat != nil }

// ErrChatDisabled: ChatContext without Options.Chat.
var ErrChatDisabled = fmt.Errorf("%w: chat context is not configured", ErrNotFound)

// ChatContext returns the HubSpot chat context of a video for the viewer,
// after the same access check as Playback (ErrNotFound when the viewer may
// not see the video). The identification comes from Options.Chat.Tokens
// within Chat.Timeout: when HubSpot is slow or down the answer carries the
// context and no token, and says why; a viewer without email gets the
// context without identification. Each generated context is recorded
// (Chat.Records, Chat.Audit) before it is returned.
func (s *Service) ChatContext(ctx context.Context, v Viewer, videoID string) (*ChatContext, error) {
	co := s.opts.Chat
	if co == nil {
		return nil, ErrChatDisabled
	}
	st, vn, view, err := s.checkVideo(v, videoID, true)
	if aerr := s.auditAccess(ctx, "chat_context", v, videoID, err); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	c := &ChatContext{GeneratedAt: now.UTC()}
	c.Context.User = ChatUser{ID: v.UserID, Email: v.Email, Name: v.Name}
	c.Context.Video = ChatVideo{ID: vn.v.VimeoID, Title: vn.v.Title}
	c.Context.FolderPath = []FolderRef{}
	f := visibleFolder(vn, view)
	if f != nil {
		c.Context.FolderPath = f.appendCrumbs(c.Context.FolderPath)
		if !f.root {
			c.Context.FolderPath = append(c.Context.FolderPath, f.ref)
		}
	}
	// The rank reason, when the viewer's stored feed holds the video.
	// Read through the feed cache, like GET /feed: with the feed kept in
	// process this costs no Redis read and no decode.
	sf, ferr := s.storedFeed(ctx, st, v.UserID)
	if ferr != nil {
		s.log.Debug("chat context without rank reason", zap.String("user_id", v.UserID), zap.Error(ferr))
	}
	if sf != nil {
		for i := range sf.items {
			if it := &sf.items[i]; it.vn == vn {
				r := it.reason().In(view)
				c.Context.RankReason = &ChatRankReason{Kind: r.Kind, Text: r.Text(st.snap, view)}
				break
			}
		}
	}
	c.Identification = s.identify(ctx, co, v)
	c.Widget = chatWidget(co, c, f)
	if err := s.recordChat(ctx, co, v, c, f); err != nil {
		return nil, err
	}
	if co.ContactUpdate != nil && v.Email != "" {
		co.ContactUpdate(v.Email, c)
	}
	return c, nil
}

// ChatContextJSON is ChatContext encoded.
func (s *Service) ChatContextJSON(ctx context.Context, v Viewer, videoID string) (*Body, error) {
	c, err := s.ChatContext(ctx, v, videoID)
	if err != nil {
		return nil, err
	}
	return encode(c)
}

// chatMessages are the words for the reasons a token is missing.
var chatMessages = map[string]string{
	"timeout":       "HubSpot did not answer in time; the chat works without identification",
	"circuit_open":  "HubSpot is failing; identification is paused for a while",
	"unavailable":   "HubSpot could not be reached",
	"rate_limited":  "HubSpot's rate limit is reached; try again shortly",
	"daily_limit":   "HubSpot's daily API limit is reached",
	"unauthorized":  "HubSpot refused the app's credentials (check the token)",
	"forbidden":     "HubSpot refused visitor identification (a missing scope, or an account below Professional)",
	"validation":    "HubSpot refused the visitor's email",
	"server_error":  "HubSpot answered with a server error",
	"bad_response":  "HubSpot answered with something unreadable",
	"not_found":     "HubSpot does not know the endpoint (check the base URL)",
	"store":         "the token cache failed",
	"invalid_email": "the viewer's email cannot identify a chat visitor",
}

func (s *Service) identify(ctx context.Context, co *ChatOptions, v Viewer) ChatIdentification {
	if co.Tokens == nil {
		return ChatIdentification{Status: ChatDisabled}
	}
	if strings.TrimSpace(v.Email) == "" {
		return ChatIdentification{Status: ChatNoEmail}
	}
	tctx, cancel := context.WithTimeout(ctx, co.Timeout)
	defer cancel()
	tok, exp, err := co.Tokens.IdentificationToken(tctx, v.UserID, v.Email, v.Name)
	if err == nil {
		return ChatIdentification{Status: ChatIdentified, Email: v.Email, Token: tok, ExpiresAt: exp.UTC()}
	}
	reason := "unavailable"
	var coded interface{ Code() string }
	switch {
	case errors.As(err, &coded):
		reason = coded.Code()
	case errors.Is(err, context.DeadlineExceeded):
		reason = "timeout"
	}
	if reason == "invalid_argument" {
		reason = "invalid_email"
	}
	msg, ok := chatMessages[reason]
	if !ok {
		msg = "HubSpot did not give a token"
	}
	if ctx.Err() == nil {
		s.log.Debug("chat context without identification", zap.String("user_id", v.UserID), zap.String("reason", reason), zap.Error(err))
	}
	return ChatIdentification{Status: ChatUnavailable, Reason: reason, Message: msg}
}

func chatWidget(co *ChatOptions, c *ChatContext, f *folderNode) ChatWidget {
	w := ChatWidget{Query: map[string]string{ChatQueryVideo: c.Context.Video.ID}}
	if co.PortalID != "" {
		w.PortalID, w.ScriptURL = co.PortalID, "https://js.hs-scripts.com/"+url.PathEscape(co.PortalID)+".js"
	}
	if id := c.Identification; id.Status == ChatIdentified {
		w.Settings.IdentificationEmail, w.Settings.IdentificationToken = id.Email, id.Token
	}
	q := url.Values{ChatQueryVideo: {c.Context.Video.ID}}
	if f != nil {
		names := make([]string, len(c.Context.FolderPath))
		for i, r := range c.Context.FolderPath {
			names[i] = r.Name
		}
		w.Query[ChatQueryFolder] = f.ref.ID
		w.Query[ChatQueryPath] = strings.Join(names, "/")
	}
	if r := c.Context.RankReason; r != nil {
		w.Query[ChatQueryReason] = string(r.Kind)
	}
	for k, v := range w.Query {
		q.Set(k, v)
	}
	w.PagePath = strings.ReplaceAll(co.PagePath, "{id}", url.PathEscape(c.Context.Video.ID)) + "?" + q.Encode()
	if co.PageOrigin != "" {
		w.PageURL = co.PageOrigin + w.PagePath
	}
	return w
}

func (s *Service) recordChat(ctx context.Context, co *ChatOptions, v Viewer, c *ChatContext, f *folderNode) error {
	if co.Records == nil && co.Audit == nil {
		return nil
	}
	rec := ChatRecord{UserID: v.UserID, VideoID: c.Context.Video.ID, Time: c.GeneratedAt, ExpiresAt: c.Identification.ExpiresAt,
		Status: c.Identification.Status, Reason: c.Identification.Reason, Context: map[string]string{}}
	if f != nil {
		rec.FolderID = f.ref.ID
		rec.Context["folder_path"] = c.Widget.Query[ChatQueryPath]
	}
	if r := c.Context.RankReason; r != nil {
		rec.Context["rank_reason"] = string(r.Kind)
	}
	for _, r := range []ChatRecorder{co.Records, co.Audit} {
		if r == nil {
			continue
		}
		if err := r.RecordChatContext(ctx, rec); err != nil {
			return fmt.Errorf("%w: record chat context: %w", ErrUnavailable, err)
		}
	}
	return nil
}
