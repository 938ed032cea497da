package config_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/servers/config"
)

// env is a fake environment.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func load(t *testing.T, e env, args []string, sections ...config.Section) (*config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := config.Register(fs, sections...)
	require.NoError(t, fs.Parse(args))
	return l.Load(e.lookup)
}

// validSync is an environment under which `sync` loads.
func validSync() env {
	return env{
		"VIDLIB_POSTGRES_URL":          "postgres://vidlib@db:5432/vidlib?sslmode=disable",
		"VIDLIB_REDIS_URL":             "redis://cache:6379/0",
		"VIDLIB_KAFKA_BROKERS":         "k1:9092, k2:9092",
		"VIDLIB_VIMEO_TOKEN":           "tok-SECRET-1234567890",
		"VIDLIB_VIMEO_ROOT_FOLDER_ID":  "15721523",
		"VIDLIB_VIMEO_WEBHOOK_SECRETS": "whsec-NEW-abcdef,whsec-OLD-ghijkl",
	}
}

func TestDefaults(t *testing.T) {
	c, err := load(t, validSync(), nil, config.ForSync...)
	require.NoError(t, err)
	require.Equal(t, ":9090", c.Listen.Metrics)
	require.Equal(t, ":8081", c.Listen.Sync)
	require.Equal(t, 6*time.Hour, c.Sync.ReconcileInterval)
	require.Equal(t, 30*time.Second, c.Sync.PollInterval)
	require.Equal(t, 0.10, c.Sync.MaxDeleteShare)
	require.Equal(t, 20*time.Second, c.ShutdownTimeout)
	require.Equal(t, zapcore.InfoLevel, c.Log.Level)
	require.Equal(t, "json", c.Log.Format)
	require.False(t, c.Tracing.Enabled(), "tracing is off by default")
	require.Equal(t, []string{"k1:9092", "k2:9092"}, c.Kafka.Brokers)
	require.Equal(t, "me", c.Vimeo.UserID)
	require.Equal(t, "tok-SECRET-1234567890", c.Vimeo.Token.Value())
	require.Equal(t, []string{"whsec-NEW-abcdef", "whsec-OLD-ghijkl"}, c.Vimeo.WebhookSecrets.Values())
}

func TestPrecedenceFlagOverEnvOverDefault(t *testing.T) {
	e := validSync()
	e["VIDLIB_POLL_INTERVAL"] = "45s"
	e["VIDLIB_RECONCILE_INTERVAL"] = "2h"
	e["VIDLIB_LOG_LEVEL"] = "debug"
	c, err := load(t, e, []string{"--poll-interval=10s"}, config.ForSync...)
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, c.Sync.PollInterval, "flag wins over env")
	require.Equal(t, 2*time.Hour, c.Sync.ReconcileInterval, "env wins over default")
	require.Equal(t, zapcore.DebugLevel, c.Log.Level)
	require.Equal(t, 0.10, c.Sync.MaxDeleteShare, "default when neither is set")
}

func TestSecretsHaveNoFlags(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := config.Register(fs, config.ForAll...)
	require.Nil(t, fs.Lookup("vimeo-token"))
	require.Nil(t, fs.Lookup("vimeo-webhook-secrets"))
	require.Nil(t, fs.Lookup("audit-checkpoint-key"))
	require.NotNil(t, fs.Lookup("vimeo-root-folder-id"))
	require.Nil(t, fs.Lookup("console-client-secret"))
	require.Nil(t, fs.Lookup("console-session-key"))
	require.NotNil(t, fs.Lookup("console-redirect-url"))
	require.Error(t, fs.Parse([]string{"--vimeo-token=abc"}), "a secret cannot be a flag")
	require.Len(t, l.Secrets(), 7)
	require.Nil(t, fs.Lookup("hubspot-token"))
	require.Contains(t, strings.Join(l.Secrets(), "\n"), "VIDLIB_HUBSPOT_TOKEN_FILE")
	require.Contains(t, strings.Join(l.Secrets(), "\n"), "VIDLIB_VIMEO_TOKEN_FILE")
	require.Contains(t, strings.Join(l.Secrets(), "\n"), "VIDLIB_CONSOLE_SESSION_KEY_FILE")
	require.Contains(t, strings.Join(l.Secrets(), "\n"), "VIDLIB_AUDIT_CHECKPOINT_KEY_FILE")
	require.Contains(t, strings.Join(l.Secrets(), "\n"), "VIDLIB_ANALYTICS_SESSION_SECRETS_FILE")
	require.Nil(t, fs.Lookup("analytics-session-secrets"))
}

