package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/fx"

	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// loadConfig builds a Config the way a subcommand does, from flags and an
// environment map.
func loadConfig(t *testing.T, sections []config.Section, env map[string]string, args ...string) *config.Config {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	l := config.Register(fs, sections...)
	require.NoError(t, fs.Parse(args))
	cfg, err := l.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	return cfg
}

// fullEnv is a complete configuration of every section (nothing is dialled
// by ValidateApp).
var fullEnv = map[string]string{
	"VIDLIB_POSTGRES_URL":          "postgres://vidlib@127.0.0.1:5432/vidlib",
	"VIDLIB_REDIS_URL":             "redis://127.0.0.1:6379/0",
	"VIDLIB_KAFKA_BROKERS":         "127.0.0.1:9092",
	"VIDLIB_VIMEO_TOKEN":           "token",
	"VIDLIB_VIMEO_ROOT_FOLDER_ID":  "123",
	"VIDLIB_VIMEO_WEBHOOK_SECRETS": "secret",
	"VIDLIB_COGNITO_REGION":        "eu-west-1",
	"VIDLIB_COGNITO_USER_POOL_ID":  "eu-west-1_AbC123",
	"VIDLIB_COGNITO_CLIENT_IDS":    "client",
	"VIDLIB_CONSOLE_REDIRECT_URL":  "https://admin.example.com/auth/callback",
	"VIDLIB_CONSOLE_SESSION_KEY":   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"VIDLIB_METRICS_ADDR":          "127.0.0.1:0",
	"VIDLIB_API_ADDR":              "127.0.0.1:0",
	"VIDLIB_SYNC_ADDR":             "127.0.0.1:0",
	"VIDLIB_ADMIN_ADDR":            "127.0.0.1:0",
	"VIDLIB_VIMEO_BASE_URL":        "http://127.0.0.1:1",
	"VIDLIB_SHUTDOWN_TIMEOUT":      "5s",
	"VIDLIB_LOG_LEVEL":             "warn",
	"VIDLIB_RECONCILE_INTERVAL":    "6h",
	"VIDLIB_POLL_INTERVAL":         "30s",
	"VIDLIB_OTEL_SERVICE_NAME":     "vidlib",
	"VIDLIB_AUTH_SEGMENT_CLAIMS":   "custom:tier=tier",
	"VIDLIB_AUTH_GROUP_ROLES":      "staff=staff",
	"VIDLIB_VIMEO_USER_ID":         "me",
	"VIDLIB_MAX_DELETE_SHARE":      "0.1",
	"VIDLIB_LOG_FORMAT":            "json",
	"VIDLIB_OTEL_SAMPLE_RATIO":     "1",
}

// TestEverySubcommandWires checks the fx graph of every server subcommand
// (fx.ValidateApp: every dependency provided, no cycles) without starting it.
func TestEverySubcommandWires(t *testing.T) {
	consume := append(append([]config.Section(nil), config.ForConsume...), config.SectionVimeo)
	for _, tc := range []struct {
		name     string
		p        Parts
		sections []config.Section
	}{
		{"api", Parts{API: true}, config.ForAPI},
		{"sync", Parts{Sync: true}, config.ForSync},
		{"consume", Parts{Consume: true}, consume},
		{"admin", Parts{Admin: true}, config.ForAdmin},
		{"all", All, config.ForAll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadConfig(t, tc.sections, fullEnv)
			require.NoError(t, fx.ValidateApp(Options(cfg, tc.p)))
		})
	}
	t.Run("sync --once", func(t *testing.T) {
		cfg := loadConfig(t, OnceSections, map[string]string{
			"VIDLIB_POSTGRES_URL": fullEnv["VIDLIB_POSTGRES_URL"], "VIDLIB_VIMEO_TOKEN": "token",
			"VIDLIB_VIMEO_ROOT_FOLDER_ID": "1", "VIDLIB_VIMEO_BASE_URL": "http://127.0.0.1:1",
		})
		var s *syncworker.Scheduler
		require.NoError(t, fx.ValidateApp(OnceOptions(cfg), fx.Populate(&s)))
	})
}

