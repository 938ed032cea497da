package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/vimeo"
)

// Validate checks the settings of the sections the Config was loaded with
// (every section for a Config from Default) and returns a *ValidationError
// listing every problem, or nil.
func (c *Config) Validate() error {
	if ps := c.problems(); len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

// VimeoSet reports whether any Vimeo source setting (token, root folder) is
// set: where the vimeo section is optional (admin), setting one asks for the
// source and the section is validated.
func (c Config) VimeoSet() bool { return c.Vimeo.Token.IsSet() || c.Vimeo.RootFolderID != "" }

// Has reports whether the Config was loaded with section s (always true for
// a Config from Default).
func (c Config) Has(s Section) bool {
	if c.sections == nil {
		return true
	}
	for _, x := range c.sections {
		if x == s {
			return true
		}
	}
	return false
}

var (
	numericID   = regexp.MustCompile(`^[0-9]+$`)
	cognitoPool = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-[0-9]+)_[0-9A-Za-z]+$`)
)

func (c Config) problems() []Problem {
	var ps []Problem
	bad := func(name, format string, args ...any) {
		st := byName(name)
		ps = append(ps, Problem{Flag: flagName(st), Env: st.env(), Message: fmt.Sprintf(format, args...)})
	}
	addr := func(name, v string) {
		if v == "" {
			return // off
		}
		if err := checkAddr(v); err != nil {
			bad(name, "%q is not a listen address (write host:port or :port): %v", v, err)
		}
	}

	// Core.
	if c.Log.Format != "json" && c.Log.Format != "console" {
		bad("log-format", `must be "json" or "console", got %q`, c.Log.Format)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"http-read-header-timeout", c.HTTP.ReadHeaderTimeout},
		{"http-read-timeout", c.HTTP.ReadTimeout},
		{"http-write-timeout", c.HTTP.WriteTimeout},
	} {
		if d.v <= 0 || d.v > time.Hour {
			bad(d.name, "must be positive and at most 1h, got %s", d.v)
		}
	}
	if c.HTTP.MaxHeaderBytes < 1<<10 || c.HTTP.MaxHeaderBytes > 1<<20 {
		bad("http-max-header-bytes", "must be between 1024 and 1048576, got %d", c.HTTP.MaxHeaderBytes)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive, got %s", c.ShutdownTimeout)
	} else if c.ShutdownTimeout > 10*time.Minute {
		bad("shutdown-timeout", "must be at most 10m, got %s", c.ShutdownTimeout)
	}
	if c.Tracing.Endpoint != "" {
		if err := checkEndpoint(c.Tracing.Endpoint); err != nil {
			bad("otel-endpoint", "%q: %v", c.Tracing.Endpoint, err)
		}
	}
	if c.Tracing.ServiceName == "" {
		bad("otel-service-name", "must not be empty")
	}
	if c.Has(SectionAPI) {
		if r := c.Audit.AccessSampleRate; r < 0 || r > 1 {
			bad("audit-access-sample", "must be between 0 and 1, got %g", r)
		}
		c.hubspotProblems(bad)
	}
	if c.Has(SectionAudit) {
		if c.Audit.CheckpointKey.IsSet() {
			if _, err := audit.ParseSigningKey(c.Audit.CheckpointKey.Value()); err != nil {
				bad("audit-checkpoint-key", "%v", err)
			}
		}
	}
	if c.Tracing.SampleRatio < 0 || c.Tracing.SampleRatio > 1 {
		bad("otel-sample-ratio", "must be between 0 and 1, got %g", c.Tracing.SampleRatio)
	}

	if c.Has(SectionMetrics) {
		addr("metrics-addr", c.Listen.Metrics)
	}
	if c.Has(SectionAnalytics) {
		a := c.Analytics
		for _, v := range a.SessionSecrets.Values() {
			if len(v) < 32 {
				bad("analytics-session-secrets", "each secret must be at least 32 bytes")
				break
			}
		}
		for name, d := range map[string]time.Duration{"analytics-session-ttl": a.SessionTTL, "analytics-clock-skew": a.ClockSkew,
			"analytics-max-event-age": a.MaxEventAge, "analytics-heartbeat": a.Heartbeat, "analytics-view-after": a.ViewAfter, "analytics-view-window": a.ViewWindow} {
			if d <= 0 {
				bad(name, "must be positive, got %s", d)
			}
		}
		if r := c.Ranking; r.Size <= 0 || r.MaxPerFolder <= 0 || r.FullInterval <= 0 {
			bad("ranking-size", "ranking-size, ranking-max-per-folder and ranking-full-interval must be positive")
		}
		if a.Retention < 0 || (a.Retention > 0 && a.Retention <= a.MaxEventAge) {
			bad("analytics-retention", "must be 0 (keep) or longer than --analytics-max-event-age (%s), got %s", a.MaxEventAge, a.Retention)
		}
		if a.EventBurst < 0 {
			bad("analytics-event-burst", "must not be negative, got %d", a.EventBurst)
		}
		if a.ResumeMinRatio <= 0 || a.ResumeMinRatio >= a.WatchedRatio || a.WatchedRatio > 1 {
			bad("analytics-resume-min", "must be > 0 and below --analytics-watched-ratio (at most 1), got %g and %g", a.ResumeMinRatio, a.WatchedRatio)
		}
	}
	if c.Has(SectionAPI) {
		if c.Listen.API == "" {
			bad("api-addr", "must be set")
		}
		addr("api-addr", c.Listen.API)
	}
	if c.Has(SectionAdmin) {
		if c.Listen.Admin == "" {
			bad("admin-addr", "must be set")
		}
		addr("admin-addr", c.Listen.Admin)
	}
	if c.Has(SectionSync) {
		addr("sync-addr", c.Listen.Sync)
		if c.Sync.ReconcileInterval < time.Minute {
			bad("reconcile-interval", "must be at least 1m, got %s", c.Sync.ReconcileInterval)
		}
		if c.Sync.PollInterval < time.Second {
			bad("poll-interval", "must be at least 1s, got %s", c.Sync.PollInterval)
		} else if c.Sync.PollInterval >= c.Sync.ReconcileInterval && c.Sync.ReconcileInterval >= time.Minute {
			bad("poll-interval", "must be shorter than --reconcile-interval (%s), got %s", c.Sync.ReconcileInterval, c.Sync.PollInterval)
		}
		if c.Sync.MaxDeleteShare <= 0 || c.Sync.MaxDeleteShare > 1 {
			bad("max-delete-share", "must be greater than 0 and at most 1, got %g", c.Sync.MaxDeleteShare)
		}
	}
	if c.Has(SectionPostgres) {
		switch c.Postgres.URL {
		case "":
			bad("postgres-url", "must be set, e.g. postgres://vidlib@db:5432/vidlib?sslmode=require")
		default:
			if _, err := pgconn.ParseConfig(c.Postgres.URL); err != nil {
				bad("postgres-url", "%q is not a PostgreSQL connection string", redactURL(c.Postgres.URL))
			}
			if c.from[byName("postgres-url").name] == fromFlag && urlPassword(c.Postgres.URL) {
				bad("postgres-url", "holds a password: pass it in %s or %s_FILE, never as a flag", Env("postgres-url"), Env("postgres-url"))
			}
		}
	}
	if c.Has(SectionRedis) {
		switch c.Redis.URL {
		case "":
			bad("redis-url", "must be set, e.g. redis://cache:6379/0")
		default:
			if _, err := redis.ParseURL(c.Redis.URL); err != nil {
				bad("redis-url", "%q is not a Redis URL (redis:// or rediss://)", redactURL(c.Redis.URL))
			}
			if c.from["redis-url"] == fromFlag && urlPassword(c.Redis.URL) {
				bad("redis-url", "holds a password: pass it in %s or %s_FILE, never as a flag", Env("redis-url"), Env("redis-url"))
			}
		}
	}
	if c.Has(SectionKafka) {
		if len(c.Kafka.Brokers) == 0 {
			bad("kafka-brokers", "must list at least one broker, e.g. kafka-1:9092,kafka-2:9092")
		}
		for _, b := range c.Kafka.Brokers {
			if err := checkHostPort(b); err != nil {
				bad("kafka-brokers", "%q is not host:port: %v", b, err)
			}
		}
		if strings.ContainsAny(c.Kafka.TopicPrefix, " /\\,:") {
			bad("kafka-topic-prefix", "%q: a topic name may hold only letters, digits, '.', '_' and '-'", c.Kafka.TopicPrefix)
		}
	}
	if c.Has(SectionVimeo) && (c.Has(SectionSync) || c.VimeoSet()) {
		if !c.Vimeo.Token.IsSet() {
			bad("vimeo-token", "must be set (a Vimeo access token with the private and video_files scopes)")
		}
		switch {
		case c.Vimeo.RootFolderID == "":
			bad("vimeo-root-folder-id", "must be set to the numeric id of the library's root folder")
		case !numericID.MatchString(c.Vimeo.RootFolderID):
			bad("vimeo-root-folder-id", "must be a numeric folder id (the last part of https://vimeo.com/manage/folders/<id>), got %q", c.Vimeo.RootFolderID)
		}
		if c.Vimeo.UserID == "" {
			bad("vimeo-user-id", `must not be empty ("me" is the token's user)`)
		} else if c.Vimeo.UserID != "me" && !numericID.MatchString(c.Vimeo.UserID) {
			bad("vimeo-user-id", `must be "me" or a numeric user id, got %q`, c.Vimeo.UserID)
		}
		if c.Vimeo.BaseURL != "" {
			if u, err := url.Parse(c.Vimeo.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("vimeo-base-url", "must be an http(s) URL, got %q", c.Vimeo.BaseURL)
			}
		}
	}
	if c.Has(SectionSync) && (c.Sync.ReconcileCallsPerMinute < 0 || c.Sync.ReconcileCallsPerMinute > 100_000) {
		bad("reconcile-calls-per-minute", "must be between 0 and 100000, got %d", c.Sync.ReconcileCallsPerMinute)
	}
	if c.Has(SectionWebhook) {
		w := c.Vimeo.Webhook
		if w.Tolerance <= 0 || w.Tolerance > 24*time.Hour {
			bad("vimeo-webhook-tolerance", "must be positive and at most 24h, got %s", w.Tolerance)
		}
		if w.Encoding != vimeo.EncodingHex && w.Encoding != vimeo.EncodingBase64 {
			bad("vimeo-webhook-signature-encoding", `must be "hex" or "base64", got %q`, w.Encoding)
		} else if o := c.Vimeo.WebhookOptions(); w.Header == "" {
			bad("vimeo-webhook-signature-header", "must be set")
		} else if _, err := vimeo.NewWebhookVerifier("x", &o); err != nil {
			bad("vimeo-webhook-signature-header", "%q and %q must be HTTP header names", w.Header, w.TimestampHeader)
		}
	}
	if c.Has(SectionWebhook) && len(c.Vimeo.WebhookSecrets) == 0 {
		bad("vimeo-webhook-secrets", "must hold at least one webhook secret (the sync worker refuses unsigned webhooks)")
	}
	if c.Has(SectionAuth) {
		a := c.Auth
		if a.CognitoUserPoolID == "" && len(a.GoogleClientIDs) == 0 && len(a.AppleAudiences) == 0 {
			bad("cognito-user-pool-id", "no token issuer is configured: set the Cognito user pool (with --cognito-region and --cognito-client-ids), --google-client-ids or --apple-audiences")
		}
		if a.CognitoUserPoolID != "" {
			m := cognitoPool.FindStringSubmatch(a.CognitoUserPoolID)
			switch {
			case m == nil:
				bad("cognito-user-pool-id", "%q is not a user pool id (region_id, e.g. eu-west-1_AbC123)", a.CognitoUserPoolID)
			case a.CognitoRegion == "":
				bad("cognito-region", "must be set with --cognito-user-pool-id (the pool is in %s)", m[1])
			case a.CognitoRegion != m[1]:
				bad("cognito-region", "is %q but the user pool %q is in %s", a.CognitoRegion, a.CognitoUserPoolID, m[1])
			}
			if len(a.CognitoClientIDs) == 0 {
				bad("cognito-client-ids", "must list at least one app client id when --cognito-user-pool-id is set")
			}
		} else {
			if a.CognitoRegion != "" {
				bad("cognito-region", "is set but --cognito-user-pool-id is not")
			}
			if len(a.CognitoClientIDs) > 0 {
				bad("cognito-client-ids", "are set but --cognito-user-pool-id is not")
			}
		}
	}
	if c.Has(SectionAdmin) {
		if _, err := c.Console.SessionKeyBytes(); err != nil {
			bad("console-session-key", "%v", err)
		}
		if v := c.Console.RedirectURL; v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "/auth/callback" {
				bad("console-redirect-url", "must be the absolute http(s) URL of the console's /auth/callback, e.g. https://admin.example.com/auth/callback, got %q", v)
			}
		}
		// Where a user pool is configured (production), the console is on
		// by default and must know its registered callback: deriving it from
		// the request's Host header would trust what the client sends.
		if c.Has(SectionAuth) && c.ConsoleOn() {
			if c.Console.RedirectURL == "" {
				bad("console-redirect-url", "must be set while the console is on (--console, on by default with --cognito-user-pool-id): "+
					"the absolute URL of /auth/callback registered with the app client, e.g. https://admin.example.com/auth/callback; or turn the console off with --console=false")
			}
			if c.Console.ClientID != "" && !slices.Contains(c.Auth.CognitoClientIDs, c.Console.ClientID) {
				bad("console-client-id", "%q is not one of --cognito-client-ids: the API would refuse the console's ID tokens", c.Console.ClientID)
			}
		}
	}
	if c.Has(SectionDemo) {
		if c.Demo.Folders < 3 {
			bad("demo-folders", "must be at least 3, got %d", c.Demo.Folders)
		}
		if c.Demo.Videos < 1 {
			bad("demo-videos", "must be at least 1, got %d", c.Demo.Videos)
		}
	}
	return ps
}

func byName(name string) *setting {
	for _, st := range settings {
		if st.name == name {
			return st
		}
	}
	panic("config: unknown setting " + name)
}

func checkAddr(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

func checkHostPort(v string) error {
	host, _, err := net.SplitHostPort(v)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("no host")
	}
	return checkAddr(v)
}

// checkEndpoint accepts an http(s) URL or a bare host:port.
func checkEndpoint(v string) error {
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("must be an http(s) URL or host:port")
		}
		return nil
	}
	return checkHostPort(v)
}