// TestAuditSettings: the access sample rate is bounded and the checkpoint
// key must be an Ed25519 seed, from the environment only.
func TestAuditSettings(t *testing.T) {
	load := func(env map[string]string, args ...string) (*config.Config, error) {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		l := config.Register(fs, config.SectionAPI, config.SectionAudit)
		require.NoError(t, fs.Parse(args))
		base := map[string]string{"VIDLIB_POSTGRES_URL": "postgres://db/v", "VIDLIB_REDIS_URL": "redis://cache:6379", "VIDLIB_KAFKA_BROKERS": "k:9092"}
		return l.Load(func(k string) (string, bool) {
			if v, ok := env[k]; ok {
				return v, true
			}
			v, ok := base[k]
			return v, ok
		})
	}
	c, err := load(map[string]string{"VIDLIB_AUDIT_CHECKPOINT_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, "--audit-access-sample=0.25")
	require.NoError(t, err)
	require.Equal(t, 0.25, c.Audit.AccessSampleRate)
	require.True(t, c.Audit.CheckpointKey.IsSet())
	require.NotContains(t, fmt.Sprintf("%v", c.Audit), "AAEC")
	_, err = load(nil, "--audit-access-sample=1.5")
	require.ErrorContains(t, err, "audit-access-sample")
	_, err = load(map[string]string{"VIDLIB_AUDIT_CHECKPOINT_KEY": "c2hvcnQ="})
	require.ErrorContains(t, err, "AUDIT_CHECKPOINT_KEY")
}

func TestSectionsRegisterOnlyTheirSettings(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := config.Register(fs, config.ForMigrate...)
	require.NotNil(t, fs.Lookup("postgres-url"))
	require.NotNil(t, fs.Lookup("log-level"), "core is always registered")
	require.Nil(t, fs.Lookup("api-addr"))
	require.Nil(t, fs.Lookup("kafka-brokers"))
	// Settings of other sections are neither read nor validated.
	c, err := l.Load(env{"VIDLIB_POSTGRES_URL": "postgres://p@h/db", "VIDLIB_POLL_INTERVAL": "nonsense"}.lookup)
	require.NoError(t, err)
	require.Equal(t, config.DefaultPollInterval, c.Sync.PollInterval)
	require.True(t, c.Has(config.SectionPostgres))
	require.False(t, c.Has(config.SectionVimeo))
	require.NotContains(t, c.String(), "vimeo")
}

func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("file-token-SECRET\n"), 0o600))
	e := validSync()
	delete(e, "VIDLIB_VIMEO_TOKEN")
	e["VIDLIB_VIMEO_TOKEN_FILE"] = tokenFile
	pgFile := filepath.Join(dir, "pg")
	require.NoError(t, os.WriteFile(pgFile, []byte("postgres://vidlib:pw-SECRET@db/vidlib\n"), 0o600))
	delete(e, "VIDLIB_POSTGRES_URL")
	e["VIDLIB_POSTGRES_URL_FILE"] = pgFile
	c, err := load(t, e, nil, config.ForSync...)
	require.NoError(t, err)
	require.Equal(t, "file-token-SECRET", c.Vimeo.Token.Value(), "trailing newline dropped")
	require.Equal(t, "postgres://vidlib:pw-SECRET@db/vidlib", c.Postgres.URL)
	require.NotContains(t, c.String(), "pw-SECRET")
	require.Contains(t, c.String(), "postgres_url=postgres://vidlib:xxxxx@db/vidlib")

	// Both the variable and its _FILE: refused.
	e["VIDLIB_VIMEO_TOKEN"] = "env-token"
	_, err = load(t, e, nil, config.ForSync...)
	require.ErrorIs(t, err, config.ErrInvalid)
	require.Contains(t, err.Error(), "both VIDLIB_VIMEO_TOKEN and VIDLIB_VIMEO_TOKEN_FILE are set")

	// A missing file names the variable and the path.
	delete(e, "VIDLIB_VIMEO_TOKEN")
	e["VIDLIB_VIMEO_TOKEN_FILE"] = filepath.Join(dir, "absent")
	_, err = load(t, e, nil, config.ForSync...)
	require.ErrorContains(t, err, "VIDLIB_VIMEO_TOKEN_FILE="+filepath.Join(dir, "absent")+" cannot be read: no such file or directory")
}

