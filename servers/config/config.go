package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/vimeo"
)

// ErrInvalid is wrapped by every configuration error.
var ErrInvalid = errors.New("config: invalid configuration")

// EnvPrefix starts every environment variable: --poll-interval is
// VIDLIB_POLL_INTERVAL.
const EnvPrefix = "VIDLIB_"

// Defaults of the settings (see Default).
const (
	DefaultAPIAddr           = ":8080"
	DefaultSyncAddr          = ":8081"
	DefaultAdminAddr         = ":8082"
	DefaultMetricsAddr       = ":9090"
	DefaultReconcileInterval = 6 * time.Hour
	DefaultPollInterval      = 30 * time.Second
	DefaultMaxDeleteShare    = 0.10
	DefaultShutdownTimeout   = 20 * time.Second
	DefaultViewCacheBytes    = 256 << 20 // entitle.DefaultMaxCachedViewBytes
	DefaultServiceName       = "vidlib"
	DefaultVimeoUserID       = "me"
	// SessionKeySize is the length of Console.SessionKey in bytes.
	SessionKeySize = 32
)

// Config is every setting of every vidlib subcommand. Default returns the
// defaults; Load fills it from flags and the environment.
type Config struct {
	Log       Log
	Tracing   Tracing
	Listen    Listen
	HTTP      HTTP
	Postgres  Postgres
	Redis     Redis
	Kafka     Kafka
	Vimeo     Vimeo
	Sync      Sync
	Auth      Auth
	Audit     Audit
	Console   Console
	Analytics Analytics
	Ranking   Ranking
	HubSpot   HubSpot
	Demo      Demo

	// ShutdownTimeout bounds the graceful stop: servers drain in-flight
	// requests and consumers finish their batch within it.
	ShutdownTimeout time.Duration

	// MemoryLimit is the soft limit of the Go runtime's memory the process
	// sets itself (runtime/debug.SetMemoryLimit), in bytes:
	// MemoryLimitAuto (the default) takes GOMEMLIMIT when it is set, else
	// 80 % of the container's memory (cgroup v2 memory.max) when it has a
	// limit, else none, and then (without GOGC) the GC percent follows the
	// live heap (servers/ops FollowGCPercent); MemoryLimitOff sets none
	// (GOMEMLIMIT still applies);
	// a positive value is the limit. It is a complement to a small heap, not
	// a bound: past it the collector runs more often.
	MemoryLimit int64

	// ViewCacheBytes bounds the memory of the API's cached entitlement
	// views (entitle.Options.MaxCachedViewBytes), in bytes.
	ViewCacheBytes int64

	sections []Section             // what was registered; nil: everything
	from     map[string]sourceKind // where each setting came from
}

// MemoryLimit values with a meaning of their own.
const (
	MemoryLimitAuto int64 = 0  // GOMEMLIMIT, else 80 % of the cgroup's memory.max, else none
	MemoryLimitOff  int64 = -1 // none set (GOMEMLIMIT still applies)
)

// Log configures the process logger.
type Log struct {
	Level zapcore.Level // --log-level: debug, info, warn, error
	// Format is "json" (production; the default) or "console" (human
	// readable, colour, for the demo and local runs).
	Format string
}

// Tracing configures OpenTelemetry tracing. It is off unless Endpoint is set.
type Tracing struct {
	// Endpoint is the OTLP/HTTP collector, e.g. "http://otel-collector:4318"
	// or "otel-collector:4318". Empty: tracing off (no exporter is created).
	Endpoint    string
	ServiceName string  // resource service.name (default "vidlib")
	SampleRatio float64 // share of new traces sampled, 0..1 (default 1); a sampled parent is always followed
}

// Enabled reports whether traces are exported.
func (t Tracing) Enabled() bool { return t.Endpoint != "" }

// Listen holds the listen addresses; an empty address disables the listener.
type Listen struct {
	API     string // public + app API (default :8080)
	Sync    string // webhook intake of the sync worker (default :8081)
	Admin   string // admin API and console (default :8082)
	Metrics string // /metrics, /healthz, /readyz (default :9090)
}