// TestAdminConsoleWires: `vidlib admin` with a user pool builds the web
// console (the named admin_console handler, constructed without starting
// anything); with --console=false there is none.
func TestAdminConsoleWires(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{{nil, true}, {[]string{"--console=false"}, false}} {
		cfg := loadConfig(t, config.ForAdmin, fullEnv, tc.args...)
		require.Equal(t, tc.want, cfg.ConsoleOn())
		var con http.Handler
		app := fx.New(Options(cfg, Parts{Admin: true}), fx.NopLogger,
			fx.Invoke(fx.Annotate(func(h http.Handler) { con = h }, fx.ParamTags(`name:"admin_console" optional:"true"`))))
		require.NoError(t, app.Err())
		if !tc.want {
			require.Nil(t, con, "--console=false: no console")
			continue
		}
		require.NotNil(t, con)
		rec := httptest.NewRecorder()
		con.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/signin", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	}
}

// TestAllEndToEnd runs every server in one process (`vidlib all`) against
// real PostgreSQL, Redis and a Kafka-protocol broker and the fake Vimeo:
// the startup reconciliation mirrors the account, the API serves it, an edit
// in Vimeo arrives through a webhook and shows in the API, and a stop (what
// SIGTERM triggers) leaves no outbox row unsent and every consumed offset
// committed.
func TestAllEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	redisURL, redisPrefix := testenv.Redis(t)
	_ = redisPrefix // the test's Redis database is its own
	kc := testenv.Kafka(t)

	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 3, Folders: 12, Videos: 60, OutsideFolders: 1, OutsideVideos: 2})
	require.NoError(t, err)
	fake := vimeotest.Start(t, acct, nil)
	issuer := startIssuer(t)

	// Everyone signed in may see the whole mirrored root.
	st := migratedStore(t, dsn)
	rootID := strconv.FormatInt(root, 10)
	allowEveryone(t, st, rootID)

	env := envWith(servicesEnv(dsn, redisURL, kc), fakeVimeoEnv(fake, root), map[string]string{ // only the startup run and the webhook call Vimeo here
		"VIDLIB_VIMEO_WEBHOOK_SECRETS": "e2e-secret", "VIDLIB_ANALYTICS_SESSION_SECRETS": "an-e2e-analytics-session-secret-of-enough-bytes"})
	cfg := loadConfig(t, config.ForAll, env)

	var apiSrv *APIServer
	var syncSrv *SyncServer
	app := fx.New(
		Options(cfg, All,
			trust(issuer)),
		fx.Populate(&apiSrv, &syncSrv),
	)
	stop := runApp(t, "vidlib all", app)

	token := issuer.IDToken(authtest.User{Email: "viewer@example.com"})
	get := func(path string) (int, []byte) {
		if apiSrv.Addr() == "" {
			return 0, nil
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+apiSrv.Addr()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	// The startup reconciliation mirrors the account; the API serves it.
	snapVideos := func() []string {
		snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
		if err != nil {
			return nil
		}
		return snap.VideoIDs()
	}
	eventually(t, "the startup reconciliation mirrored the account", func() bool { return len(snapVideos()) == 60 })
	var video string
	for _, id := range snapVideos() {
		snap, _ := st.LoadSnapshot(ctx, tree.LoadOptions{})
		if snap.Video(id).Playable() {
			video = id
			break
		}
	}
	require.NotEmpty(t, video)
	eventually(t, "the API serves the mirrored video", func() bool {
		code, _ := get("/videos/" + video)
		return code == http.StatusOK
	})
	code, body := get("/library/home")
	require.Equal(t, http.StatusOK, code, string(body))

	// An edit in Vimeo arrives through the webhook and shows in the API.
	_, err = fake.AddWebhook("http://"+syncSrv.Addr()+syncworker.WebhookPath, "video-updated", "e2e-secret", true)
	require.NoError(t, err)
	vid, err := strconv.ParseInt(video, 10, 64)
	require.NoError(t, err)
	require.NoError(t, acct.RenameVideo(vid, "Edited in Vimeo"))
	n, err := fake.FlushWebhooks(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the webhook was delivered and accepted")
	eventually(t, "the edit visible in the API", func() bool {
		code, body := get("/videos/" + video)
		var v struct {
			Title string `json:"title"`
		}
		return code == http.StatusOK && json.Unmarshal(body, &v) == nil && v.Title == "Edited in Vimeo"
	})

	// Playback events go through Kafka and the consumer into PostgreSQL; the
	// API's copy of the viewer's progress (read once before, empty) follows
	// the version the consumer bumps in Redis, and a dismissal at once.
	cw := func() []string {
		code, body := get("/me/continue-watching")
		require.Equal(t, http.StatusOK, code, string(body))
		var p struct {
			Videos []struct {
				ID string `json:"id"`
			} `json:"videos"`
		}
		require.NoError(t, json.Unmarshal(body, &p))
		var out []string
		for _, v := range p.Videos {
			out = append(out, v.ID)
		}
		return out
	}
	require.Empty(t, cw())
	code, body = get("/videos/" + video + "/playback")
	require.Equal(t, http.StatusOK, code, string(body))
	var pb struct {
		Session struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		} `json:"session"`
	}
	require.NoError(t, json.Unmarshal(body, &pb))
	code, body = get("/videos/" + video)
	require.Equal(t, http.StatusOK, code, string(body))
	var detail struct {
		Duration float64 `json:"duration_seconds"`
	}
	require.NoError(t, json.Unmarshal(body, &detail))
	pos := 30.0
	if detail.Duration > 0 {
		pos = detail.Duration / 2
	}
	evs, _ := json.Marshal(map[string]any{"events": []map[string]any{{"event_id": uuid.NewString(), "type": "heartbeat",
		"session_id": pb.Session.ID, "session_token": pb.Session.Token, "video_id": video, "position_seconds": pos,
		"occurred_at": time.Now().UTC()}}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+apiSrv.Addr()+"/analytics/events", bytes.NewReader(evs))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	eventually(t, "the played video in continue watching", func() bool { return slices.Equal(cw(), []string{video}) })
	req, _ = http.NewRequestWithContext(ctx, http.MethodDelete, "http://"+apiSrv.Addr()+"/me/continue-watching/"+video, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, cw(), "dismissed")

	// Serving never calls Vimeo: the fake's request log does not grow while
	// every endpoint answers.
	calls := len(fake.Requests())
	for _, path := range []string{"/library/home", "/me", "/videos/" + video, "/videos/" + video + "/playback", "/folders/" + rootID, "/folders/999999", "/videos/1"} {
		for range 5 {
			code, body := get(path)
			require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, code, "%s: %s", path, body)
		}
	}
	require.Equal(t, calls, len(fake.Requests()), "the API made no call to Vimeo while serving")

	// Stop as SIGTERM does; nothing is left behind.
	require.NoError(t, stop())
	backlog, err := st.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, backlog, "the relay flushed the outbox before exiting")
	bus, err := kafkabus.New(kc.Brokers(), &kafkabus.Options{TopicPrefix: kc.TopicPrefix()})
	require.NoError(t, err)
	defer bus.Close()
	// The normaliser consumed and committed every raw webhook.
	lag, err := bus.Lag(ctx, syncworker.GroupNormalizer, events.TopicVimeoWebhooksRaw)
	require.NoError(t, err)
	for p, l := range lag[events.TopicVimeoWebhooksRaw] {
		require.Zerof(t, l, "normaliser, partition %d: every consumed offset committed", p)
	}
	// The applier committed every refetch action. What is left after its
	// committed offsets can only be the mirror's change events that the final
	// relay flush published after the applier stopped: a restart reads them.
	lag, err = bus.Lag(ctx, syncworker.GroupApplier, events.TopicVimeoSyncNormalized)
	require.NoError(t, err)
	left := 0
	for _, l := range lag[events.TopicVimeoSyncNormalized] {
		left += int(l)
	}
	t.Logf("%d records after the applier's committed offsets", left)
	for _, ev := range uncommitted(t, kc, kc.TopicPrefix()+syncworker.GroupApplier, events.TopicVimeoSyncNormalized, left) {
		require.NotEqual(t, syncworker.EventVideoRefetch, ev.Type, "a refetch action left uncommitted")
	}
	pes, err := st.ListProviderEvents(ctx, events.ProviderEventFilter{Status: events.ProviderEventProcessed})
	require.NoError(t, err)
	require.Len(t, pes, 1, "the webhook was processed")
}

// uncommitted reads the n records of topic after group's committed offsets,
// without committing.
func uncommitted(t *testing.T, kc *testenv.KafkaCluster, group, topic string, n int) []events.Event {
	t.Helper()
	if n == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers()...), kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(kc.Topic(topic)), kgo.DisableAutoCommit(), kgo.FetchMaxWait(100*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []events.Event
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "reading the uncommitted records")
		fs.EachRecord(func(r *kgo.Record) {
			ev, err := events.Decode(r.Value)
			require.NoError(t, err)
			out = append(out, ev)
		})
	}
	return out
}

// eventually waits for cond, failing after a generous bound (a liveness
// check, not a timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