func TestValidationNamesEverySetting(t *testing.T) {
	e := env{
		"VIDLIB_REDIS_URL":            "http://cache",
		"VIDLIB_KAFKA_BROKERS":        "k1",
		"VIDLIB_VIMEO_ROOT_FOLDER_ID": "folder-one",
		"VIDLIB_MAX_DELETE_SHARE":     "1.5",
		"VIDLIB_RECONCILE_INTERVAL":   "soon",
	}
	_, err := load(t, e, []string{"--poll-interval=0s", "--metrics-addr=localhost", "--log-format=xml"}, config.ForSync...)
	require.ErrorIs(t, err, config.ErrInvalid)
	var ve *config.ValidationError
	require.True(t, errors.As(err, &ve))
	msg := err.Error()
	for _, want := range []string{
		`--postgres-url (VIDLIB_POSTGRES_URL): must be set`,
		`--redis-url (VIDLIB_REDIS_URL): "http://cache" is not a Redis URL`,
		`--kafka-brokers (VIDLIB_KAFKA_BROKERS): "k1" is not host:port`,
		`VIDLIB_VIMEO_TOKEN (or VIDLIB_VIMEO_TOKEN_FILE): must be set`,
		`--vimeo-root-folder-id (VIDLIB_VIMEO_ROOT_FOLDER_ID): must be a numeric folder id`,
		`VIDLIB_VIMEO_WEBHOOK_SECRETS (or VIDLIB_VIMEO_WEBHOOK_SECRETS_FILE): must hold at least one`,
		`--max-delete-share (VIDLIB_MAX_DELETE_SHARE): must be greater than 0 and at most 1, got 1.5`,
		`--reconcile-interval (VIDLIB_RECONCILE_INTERVAL): VIDLIB_RECONCILE_INTERVAL: "soon" is not a duration`,
		`--poll-interval (VIDLIB_POLL_INTERVAL): must be at least 1s, got 0s`,
		`--metrics-addr (VIDLIB_METRICS_ADDR): "localhost" is not a listen address`,
		`--log-format (VIDLIB_LOG_FORMAT): must be "json" or "console", got "xml"`,
	} {
		require.Contains(t, msg, want)
	}
	require.Len(t, ve.Problems, 11, msg)
}

func TestPasswordInFlagRefused(t *testing.T) {
	e := validSync()
	delete(e, "VIDLIB_POSTGRES_URL")
	_, err := load(t, e, []string{"--postgres-url=postgres://vidlib:hunter2@db/vidlib"}, config.ForSync...)
	require.ErrorContains(t, err, "--postgres-url (VIDLIB_POSTGRES_URL): holds a password: pass it in VIDLIB_POSTGRES_URL or VIDLIB_POSTGRES_URL_FILE, never as a flag")
	require.NotContains(t, err.Error(), "hunter2")
	// Without a password the flag is fine.
	c, err := load(t, e, []string{"--postgres-url=postgres://vidlib@db/vidlib"}, config.ForSync...)
	require.NoError(t, err)
	require.Equal(t, "postgres://vidlib@db/vidlib", c.Postgres.URL)
}

func TestAuth(t *testing.T) {
	e := env{
		"VIDLIB_POSTGRES_URL":         "postgres://vidlib@db/vidlib",
		"VIDLIB_REDIS_URL":            "redis://cache:6379",
		"VIDLIB_KAFKA_BROKERS":        "k1:9092",
		"VIDLIB_COGNITO_REGION":       "eu-west-1",
		"VIDLIB_COGNITO_USER_POOL_ID": "eu-west-1_AbC123",
		"VIDLIB_COGNITO_CLIENT_IDS":   "app1,app2",
		"VIDLIB_APPLE_AUDIENCES":      "com.example.web,com.example.app",
		"VIDLIB_AUTH_GROUP_ROLES":     "premium=subscriber,premium=member,staff=staff",
		"VIDLIB_AUTH_SEGMENT_CLAIMS":  "custom:tier=tier",
	}
	c, err := load(t, e, nil, config.ForAPI...)
	require.NoError(t, err)
	is := c.Auth.Issuers()
	require.Len(t, is, 2)
	require.Equal(t, auth.CognitoIssuer("eu-west-1", "eu-west-1_AbC123", "app1", "app2"), is[0])
	require.Equal(t, auth.AppleIssuer("com.example.web", "com.example.app"), is[1])
	require.Equal(t, map[string][]string{"premium": {"subscriber", "member"}, "staff": {"staff"}}, c.Auth.Options().GroupRoles)
	require.Equal(t, map[string]string{"custom:tier": "tier"}, c.Auth.Options().SegmentClaims)

	e["VIDLIB_COGNITO_REGION"] = "us-east-1"
	_, err = load(t, e, nil, config.ForAPI...)
	require.ErrorContains(t, err, `--cognito-region (VIDLIB_COGNITO_REGION): is "us-east-1" but the user pool "eu-west-1_AbC123" is in eu-west-1`)

	for _, k := range []string{"VIDLIB_COGNITO_REGION", "VIDLIB_COGNITO_USER_POOL_ID", "VIDLIB_COGNITO_CLIENT_IDS", "VIDLIB_APPLE_AUDIENCES"} {
		delete(e, k)
	}
	_, err = load(t, e, nil, config.ForAPI...)
	require.ErrorContains(t, err, "no token issuer is configured")
}

