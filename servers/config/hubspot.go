package config

import (
	"net/url"
	"strings"
	"time"
)

// HubSpot configures the per-video HubSpot chat context of the API
// (GET /videos/{id}/chat-context). It is off unless Chat is set.
type HubSpot struct {
	// Chat serves the chat context (--hubspot-chat).
	Chat bool
	// Token is the private app token or service key that mints visitor
	// identification tokens (VIDLIB_HUBSPOT_TOKEN or _FILE only). Empty:
	// the chat context carries no identification.
	Token Secret
	// BaseURL is the API (default https://api.hubapi.com).
	BaseURL string
	// PortalID is the HubSpot account id the page's widget script loads
	// (js.hs-scripts.com/<id>.js); it is handed to the page.
	PortalID string
	// BurstPer10s is the account's burst limit per 10 s (100 on Free and
	// Starter, 190 on Professional and Enterprise, 250 with the limit
	// increase); the client never sends more.
	BurstPer10s int
	// Timeout bounds how long a chat-context request waits for a token
	// (default 800ms); past it the answer has no token and says why.
	Timeout time.Duration
	// ContactProperties also writes the vidlib_last_* contact properties
	// for agents, debounced per contact by ContactDebounce (default 30s).
	ContactProperties bool
	ContactDebounce   time.Duration
	// PagePath is the app's video page, {id} for the video id (default
	// /videos/{id}); PageOrigin makes page_url absolute.
	PagePath   string
	PageOrigin string
	// Audit records every generated chat context in the audit log
	// (--audit-chat-context).
	Audit bool
}

// DefaultHubSpot returns HubSpot's defaults.
func DefaultHubSpot() HubSpot {
	return HubSpot{BaseURL: "https://api.hubapi.com", BurstPer10s: 100, Timeout: 800 * time.Millisecond,
		ContactDebounce: 30 * time.Second, PagePath: "/videos/{id}"}
}

// hubspotSettings are the HubSpot settings, in the api section.
func hubspotSettings(s func(name string, sec Section, usage string, a acc) *setting, withSecret func(*setting) *setting) []*setting {
	h := func(c *Config) *HubSpot { return &c.HubSpot }
	return []*setting{
		s("hubspot-chat", SectionAPI, "serve GET /videos/{id}/chat-context: the HubSpot chat widget's identification and the video's context",
			boolean(func(c *Config) *bool { return &h(c).Chat })),
		withSecret(s("hubspot-token", SectionAPI, "HubSpot private app token or service key with the conversations.visitor_identification.tokens.create scope (empty: chat context without identification)",
			secret(func(c *Config) *Secret { return &h(c).Token }))),
		s("hubspot-base-url", SectionAPI, "HubSpot API base URL",
			str(func(c *Config) *string { return &h(c).BaseURL })),
		s("hubspot-portal-id", SectionAPI, "HubSpot account (portal) id whose chat widget the page loads",
			str(func(c *Config) *string { return &h(c).PortalID })),
		s("hubspot-burst", SectionAPI, "the HubSpot account's burst limit per 10 s (Free/Starter 100, Professional/Enterprise 190)",
			integer(func(c *Config) *int { return &h(c).BurstPer10s })),
		s("hubspot-timeout", SectionAPI, "how long a chat-context request waits for a HubSpot token before answering without one",
			duration(func(c *Config) *time.Duration { return &h(c).Timeout })),
		s("hubspot-contact-properties", SectionAPI, "also write the contact's vidlib_last_* properties (last video, folder, reason) for agents",
			boolean(func(c *Config) *bool { return &h(c).ContactProperties })),
		s("hubspot-contact-debounce", SectionAPI, "at most one contact-property update per contact this often",
			duration(func(c *Config) *time.Duration { return &h(c).ContactDebounce })),
		s("hubspot-page-path", SectionAPI, "the app's video page for chatflow targeting, {id} for the video id",
			str(func(c *Config) *string { return &h(c).PagePath })),
		s("hubspot-page-origin", SectionAPI, "scheme and host of the app's pages, e.g. https://app.example.com (empty: page_url is left out)",
			str(func(c *Config) *string { return &h(c).PageOrigin })),
		s("audit-chat-context", SectionAPI, "record every generated chat context in the audit log",
			boolean(func(c *Config) *bool { return &h(c).Audit })),
	}
}

// hubspotProblems checks the HubSpot settings.
func (c *Config) hubspotProblems(bad func(name, format string, args ...any)) {
	h := c.HubSpot
	if !h.Chat {
		return
	}
	if u, err := url.Parse(h.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("hubspot-base-url", "must be an http(s) URL, got %q", h.BaseURL)
	}
	if h.BurstPer10s <= 0 {
		bad("hubspot-burst", "must be positive, got %d", h.BurstPer10s)
	}
	if h.Timeout <= 0 || h.Timeout > 10*time.Second {
		bad("hubspot-timeout", "must be between 0 and 10s, got %s", h.Timeout)
	}
	if h.ContactDebounce <= 0 {
		bad("hubspot-contact-debounce", "must be positive, got %s", h.ContactDebounce)
	}
	if !strings.HasPrefix(h.PagePath, "/") || !strings.Contains(h.PagePath, "{id}") {
		bad("hubspot-page-path", "must start with / and hold {id}, got %q", h.PagePath)
	}
	if h.PageOrigin != "" {
		if u, err := url.Parse(h.PageOrigin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			bad("hubspot-page-origin", "must be a scheme and host, got %q", h.PageOrigin)
		}
	}
	for _, r := range h.PortalID {
		if r < '0' || r > '9' {
			bad("hubspot-portal-id", "must be digits, got %q", h.PortalID)
			break
		}
	}
}
