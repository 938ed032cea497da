package config

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// Section is a group of settings that subcommands register together.
type Section string

// Sections. SectionCore is always registered.
const (
	SectionCore      Section = "core"      // log-level, log-format, shutdown-timeout, otel-*
	SectionMetrics   Section = "metrics"   // metrics-addr
	SectionAPI       Section = "api"       // api-addr, view-cache-size, redis-page-cache, audit-access-sample, hubspot-*
	SectionSync      Section = "sync"      // sync-addr, reconcile-interval, poll-interval, max-delete-share
	SectionAdmin     Section = "admin"     // admin-addr, console, console-*
	SectionPostgres  Section = "postgres"  // postgres-url
	SectionRedis     Section = "redis"     // redis-url
	SectionKafka     Section = "kafka"     // kafka-brokers, kafka-topic-prefix
	SectionVimeo     Section = "vimeo"     // VIDLIB_VIMEO_TOKEN, vimeo-root-folder-id, vimeo-user-id, vimeo-base-url
	SectionWebhook   Section = "webhook"   // VIDLIB_VIMEO_WEBHOOK_SECRETS
	SectionAuth      Section = "auth"      // cognito-*, google-client-ids, apple-audiences, auth-*
	SectionDemo      Section = "demo"      // demo-folders, demo-videos, demo-seed
	SectionAudit     Section = "audit"     // VIDLIB_AUDIT_CHECKPOINT_KEY
	SectionAnalytics Section = "analytics" // VIDLIB_ANALYTICS_SESSION_SECRETS, analytics-*
)

// The sections of each vidlib subcommand. The vimeo section is optional
// where the sync section is not registered (admin): left unset, the admin's
// dry run is unavailable.
var (
	ForAPI     = []Section{SectionCore, SectionMetrics, SectionAPI, SectionPostgres, SectionRedis, SectionKafka, SectionAuth, SectionAnalytics}
	ForSync    = []Section{SectionCore, SectionMetrics, SectionSync, SectionPostgres, SectionRedis, SectionKafka, SectionVimeo, SectionWebhook}
	ForConsume = []Section{SectionCore, SectionMetrics, SectionPostgres, SectionRedis, SectionKafka, SectionAudit, SectionAnalytics}
	ForAdmin   = []Section{SectionCore, SectionMetrics, SectionAdmin, SectionPostgres, SectionRedis, SectionKafka, SectionAuth, SectionVimeo}
	ForAll     = []Section{SectionCore, SectionMetrics, SectionAPI, SectionSync, SectionAdmin, SectionPostgres, SectionRedis, SectionKafka, SectionVimeo, SectionWebhook, SectionAuth, SectionAudit, SectionAnalytics}
	ForDemo    = []Section{SectionCore, SectionMetrics, SectionAPI, SectionAdmin, SectionDemo, SectionAnalytics}
	ForMigrate = []Section{SectionCore, SectionPostgres}
)

// sourceKind says where a setting's value came from.
type sourceKind int

const (
	fromDefault sourceKind = iota
	fromEnv
	fromFile
	fromFlag
)

// setting is one configuration setting.
type setting struct {
	name    string // flag name; the variable is EnvPrefix + NAME
	section Section
	usage   string
	secret  bool // no flag: environment or _FILE only
	fileOK  bool // NAME_FILE accepted (secrets and URLs that may hold a password)
	url     bool // printed with its password hidden; a password given as a flag is refused
	isBool  bool // a flag that needs no value (--name means --name=true)
	get     func(*Config) string
	set     func(*Config, string) error
}