// Audit configures the audit log.
type Audit struct {
	// AccessSampleRate is the share of allowed playback decisions the API
	// audits (--audit-access-sample, 0..1; default 0: off). Denials are
	// always audited once it is above 0.
	AccessSampleRate float64
	// CheckpointKey signs the audit consumer's checkpoints: the base64 of an
	// Ed25519 seed or private key (VIDLIB_AUDIT_CHECKPOINT_KEY or
	// VIDLIB_AUDIT_CHECKPOINT_KEY_FILE only). Empty: unsigned checkpoints.
	CheckpointKey Secret
}

// HTTP bounds every server's connections: a client must send its headers
// within ReadHeaderTimeout and its whole request within ReadTimeout, and
// take its answer within WriteTimeout; headers over MaxHeaderBytes get 431.
type HTTP struct {
	ReadHeaderTimeout time.Duration // default 5s
	ReadTimeout       time.Duration // default 10s
	WriteTimeout      time.Duration // default 15s
	MaxHeaderBytes    int           // default 16384
	// TrustForwardedFor: the API takes an anonymous visitor's address (for
	// its rate limit) from the last X-Forwarded-For entry, which the one
	// trusted proxy in front appends (--http-trust-forwarded-for).
	TrustForwardedFor bool
}

// Postgres locates the database.
type Postgres struct {
	// URL is a pgx connection string (postgres://user:pass@host:5432/db?sslmode=require).
	// It may hold a password: printed forms replace it.
	URL string
}

// Redis locates the cache (standalone or a primary with replicas: not
// Redis Cluster, which redisstore refuses).
type Redis struct {
	URL string // redis:// or rediss:// URL; printed forms hide the password
	// PageCache also keeps the API's encoded pages in Redis and reads them
	// there before building one (--redis-page-cache). Off by default: the
	// in-process snapshot builds a page faster than Redis returns one.
	PageCache bool
}

// Kafka locates the brokers.
type Kafka struct {
	Brokers     []string // host:port
	TopicPrefix string   // prepended to every topic name, e.g. "staging." (default none)
}

// Vimeo configures the Vimeo client and webhook intake.
type Vimeo struct {
	Token        Secret // VIDLIB_VIMEO_TOKEN or VIDLIB_VIMEO_TOKEN_FILE only
	RootFolderID string // numeric id of the folder that is the library's root
	UserID       string // account owning the folders (default "me")
	BaseURL      string // API base URL (default https://api.vimeo.com); a fake in demos and tests
	// WebhookSecrets verify App Webhook deliveries; the first signs, all are
	// accepted (rotation). Comma-separated in VIDLIB_VIMEO_WEBHOOK_SECRETS or
	// its _FILE.
	WebhookSecrets Secrets
	// Webhook is how deliveries are signed (WebhookOptions).
	Webhook WebhookScheme
	// AllowPasswordVideos (every server that reads the library) offers
	// videos whose Vimeo privacy.view is password: the embedded player asks
	// viewers for it (--allow-password-videos). Off: they are not in the
	// library.
	AllowPasswordVideos bool
}

// WebhookScheme is how App Webhook deliveries are signed; Vimeo has not
// published it, so each part is a setting. The defaults are the one
// third-party write-ups describe.
type WebhookScheme struct {
	Header          string        // signature header (default X-Webhook-Signature)
	Encoding        string        // "hex" (default) or "base64"
	Prefix          string        // required prefix of the signature, e.g. "sha256=" (default none; an optional sha256= is accepted)
	TimestampHeader string        // header carrying the time, signed with the body (default none: the payload's timestamp)
	Tolerance       time.Duration // how far the delivery time may lie from now (default 5m)
}

// WebhookOptions returns the vimeo.WebhookOptions of the configured scheme.
func (v Vimeo) WebhookOptions() vimeo.WebhookOptions {
	w := v.Webhook
	return vimeo.WebhookOptions{Header: w.Header, Encoding: w.Encoding, Prefix: w.Prefix,
		TimestampHeader: w.TimestampHeader, MaxAge: w.Tolerance}
}