// The secrets of validSync, and a password, must never show in any printed form.
func TestSecretsNeverPrinted(t *testing.T) {
	e := validSync()
	e["VIDLIB_POSTGRES_URL"] = "postgres://vidlib:pg-PASSWORD-9@db:5432/vidlib"
	e["VIDLIB_REDIS_URL"] = "redis://:redis-PASSWORD-7@cache:6379/0"
	c, err := load(t, e, nil, config.ForAll...)
	require.Error(t, err) // no issuer: fine, the Config is filled anyway
	require.Equal(t, "tok-SECRET-1234567890", c.Vimeo.Token.Value())

	secrets := []string{"tok-SECRET", "whsec-NEW", "whsec-OLD", "pg-PASSWORD", "redis-PASSWORD"}
	var outputs []string
	outputs = append(outputs,
		c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v %q %x", *c, *c, *c, c.Vimeo.Token, c.Vimeo.Token),
		fmt.Sprintf("%v %+v %#v", c.Vimeo, c.Vimeo, c.Vimeo.WebhookSecrets),
	)
	j, err := json.Marshal(c)
	require.NoError(t, err)
	jv, err := json.Marshal(c.Vimeo)
	require.NoError(t, err)
	outputs = append(outputs, string(j), string(jv))

	var zbuf bytes.Buffer
	zl := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&zbuf), zapcore.DebugLevel))
	zl.Info("start", zap.Object("config", c), zap.Any("any", c), zap.Any("vimeo", c.Vimeo), zap.Reflect("reflect", *c),
		zap.Stringer("token", c.Vimeo.Token), zap.Any("tok", c.Vimeo.Token))
	outputs = append(outputs, zbuf.String())

	var sbuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&sbuf, nil)).Info("start", "config", c, "vimeo", c.Vimeo, "token", c.Vimeo.Token)
	outputs = append(outputs, sbuf.String())

	for i, out := range outputs {
		for _, s := range secrets {
			require.NotContains(t, out, s, "output %d: %s", i, out)
		}
	}
	// The printed forms still say what is configured.
	require.Contains(t, c.String(), "vimeo_token="+config.Redacted)
	require.Contains(t, zbuf.String(), `"vimeo_webhook_secrets":"[redacted] x2"`)
	require.Contains(t, zbuf.String(), `"postgres_url":"postgres://vidlib:xxxxx@db:5432/vidlib"`)
	require.True(t, strings.Contains(sbuf.String(), `"vimeo_root_folder_id":"15721523"`), sbuf.String())
}

func TestEnvName(t *testing.T) {
	require.Equal(t, "VIDLIB_POLL_INTERVAL", config.Env("poll-interval"))
}

// A boolean setting's flag stands alone, takes a value, and reads its variable.
func TestBooleanSetting(t *testing.T) {
	e := env{}
	c, err := load(t, e, []string{"--redis-page-cache"}, config.SectionCore, config.SectionAPI)
	require.NoError(t, err)
	require.True(t, c.Redis.PageCache)
	c, err = load(t, e, []string{"--redis-page-cache=false"}, config.SectionCore, config.SectionAPI)
	require.NoError(t, err)
	require.False(t, c.Redis.PageCache)
	c, err = load(t, env{"VIDLIB_REDIS_PAGE_CACHE": "1"}, nil, config.SectionCore, config.SectionAPI)
	require.NoError(t, err)
	require.True(t, c.Redis.PageCache)
	_, err = load(t, env{"VIDLIB_REDIS_PAGE_CACHE": "maybe"}, nil, config.SectionCore, config.SectionAPI)
	require.ErrorContains(t, err, "VIDLIB_REDIS_PAGE_CACHE")
	c, err = load(t, e, nil, config.SectionCore, config.SectionAPI)
	require.NoError(t, err)
	require.False(t, c.Redis.PageCache, "off by default")
}