// Env returns the environment variable of a flag name: "poll-interval" →
// "VIDLIB_POLL_INTERVAL".
func Env(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (s *setting) env() string { return Env(s.name) }

// display is the value as it may be printed.
func (s *setting) display(c *Config) string {
	v := s.get(c)
	switch {
	case s.secret:
		return v // get returns the redacted form for secrets
	case s.url:
		return redactURL(v)
	}
	return v
}

// acc reads and writes one setting of a Config.
type acc struct {
	get    func(*Config) string
	set    func(*Config, string) error
	isBool bool
}

func boolean(p func(*Config) *bool) acc {
	return acc{
		get: func(c *Config) string { return strconv.FormatBool(*p(c)) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*p(c) = b
			return nil
		},
		isBool: true,
	}
}

func str(p func(*Config) *string) acc {
	return acc{
		get: func(c *Config) string { return *p(c) },
		set: func(c *Config, v string) error { *p(c) = strings.TrimSpace(v); return nil },
	}
}

func list(p func(*Config) *[]string) acc {
	return acc{
		get: func(c *Config) string { return strings.Join(*p(c), ",") },
		set: func(c *Config, v string) error { *p(c) = splitList(v); return nil },
	}
}

func duration(p func(*Config) *time.Duration) acc {
	return acc{
		get: func(c *Config) string { return p(c).String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a duration (write e.g. 30s, 5m, 6h)", v)
			}
			*p(c) = d
			return nil
		},
	}
}

func float(p func(*Config) *float64) acc {
	return acc{
		get: func(c *Config) string { return strconv.FormatFloat(*p(c), 'g', -1, 64) },
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", v)
			}
			*p(c) = f
			return nil
		},
	}
}