// Rules are the analytics definitions these settings give.
func (a Analytics) Rules() analytics.Rules {
	return analytics.Rules{Heartbeat: a.Heartbeat, ViewAfter: a.ViewAfter, ViewWindow: a.ViewWindow,
		ResumeMinRatio: a.ResumeMinRatio, WatchedRatio: a.WatchedRatio}.WithDefaults()
}

// Analytics configures playback analytics: session tokens and ingest limits
// in the API, the analytics rules in the consumer, and event retention.
type Analytics struct {
	// SessionSecrets sign playback-session tokens (HMAC-SHA256, at least 32
	// bytes each); the first signs, all verify (rotation). Unset: the API
	// mints no sessions and does not accept events. Every API instance
	// needs the same secrets.
	SessionSecrets Secrets
	SessionTTL     time.Duration // token lifetime (default 6h)
	ClockSkew      time.Duration // occurred-at may be this far ahead of the server (default 5m)
	MaxEventAge    time.Duration // and at most this old (default 48h)
	EventRate      float64       // events per second per user (default 50; negative: no limit)
	EventBurst     int           // events (default 2000)
	Retention      time.Duration // watch_events partitions older than this are dropped (default 0: kept)
	Heartbeat      time.Duration // client heartbeat interval (default 5s, PeerTube)
	ViewAfter      time.Duration // playing time that makes a view (default 10s, PeerTube)
	ViewWindow     time.Duration // one view per user and video per window (default 1h, PeerTube)
	ResumeMinRatio float64       // no resume under this share (default 0.05, Jellyfin)
	WatchedRatio   float64       // watched at or over this share (default 0.9, Jellyfin)
}

// Ranking tunes the ranked feeds (the ranking pipeline in the consumers).
type Ranking struct {
	Size         int           // videos per user's feed (default 200)
	MaxPerFolder int           // at most this many of one folder in a feed's top 10 (default 3)
	FullInterval time.Duration // recompute everyone this often (default 1h)
}

// Sync tunes reconciliation and change polling.
type Sync struct {
	ReconcileInterval time.Duration // full walk cadence (default 6h)
	PollInterval      time.Duration // recent-changes poll cadence (default 30s)
	// MaxDeleteShare stops a reconciliation that would delete more than this
	// share of the mirrored tree and asks an admin (default 0.10).
	MaxDeleteShare float64
	// ReconcileCallsPerMinute caps the Vimeo calls of one reconciliation
	// walk below the token's rate limit, leaving room for the polls and the
	// webhooks' re-fetches (vimeo.WalkOptions.CallsPerMinute; 0: no cap).
	ReconcileCallsPerMinute int
}

// Auth lists the trusted token issuers and how claims map to roles and
// segments. Issuers builds the auth.Issuer list.
type Auth struct {
	CognitoRegion     string
	CognitoUserPoolID string
	CognitoClientIDs  []string
	GoogleClientIDs   []string
	AppleAudiences    []string // Services ID and/or bundle ID
	// GroupRoles maps a Cognito group to roles (auth.Options.GroupRoles);
	// flag form "premium=subscriber,premium=member,staff=staff".
	GroupRoles map[string][]string
	// SegmentClaims maps a claim to a segment key (auth.Options.SegmentClaims);
	// flag form "custom:tier=tier,hd=domain".
	SegmentClaims map[string]string
}

// Issuers returns the configured issuers, Cognito first.
func (a Auth) Issuers() []auth.Issuer {
	var out []auth.Issuer
	if a.CognitoUserPoolID != "" {
		out = append(out, auth.CognitoIssuer(a.CognitoRegion, a.CognitoUserPoolID, a.CognitoClientIDs...))
	}
	if len(a.GoogleClientIDs) > 0 {
		out = append(out, auth.GoogleIssuer(a.GoogleClientIDs...))
	}
	if len(a.AppleAudiences) > 0 {
		out = append(out, auth.AppleIssuer(a.AppleAudiences...))
	}
	return out
}

// Options returns the auth.Options fields that come from configuration.
func (a Auth) Options() auth.Options {
	return auth.Options{GroupRoles: a.GroupRoles, SegmentClaims: a.SegmentClaims}
}