func TestConsole(t *testing.T) {
	e := env{
		"VIDLIB_POSTGRES_URL":         "postgres://vidlib@db/vidlib",
		"VIDLIB_REDIS_URL":            "redis://cache:6379",
		"VIDLIB_KAFKA_BROKERS":        "k1:9092",
		"VIDLIB_COGNITO_REGION":       "eu-west-1",
		"VIDLIB_COGNITO_USER_POOL_ID": "eu-west-1_AbC123",
		"VIDLIB_COGNITO_CLIENT_IDS":   "app1,console",
	}
	// On by default with a user pool: the callback must be configured.
	_, err := load(t, e, nil, config.ForAdmin...)
	require.ErrorContains(t, err, "--console-redirect-url (VIDLIB_CONSOLE_REDIRECT_URL): must be set while the console is on")
	c, err := load(t, e, []string{"--console=false"}, config.ForAdmin...)
	require.NoError(t, err)
	require.False(t, c.ConsoleOn())

	key := strings.Repeat("ab", 32)
	e["VIDLIB_CONSOLE_REDIRECT_URL"] = "https://admin.example.com/auth/callback"
	e["VIDLIB_CONSOLE_SESSION_KEY"] = key
	e["VIDLIB_CONSOLE_CLIENT_SECRET"] = "s3cret"
	c, err = load(t, e, nil, config.ForAdmin...)
	require.NoError(t, err)
	require.True(t, c.ConsoleOn())
	require.Equal(t, "app1", c.ConsoleClientID(), "the first Cognito client by default")
	require.Equal(t, "s3cret", c.Console.ClientSecret.Value())
	k, err := c.Console.SessionKeyBytes()
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte{0xab}, 32), k)
	require.NotContains(t, fmt.Sprint(c.Console), "s3cret")
	require.NotContains(t, fmt.Sprint(c.Console), key)

	// Base64 too; a key of another length is refused without echoing it.
	e["VIDLIB_CONSOLE_SESSION_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	c, err = load(t, e, []string{"--console-client-id", "console"}, config.ForAdmin...)
	require.NoError(t, err)
	k, err = c.Console.SessionKeyBytes()
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte{7}, 32), k)
	require.Equal(t, "console", c.ConsoleClientID())
	e["VIDLIB_CONSOLE_SESSION_KEY"] = "abcd"
	_, err = load(t, e, nil, config.ForAdmin...)
	require.ErrorContains(t, err, "VIDLIB_CONSOLE_SESSION_KEY (or VIDLIB_CONSOLE_SESSION_KEY_FILE): must be 32 bytes")
	require.NotContains(t, err.Error(), "abcd")
	delete(e, "VIDLIB_CONSOLE_SESSION_KEY")

	_, err = load(t, e, []string{"--console-client-id", "other"}, config.ForAdmin...)
	require.ErrorContains(t, err, `--console-client-id (VIDLIB_CONSOLE_CLIENT_ID): "other" is not one of --cognito-client-ids`)
	e["VIDLIB_CONSOLE_REDIRECT_URL"] = "admin.example.com"
	_, err = load(t, e, nil, config.ForAdmin...)
	require.ErrorContains(t, err, "--console-redirect-url (VIDLIB_CONSOLE_REDIRECT_URL): must be the absolute http(s) URL of the console's /auth/callback")

	// Without a user pool (Google only) the console is off and needs nothing.
	c, err = load(t, env{"VIDLIB_POSTGRES_URL": "postgres://vidlib@db/vidlib", "VIDLIB_REDIS_URL": "redis://cache:6379", "VIDLIB_KAFKA_BROKERS": "k1:9092",
		"VIDLIB_GOOGLE_CLIENT_IDS": "g1"}, nil, config.ForAdmin...)
	require.NoError(t, err)
	require.False(t, c.ConsoleOn())
}