func integer(p func(*Config) *int) acc {
	return acc{
		get: func(c *Config) string { return strconv.Itoa(*p(c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			*p(c) = n
			return nil
		},
	}
}

func secret(p func(*Config) *Secret) acc {
	return acc{
		get: func(c *Config) string { return p(c).String() },
		set: func(c *Config, v string) error { *p(c) = NewSecret(strings.TrimSpace(v)); return nil },
	}
}

func secretList(p func(*Config) *Secrets) acc {
	return acc{
		get: func(c *Config) string { return p(c).String() },
		set: func(c *Config, v string) error {
			var out Secrets
			for _, s := range splitList(v) {
				out = append(out, NewSecret(s))
			}
			*p(c) = out
			return nil
		},
	}
}

// pairs parses "k=v,k=v".
func pairs(v string) ([][2]string, error) {
	var out [][2]string
	for _, item := range splitList(v) {
		k, val, ok := strings.Cut(item, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("%q is not a key=value pair", item)
		}
		out = append(out, [2]string{k, val})
	}
	return out, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// settings is every setting, in the order they are printed.
var settings = func() []*setting {
	s := func(name string, sec Section, usage string, a acc) *setting {
		return &setting{name: name, section: sec, usage: usage, get: a.get, set: a.set, isBool: a.isBool}
	}
	withURL := func(st *setting) *setting { st.url, st.fileOK = true, true; return st }
	withSecret := func(st *setting) *setting { st.secret, st.fileOK = true, true; return st }
	all := []*setting{
		// Core.
		s("log-level", SectionCore, "log level: debug, info, warn or error",
			acc{get: func(c *Config) string { return c.Log.Level.String() },
				set: func(c *Config, v string) error {
					l, err := zapcore.ParseLevel(strings.TrimSpace(v))
					if err != nil {
						return fmt.Errorf("%q is not a log level (debug, info, warn, error)", v)
					}
					c.Log.Level = l
					return nil
				}}),
		s("log-format", SectionCore, `log format: "json" (production) or "console" (human readable)`,
			acc{get: func(c *Config) string { return c.Log.Format },
				set: func(c *Config, v string) error { c.Log.Format = strings.ToLower(strings.TrimSpace(v)); return nil }}),
		s("shutdown-timeout", SectionCore, "time allowed to drain in-flight work on SIGTERM",
			duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })),
		s("memory-limit", SectionCore, "soft limit of the process's Go memory, written as GOMEMLIMIT is (e.g. 1800MiB, 2GiB, bytes); "+
			"auto: GOMEMLIMIT when set, else 80% of the container's memory (cgroup memory.max) when limited, "+
			"else none, and without GOGC the GC percent follows the live heap (50% headroom, at least 256MiB); off: none",
			acc{get: func(c *Config) string { return FormatMemoryLimit(c.MemoryLimit) },
				set: func(c *Config, v string) error {
					n, err := ParseMemoryLimit(v)
					if err != nil {
						return err
					}
					c.MemoryLimit = n
					return nil
				}}),
		s("otel-endpoint", SectionCore, "OTLP/HTTP trace collector, e.g. http://otel-collector:4318 (empty: tracing off)",
			str(func(c *Config) *string { return &c.Tracing.Endpoint })),
		s("otel-service-name", SectionCore, "service.name of exported traces",
			str(func(c *Config) *string { return &c.Tracing.ServiceName })),
		s("otel-sample-ratio", SectionCore, "share of new traces sampled, 0 to 1",
			float(func(c *Config) *float64 { return &c.Tracing.SampleRatio })),
		s("http-read-header-timeout", SectionCore, "every server: time a client has to send its request headers",
			duration(func(c *Config) *time.Duration { return &c.HTTP.ReadHeaderTimeout })),
		s("http-read-timeout", SectionCore, "every server: time a client has to send its whole request, body included (a slower one is disconnected)",
			duration(func(c *Config) *time.Duration { return &c.HTTP.ReadTimeout })),
		s("http-write-timeout", SectionCore, "every server: time to write an answer",
			duration(func(c *Config) *time.Duration { return &c.HTTP.WriteTimeout })),
		s("http-max-header-bytes", SectionCore, "every server: largest request header block; larger ones get 431",
			integer(func(c *Config) *int { return &c.HTTP.MaxHeaderBytes })),
		// Listeners.
		s("metrics-addr", SectionMetrics, "listen address of /metrics, /healthz and /readyz (empty: off)",
			str(func(c *Config) *string { return &c.Listen.Metrics })),
		s("api-addr", SectionAPI, "listen address of the public and app API",
			str(func(c *Config) *string { return &c.Listen.API })),
		s("http-trust-forwarded-for", SectionAPI, "take an anonymous visitor's address, for its rate limit, from the last X-Forwarded-For entry "+
			"(set it only behind one trusted proxy that appends it, such as the load balancer)",
			boolean(func(c *Config) *bool { return &c.HTTP.TrustForwardedFor })),
		s("allow-password-videos", SectionCore, "offer videos whose Vimeo privacy.view is password (the player asks viewers for it); "+
			"off: like videos that are private or not embeddable, they are not in the library",
			boolean(func(c *Config) *bool { return &c.Vimeo.AllowPasswordVideos })),
		s("view-cache-size", SectionAPI, "memory the cached entitlement views of audiences and users may take, written as GOMEMLIMIT is (e.g. 256MiB); "+
			"past it the least recently used are dropped and computed again when asked for",
			acc{get: func(c *Config) string { return FormatMemoryLimit(c.ViewCacheBytes) },
				set: func(c *Config, v string) error {
					n, err := ParseMemoryLimit(v)
					if err != nil || n <= 0 {
						return fmt.Errorf("%q is not a size (write e.g. 256MiB)", v)
					}
					c.ViewCacheBytes = n
					return nil
				}}),
		s("redis-page-cache", SectionAPI, "also keep encoded pages in Redis (library:root:…, folder:… keys) and look there before building one "+
			"(off: a page built from the in-process snapshot takes about 6 µs, a Redis round trip about 80 µs)",
			boolean(func(c *Config) *bool { return &c.Redis.PageCache })),
		s("sync-addr", SectionSync, "listen address of the sync worker's webhook intake (empty: off)",
			str(func(c *Config) *string { return &c.Listen.Sync })),
		s("admin-addr", SectionAdmin, "listen address of the admin API and console",
			str(func(c *Config) *string { return &c.Listen.Admin })),
		s("console", SectionAdmin, "serve the admin web console at / of the admin server, signing admins in with the Cognito user pool (off without a user pool)",
			boolean(func(c *Config) *bool { return &c.Console.Enabled })),
		s("console-client-id", SectionAdmin, "Cognito app client id the console signs in with (empty: the first of --cognito-client-ids)",
			str(func(c *Config) *string { return &c.Console.ClientID })),
		withSecret(s("console-client-secret", SectionAdmin, "secret of the console's app client, for a confidential client (empty: a public client, PKCE alone)",
			secret(func(c *Config) *Secret { return &c.Console.ClientSecret }))),
		s("console-redirect-url", SectionAdmin, "absolute URL of the console's /auth/callback as registered with the app client, e.g. https://admin.example.com/auth/callback (required with the console on)",
			str(func(c *Config) *string { return &c.Console.RedirectURL })),
		withSecret(s("console-session-key", SectionAdmin, "32-byte key sealing console sessions, hex or base64 (e.g. openssl rand -hex 32), the same on every instance "+
			"(unset: a random key per process; sessions end on restart and do not span instances)",
			secret(func(c *Config) *Secret { return &c.Console.SessionKey }))),
		// Sync.
		s("reconcile-interval", SectionSync, "time between full reconciliations of the Vimeo tree",
			duration(func(c *Config) *time.Duration { return &c.Sync.ReconcileInterval })),
		s("poll-interval", SectionSync, "time between polls for recently changed videos and folders",
			duration(func(c *Config) *time.Duration { return &c.Sync.PollInterval })),
		s("reconcile-calls-per-minute", SectionSync, "most Vimeo calls a minute one reconciliation makes, below the token's limit (0: no cap)",
			integer(func(c *Config) *int { return &c.Sync.ReconcileCallsPerMinute })),
		s("max-delete-share", SectionSync, "largest share of the tree one reconciliation may delete before it asks an admin",
			float(func(c *Config) *float64 { return &c.Sync.MaxDeleteShare })),
		// Stores and brokers.
		withURL(s("postgres-url", SectionPostgres, "PostgreSQL connection URL (with a password: use the environment or a _FILE)",
			str(func(c *Config) *string { return &c.Postgres.URL }))),
		withURL(s("redis-url", SectionRedis, "Redis URL, redis:// or rediss:// (standalone, not cluster)",
			str(func(c *Config) *string { return &c.Redis.URL }))),
		s("kafka-brokers", SectionKafka, "comma-separated Kafka brokers, host:port",
			list(func(c *Config) *[]string { return &c.Kafka.Brokers })),
		s("kafka-topic-prefix", SectionKafka, `prefix of every topic name, e.g. "staging."`,
			str(func(c *Config) *string { return &c.Kafka.TopicPrefix })),
		// Vimeo.
		withSecret(s("vimeo-token", SectionVimeo, "Vimeo API access token",
			secret(func(c *Config) *Secret { return &c.Vimeo.Token }))),
		s("vimeo-root-folder-id", SectionVimeo, "numeric id of the Vimeo folder that is the library's root",
			str(func(c *Config) *string { return &c.Vimeo.RootFolderID })),
		s("vimeo-user-id", SectionVimeo, `Vimeo user owning the folders ("me": the token's user)`,
			str(func(c *Config) *string { return &c.Vimeo.UserID })),
		s("vimeo-base-url", SectionVimeo, "Vimeo API base URL (empty: https://api.vimeo.com)",
			str(func(c *Config) *string { return &c.Vimeo.BaseURL })),
		withSecret(s("vimeo-webhook-secrets", SectionWebhook, "comma-separated App Webhook secrets; the first is current, the others are accepted during a rotation",
			secretList(func(c *Config) *Secrets { return &c.Vimeo.WebhookSecrets }))),
		s("vimeo-webhook-signature-header", SectionWebhook, "header carrying a delivery's HMAC-SHA256 signature",
			str(func(c *Config) *string { return &c.Vimeo.Webhook.Header })),
		s("vimeo-webhook-signature-encoding", SectionWebhook, `encoding of the signature: "hex" or "base64"`,
			str(func(c *Config) *string { return &c.Vimeo.Webhook.Encoding })),
		s("vimeo-webhook-signature-prefix", SectionWebhook, `prefix the signature must start with, e.g. "sha256=" (empty: an optional "sha256=" is accepted)`,
			str(func(c *Config) *string { return &c.Vimeo.Webhook.Prefix })),
		s("vimeo-webhook-timestamp-header", SectionWebhook, `header carrying the delivery time in Unix seconds, signed as "<time>.<body>" (empty: the payload's timestamp, body signed alone)`,
			str(func(c *Config) *string { return &c.Vimeo.Webhook.TimestampHeader })),
		s("vimeo-webhook-tolerance", SectionWebhook, "how far a delivery's time may lie from now before it is refused as a replay",
			duration(func(c *Config) *time.Duration { return &c.Vimeo.Webhook.Tolerance })),
		// Audit.
		s("audit-access-sample", SectionAPI, "share of allowed playback decisions audited, 0 to 1 (0: access decisions are not audited)",
			float(func(c *Config) *float64 { return &c.Audit.AccessSampleRate })),
		withSecret(s("audit-checkpoint-key", SectionAudit, "base64 Ed25519 seed that signs the audit log's checkpoints (empty: unsigned)",
			secret(func(c *Config) *Secret { return &c.Audit.CheckpointKey }))),
		// Analytics.
		withSecret(s("analytics-session-secrets", SectionAnalytics, "comma-separated secrets (32+ bytes) signing playback-session tokens; the first signs, all verify (unset: no analytics ingest)",
			secretList(func(c *Config) *Secrets { return &c.Analytics.SessionSecrets }))),
		s("analytics-session-ttl", SectionAnalytics, "lifetime of a playback-session token",
			duration(func(c *Config) *time.Duration { return &c.Analytics.SessionTTL })),
		s("analytics-clock-skew", SectionAnalytics, "how far ahead of the server's clock an event's occurred_at may be",
			duration(func(c *Config) *time.Duration { return &c.Analytics.ClockSkew })),
		s("analytics-max-event-age", SectionAnalytics, "oldest occurred_at accepted (late events up to this age update the right session and day)",
			duration(func(c *Config) *time.Duration { return &c.Analytics.MaxEventAge })),
		s("analytics-event-rate", SectionAnalytics, "events per second per user accepted by POST /analytics/events (negative: no limit)",
			float(func(c *Config) *float64 { return &c.Analytics.EventRate })),
		s("analytics-event-burst", SectionAnalytics, "burst of events per user",
			integer(func(c *Config) *int { return &c.Analytics.EventBurst })),
		s("analytics-retention", SectionAnalytics, "drop watch_events day partitions older than this (0: keep; sessions and aggregates are kept)",
			duration(func(c *Config) *time.Duration { return &c.Analytics.Retention })),
		s("analytics-heartbeat", SectionAnalytics, "the players' heartbeat interval (PeerTube: 5s); a silence over 3 heartbeats is not watching",
			duration(func(c *Config) *time.Duration { return &c.Analytics.Heartbeat })),
		s("analytics-view-after", SectionAnalytics, "playing time that makes a view, or half of a shorter video (PeerTube: 10s)",
			duration(func(c *Config) *time.Duration { return &c.Analytics.ViewAfter })),
		s("analytics-view-window", SectionAnalytics, "one view per user and video per window (PeerTube: 1h)",
			duration(func(c *Config) *time.Duration { return &c.Analytics.ViewWindow })),
		s("analytics-resume-min", SectionAnalytics, "no resume under this share of a video (Jellyfin: 0.05)",
			float(func(c *Config) *float64 { return &c.Analytics.ResumeMinRatio })),
		s("analytics-watched-ratio", SectionAnalytics, "watched at or over this share: no resume, counts as a completion (Jellyfin: 0.9)",
			float(func(c *Config) *float64 { return &c.Analytics.WatchedRatio })),
		// Ranking.
		s("ranking-size", SectionAnalytics, "videos kept per user's ranked feed (user_video_rankings, ranked:{user}:{version})",
			integer(func(c *Config) *int { return &c.Ranking.Size })),
		s("ranking-max-per-folder", SectionAnalytics, "diversity: at most this many videos of one folder in a feed's top 10",
			integer(func(c *Config) *int { return &c.Ranking.MaxPerFolder })),
		s("ranking-full-interval", SectionAnalytics, "recompute every user's feed this often (affected users are recomputed on their events and on version changes)",
			duration(func(c *Config) *time.Duration { return &c.Ranking.FullInterval })),
		// Auth.
		s("cognito-region", SectionAuth, "AWS region of the Cognito user pool, e.g. eu-west-1",
			str(func(c *Config) *string { return &c.Auth.CognitoRegion })),
		s("cognito-user-pool-id", SectionAuth, "Cognito user pool id, e.g. eu-west-1_AbC123",
			str(func(c *Config) *string { return &c.Auth.CognitoUserPoolID })),
		s("cognito-client-ids", SectionAuth, "comma-separated Cognito app client ids accepted as audience",
			list(func(c *Config) *[]string { return &c.Auth.CognitoClientIDs })),
		s("google-client-ids", SectionAuth, "comma-separated Google OAuth client ids (Google ID tokens accepted directly)",
			list(func(c *Config) *[]string { return &c.Auth.GoogleClientIDs })),
		s("apple-audiences", SectionAuth, "comma-separated Sign in with Apple Services ID and bundle ID",
			list(func(c *Config) *[]string { return &c.Auth.AppleAudiences })),
		s("auth-group-roles", SectionAuth, "Cognito group to role mapping, group=role,... (repeat a group for several roles)",
			acc{get: func(c *Config) string {
				var out []string
				for g, rs := range c.Auth.GroupRoles {
					for _, r := range rs {
						out = append(out, g+"="+r)
					}
				}
				sort.Strings(out)
				return strings.Join(out, ",")
			},
				set: func(c *Config, v string) error {
					ps, err := pairs(v)
					if err != nil {
						return err
					}
					m := map[string][]string{}
					for _, p := range ps {
						m[p[0]] = append(m[p[0]], p[1])
					}
					c.Auth.GroupRoles = m
					return nil
				}}),
		s("auth-segment-claims", SectionAuth, "token claim to profile segment mapping, claim=segment,...",
			acc{get: func(c *Config) string {
				var out []string
				for k, v := range c.Auth.SegmentClaims {
					out = append(out, k+"="+v)
				}
				sort.Strings(out)
				return strings.Join(out, ",")
			},
				set: func(c *Config, v string) error {
					ps, err := pairs(v)
					if err != nil {
						return err
					}
					m := map[string]string{}
					for _, p := range ps {
						if _, dup := m[p[0]]; dup {
							return fmt.Errorf("claim %q is mapped twice", p[0])
						}
						m[p[0]] = p[1]
					}
					c.Auth.SegmentClaims = m
					return nil
				}}),
		// Demo.
		s("demo-folders", SectionDemo, "folders in the demo's generated Vimeo account",
			integer(func(c *Config) *int { return &c.Demo.Folders })),
		s("demo-videos", SectionDemo, "videos in the demo's generated Vimeo account",
			integer(func(c *Config) *int { return &c.Demo.Videos })),
		s("demo-seed", SectionDemo, "seed of the demo's generated account (same seed, same account)",
			acc{get: func(c *Config) string { return strconv.FormatUint(c.Demo.Seed, 10) },
				set: func(c *Config, v string) error {
					n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
					if err != nil {
						return fmt.Errorf("%q is not a non-negative integer", v)
					}
					c.Demo.Seed = n
					return nil
				}}),
	}
	all = append(all, hubspotSettings(s, withSecret)...)
	return all
}()

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactURL hides the password of a URL or of a key=value connection string.
func redactURL(v string) string {
	if v == "" {
		return ""
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil {
			return "[unparsable URL]" // it might hold a password we cannot find
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return dsnPassword.ReplaceAllString(v, "${1}xxxxx")
}

// urlPassword reports whether a URL or key=value string carries a password.
func urlPassword(v string) bool {
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil {
			return false
		}
		if _, ok := u.User.Password(); ok {
			return true
		}
		return u.Query().Has("password")
	}
	return dsnPassword.MatchString(v)
}