// Console configures the admin web console, served at / of the admin
// server. It signs admins in with the Cognito user pool (OIDC authorization
// code with PKCE), so it is on only where a user pool is configured (and,
// in the demo, where the local issuer stands in for one).
type Console struct {
	// Enabled turns the console on (default true); it still needs a
	// Cognito user pool (ConsoleOn).
	Enabled bool
	// ClientID is the app client the console signs in with (default: the
	// first of Auth.CognitoClientIDs).
	ClientID string
	// ClientSecret is the app client's secret, for a confidential client
	// (VIDLIB_CONSOLE_CLIENT_SECRET or its _FILE only; empty: a public
	// client, PKCE alone).
	ClientSecret Secret
	// RedirectURL is the absolute URL of the console's /auth/callback as
	// registered with the app client. Required where the console is on in
	// production; the demo derives it from each request's host.
	RedirectURL string
	// SessionKey seals the session cookies: 32 bytes, hex or base64
	// (VIDLIB_CONSOLE_SESSION_KEY or its _FILE only). The same on every
	// instance; unset, each process draws a random key, so sessions end
	// with the process and do not span instances.
	SessionKey Secret
}

// ConsoleOn reports whether the console is served: it is enabled and a
// Cognito user pool is configured.
func (c Config) ConsoleOn() bool {
	return c.Console.Enabled && c.Auth.CognitoUserPoolID != ""
}

// ConsoleClientID is Console.ClientID, or the first Cognito app client id.
func (c Config) ConsoleClientID() string {
	if c.Console.ClientID != "" || len(c.Auth.CognitoClientIDs) == 0 {
		return c.Console.ClientID
	}
	return c.Auth.CognitoClientIDs[0]
}

// SessionKeyBytes decodes Console.SessionKey (hex, or standard or URL-safe
// base64, padded or not) into its 32 bytes; nil when unset.
func (c Console) SessionKeyBytes() ([]byte, error) {
	v := strings.TrimSpace(c.SessionKey.Value())
	if v == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(v); err == nil && len(b) == SessionKeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == SessionKeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("must be %d bytes in hex (%d characters) or base64 (e.g. openssl rand -hex %d)", SessionKeySize, 2*SessionKeySize, SessionKeySize)
}

// Demo sizes the generated fake Vimeo account of `vidlib demo`.
type Demo struct {
	Folders int
	Videos  int
	Seed    uint64
}

// Default returns a Config holding every default.
func Default() *Config {
	return &Config{
		Log:     Log{Level: zapcore.InfoLevel, Format: "json"},
		Tracing: Tracing{ServiceName: DefaultServiceName, SampleRatio: 1},
		Listen: Listen{
			API: DefaultAPIAddr, Sync: DefaultSyncAddr, Admin: DefaultAdminAddr, Metrics: DefaultMetricsAddr,
		},
		HTTP: HTTP{
			ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 15 * time.Second, MaxHeaderBytes: 16 << 10,
		},
		Vimeo: Vimeo{UserID: DefaultVimeoUserID, Webhook: WebhookScheme{
			Header: vimeo.DefaultWebhookHeader, Encoding: vimeo.EncodingHex, Tolerance: 5 * time.Minute,
		}},
		Sync: Sync{
			ReconcileInterval: DefaultReconcileInterval,
			PollInterval:      DefaultPollInterval,
			MaxDeleteShare:    DefaultMaxDeleteShare,
		},
		Console: Console{Enabled: true},
		Analytics: Analytics{
			SessionTTL: 6 * time.Hour, ClockSkew: 5 * time.Minute, MaxEventAge: 48 * time.Hour,
			EventRate: 50, EventBurst: 2000, Heartbeat: 5 * time.Second, ViewAfter: 10 * time.Second,
			ViewWindow: time.Hour, ResumeMinRatio: 0.05, WatchedRatio: 0.9,
		},
		Ranking:         Ranking{Size: 200, MaxPerFolder: 3, FullInterval: time.Hour},
		HubSpot:         DefaultHubSpot(),
		Demo:            Demo{Folders: 300, Videos: 3000, Seed: 1},
		ShutdownTimeout: DefaultShutdownTimeout,
		ViewCacheBytes:  DefaultViewCacheBytes,
	}
}