// TestAdminVimeoIsOptional: `vidlib admin` loads without the Vimeo settings
// (its dry run is then unavailable); once one is set, the section is
// validated as for sync.
func TestAdminVimeoIsOptional(t *testing.T) {
	e := env{
		"VIDLIB_POSTGRES_URL":         "postgres://vidlib@db/vidlib",
		"VIDLIB_REDIS_URL":            "redis://cache:6379",
		"VIDLIB_KAFKA_BROKERS":        "k1:9092",
		"VIDLIB_COGNITO_REGION":       "eu-west-1",
		"VIDLIB_COGNITO_USER_POOL_ID": "eu-west-1_AbC123",
		"VIDLIB_COGNITO_CLIENT_IDS":   "app1",
	}
	c, err := load(t, e, []string{"--console=false"}, config.ForAdmin...)
	require.NoError(t, err)
	require.False(t, c.VimeoSet())
	_, err = load(t, e, []string{"--console=false", "--vimeo-root-folder-id", "15721523"}, config.ForAdmin...)
	require.ErrorContains(t, err, "VIDLIB_VIMEO_TOKEN")
	e["VIDLIB_VIMEO_TOKEN"] = "tok"
	c, err = load(t, e, []string{"--console=false", "--vimeo-root-folder-id", "15721523"}, config.ForAdmin...)
	require.NoError(t, err)
	require.True(t, c.VimeoSet())
	// sync still needs them.
	_, err = load(t, env{"VIDLIB_POSTGRES_URL": "postgres://vidlib@db/vidlib", "VIDLIB_KAFKA_BROKERS": "k1:9092"}, nil, config.ForSync...)
	require.ErrorContains(t, err, "vimeo-root-folder-id")
}

func TestHubSpotSettings(t *testing.T) {
	c := config.Default()
	require.False(t, c.HubSpot.Chat, "off unless configured")
	before := c.Validate().Error()
	c.HubSpot.Chat = true
	require.Equal(t, before, c.Validate().Error(), "the defaults are valid once it is on")
	require.NotContains(t, before, "hubspot")
	c.HubSpot.PagePath = "videos"
	c.HubSpot.PageOrigin = "https://app.example.com/x"
	c.HubSpot.BurstPer10s = 0
	c.HubSpot.PortalID = "12a"
	err := c.Validate()
	require.Error(t, err)
	for _, name := range []string{"hubspot-page-path", "hubspot-page-origin", "hubspot-burst", "hubspot-portal-id"} {
		require.Contains(t, err.Error(), name)
	}
}

func TestMemoryLimitValues(t *testing.T) {
	for in, want := range map[string]int64{
		"auto": config.MemoryLimitAuto, "": config.MemoryLimitAuto, "OFF": config.MemoryLimitOff,
		"1800MiB": 1800 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40, "64KiB": 64 << 10, "1000": 1000, "1000B": 1000,
	} {
		got, err := config.ParseMemoryLimit(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		again, err := config.ParseMemoryLimit(config.FormatMemoryLimit(got))
		require.NoError(t, err, in)
		require.Equal(t, got, again, "%s formats as %s", in, config.FormatMemoryLimit(got))
	}
	require.Equal(t, "1800MiB", config.FormatMemoryLimit(1800<<20))
	for _, bad := range []string{"2GB", "-1", "0", "1.5GiB", "lots", "99999999999TiB"} {
		_, err := config.ParseMemoryLimit(bad)
		require.Error(t, err, bad)
	}
}

func TestMemorySettings(t *testing.T) {
	c, err := load(t, validSync(), nil, config.ForSync...)
	require.NoError(t, err)
	require.Equal(t, config.MemoryLimitAuto, c.MemoryLimit)
	require.Equal(t, int64(entitle.DefaultMaxCachedViewBytes), c.ViewCacheBytes, "the API's default is the index's")

	e := validSync()
	e["VIDLIB_MEMORY_LIMIT"] = "1800MiB"
	c, err = load(t, e, []string{"--view-cache-size=64MiB"}, slices.Concat(config.ForSync, []config.Section{config.SectionAPI})...)
	require.NoError(t, err)
	require.Equal(t, int64(1800<<20), c.MemoryLimit)
	require.Equal(t, int64(64<<20), c.ViewCacheBytes)

	_, err = load(t, validSync(), []string{"--view-cache-size=off"}, slices.Concat(config.ForSync, []config.Section{config.SectionAPI})...)
	require.ErrorContains(t, err, "view-cache-size")
	_, err = load(t, validSync(), []string{"--memory-limit=2GB"}, config.ForSync...)
	require.ErrorContains(t, err, "memory-limit")
}
