package compose

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// gatedPublisher holds or fails the publishes to one topic, to put a
// consumer that publishes there in a known state.
type gatedPublisher struct {
	next  events.Publisher
	topic string
	fail  atomic.Bool
	held  atomic.Int32 // publishes waiting at the gate

	mu   sync.Mutex
	gate chan struct{} // nil: open
}

var errGate = errors.New("test gate: publish refused")

func (g *gatedPublisher) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gatedPublisher) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
}

func (g *gatedPublisher) Publish(ctx context.Context, msgs ...events.Message) error {
	for _, m := range msgs {
		if m.Topic != g.topic {
			continue
		}
		g.mu.Lock()
		gate := g.gate
		g.mu.Unlock()
		if gate != nil {
			g.held.Add(1)
			select {
			case <-gate:
				g.held.Add(-1)
			case <-ctx.Done():
				g.held.Add(-1)
				return ctx.Err()
			}
		}
		if g.fail.Load() {
			return errGate
		}
		break
	}
	return g.next.Publish(ctx, msgs...)
}

// scraper reads a /metrics endpoint.
type scraper struct {
	t    *testing.T
	addr string
}

var labelRE = regexp.MustCompile(`(\w+)="([^"]*)"`)

// value returns the sample of name whose labels include labels.
func (s scraper) value(name string, labels map[string]string) (float64, bool) {
	s.t.Helper()
	resp, err := http.Get("http://" + s.addr + "/metrics")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		series, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, lbl, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		have := map[string]string{}
		for _, m := range labelRE.FindAllStringSubmatch(lbl, -1) {
			have[m[1]] = m[2]
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		f, err := strconv.ParseFloat(val, 64)
		require.NoError(s.t, err, line)
		return f, true
	}
	return 0, false
}

// must returns the sample, failing when it is absent.
func (s scraper) must(name string, labels map[string]string) float64 {
	s.t.Helper()
	v, ok := s.value(name, labels)
	require.Truef(s.t, ok, "metric %s%v is exported", name, labels)
	return v
}

// TestAllOperations runs `vidlib all` on real PostgreSQL, Redis and a
// Kafka-protocol broker with tracing on (spans kept in memory) and checks what
// an operator sees on /metrics and in the traces:
//   - the served snapshot's content and entitlement versions and its age;
//   - rate-limiter waits, one per Vimeo request;
//   - consumer lag per group, rising while the normaliser is stuck and back
//     to 0 once it moves on;
//   - a message dead-lettered (counter 1, open gauge 1), replayed once the
//     fault is gone (open gauge 0);
//   - a webhook received by the sync server, published, normalised and
//     applied as one trace, down to the applier's PostgreSQL queries;
//   - an API request as one trace, down to Redis and PostgreSQL.
func TestAllOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	redisURL, _ := testenv.Redis(t)
	kc := testenv.Kafka(t)

	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 5, Folders: 8, Videos: 30})
	require.NoError(t, err)
	fake := vimeotest.Start(t, acct, nil)
	issuer := startIssuer(t)

	st := migratedStore(t, dsn)
	rootID := strconv.FormatInt(root, 10)
	allowEveryone(t, st, rootID)

	env := envWith(servicesEnv(dsn, redisURL, kc), fakeVimeoEnv(fake, root), map[string]string{
		"VIDLIB_VIMEO_WEBHOOK_SECRETS": "ops-secret",
		"VIDLIB_REDIS_PAGE_CACHE":      "true", // so that an API request reaches Redis
	})
	cfg := loadConfig(t, config.ForAll, env)
	require.True(t, cfg.Redis.PageCache)

	spans := tracetest.NewInMemoryExporter()
	tr, err := ops.NewTracing(ctx, &ops.TracingOptions{Exporter: spans})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	var gate *gatedPublisher

	var apiSrv *APIServer
	var syncSrv *SyncServer
	var metricsSrv *ops.MetricsServer
	var lib *library.Service
	var pub events.Publisher
	app := fx.New(
		Options(cfg, All,
			trust(issuer),
			fx.Decorate(func(*ops.Tracing) *ops.Tracing { return tr }),
			fx.Decorate(func(p events.Publisher) events.Publisher {
				gate = &gatedPublisher{next: p, topic: events.TopicVimeoSyncNormalized}
				return gate
			}),
		),
		fx.Populate(&apiSrv, &syncSrv, &metricsSrv, &lib, &pub),
	)
	runApp(t, "vidlib all", app)
	bound := func(addr string) bool { return !strings.HasSuffix(addr, ":0") }
	eventually(t, "the servers listening", func() bool { return bound(metricsSrv.Addr()) && bound(syncSrv.Addr()) })
	m := scraper{t: t, addr: metricsSrv.Addr()}
	normLag := map[string]string{"group": syncworker.GroupNormalizer, "topic": events.TopicVimeoWebhooksRaw}
	applyLag := map[string]string{"group": syncworker.GroupApplier, "topic": events.TopicVimeoSyncNormalized}
	deadRaw := map[string]string{"topic": events.TopicVimeoWebhooksRaw}

	// The startup reconciliation mirrors the account; the API's snapshot
	// metrics follow the library it serves.
	eventually(t, "the first snapshot served", func() bool { return lib.Status().Ready && lib.Status().Videos == 30 })
	status := lib.Status()
	require.Equal(t, float64(status.ContentVersion), m.must("vidlib_snapshot_content_version", nil))
	require.Equal(t, float64(status.EntitlementVersion), m.must("vidlib_snapshot_entitlement_version", nil))
	require.InDelta(t, float64(status.LoadedAt.UnixNano())/1e9, m.must("vidlib_snapshot_loaded_timestamp_seconds", nil), 0.001)
	require.GreaterOrEqual(t, m.must("vidlib_snapshot_age_seconds", nil), 0.0)

	// Every Vimeo request waited for the rate limiter once (0 s mostly).
	vimeoCalls := map[string]string{"client": "vimeo"}
	waits := map[string]string{"provider": "vimeo"}
	require.Positive(t, m.must("vidlib_vimeo_requests_total", vimeoCalls))
	eventually(t, "one limiter wait per Vimeo request", func() bool {
		return m.must("vidlib_rate_limiter_wait_seconds_count", waits) == m.must("vidlib_vimeo_requests_total", vimeoCalls)
	})

	// Nothing dead-lettered yet; both groups' lag is exported.
	require.Zero(t, m.must("vidlib_dead_letters_open", nil))
	_, ok := m.value("vidlib_dead_letters_total", deadRaw)
	require.False(t, ok, "no dead letter yet")
	require.Zero(t, m.must("vidlib_consumer_lag_messages", normLag))
	eventually(t, "the applier caught up with the mirror's change events", func() bool {
		return m.must("vidlib_consumer_lag_messages", applyLag) == 0
	})

	// A webhook whose normalisation cannot publish: while the normaliser is
	// held, its group lags by one message.
	_, err = fake.AddWebhook("http://"+syncSrv.Addr()+syncworker.WebhookPath, "video-updated", "ops-secret", true)
	require.NoError(t, err)
	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	ids := snap.VideoIDs()
	first, err := strconv.ParseInt(ids[0], 10, 64)
	require.NoError(t, err)
	second, err := strconv.ParseInt(ids[1], 10, 64)
	require.NoError(t, err)

	gate.fail.Store(true)
	gate.hold()
	require.NoError(t, acct.RenameVideo(first, "Renamed while the bus was down"))
	n, err := fake.FlushWebhooks(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	eventually(t, "the normaliser held at the gate", func() bool { return gate.held.Load() > 0 })
	require.Equal(t, 1.0, m.must("vidlib_consumer_lag_messages", normLag), "one raw webhook not committed")

	// Released, it fails every attempt and is dead-lettered: counted, open,
	// and the partition moves on.
	gate.release()
	eventually(t, "the webhook dead-lettered", func() bool {
		v, ok := m.value("vidlib_dead_letters_total", deadRaw)
		return ok && v == 1
	})
	require.Equal(t, 1.0, m.must("vidlib_dead_letters_open", nil))
	require.Equal(t, 1.0, m.must("vidlib_consumer_messages_total",
		map[string]string{"group": syncworker.GroupNormalizer, "topic": events.TopicVimeoWebhooksRaw, "result": "dead_letter"}))
	eventually(t, "the normaliser committed past the dead letter", func() bool {
		return m.must("vidlib_consumer_lag_messages", normLag) == 0
	})

	// The fault is gone; an admin replays the letter: applied, nothing open.
	gate.fail.Store(false)
	letters, err := st.ListDeadLetters(ctx, events.DeadLetterFilter{Status: events.DeadLetterOpen})
	require.NoError(t, err)
	require.Len(t, letters, 1)
	replayer, err := events.NewReplayer(st, pub, nil)
	require.NoError(t, err)
	_, err = replayer.Replay(ctx, letters[0].ID, "ops@example.com")
	require.NoError(t, err)
	require.Zero(t, m.must("vidlib_dead_letters_open", nil), "replayed")
	eventually(t, "the replayed webhook applied", func() bool {
		s, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
		return err == nil && s.Video(ids[0]) != nil && s.Video(ids[0]).Title == "Renamed while the bus was down"
	})
	require.Equal(t, 1.0, m.must("vidlib_dead_letters_total", deadRaw), "it counts dead-letterings")
	require.Zero(t, m.must("vidlib_dead_letters_open", nil), "the replay did not fail again")
	eventually(t, "both groups caught up", func() bool {
		return m.must("vidlib_consumer_lag_messages", normLag) == 0 && m.must("vidlib_consumer_lag_messages", applyLag) == 0
	})

	// A webhook on a healthy bus is one trace: the sync server's request →
	// publish to vimeo.webhooks.raw → the normaliser → publish to
	// vimeo.sync.normalized → the applier → its PostgreSQL queries and its
	// call to Vimeo.
	require.NoError(t, acct.RenameVideo(second, "Traced"))
	n, err = fake.FlushWebhooks(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	eventually(t, "the traced webhook applied", func() bool {
		s, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
		return err == nil && s.Video(ids[1]) != nil && s.Video(ids[1]).Title == "Traced"
	})
	var chain []tracetest.SpanStub
	eventually(t, "the webhook's trace complete", func() bool {
		require.NoError(t, tr.ForceFlush(ctx))
		chain = webhookTrace(spans.GetSpans(), syncworker.GroupApplier)
		return chain != nil
	})
	for _, s := range chain[1:] {
		require.Equal(t, chain[0].SpanContext.TraceID(), s.SpanContext.TraceID(), s.Name)
	}

	// An API request is one trace too, down to Redis (the page cache, on here)
	// and PostgreSQL (the user).
	token := issuer.IDToken(authtest.User{Email: "viewer@example.com"})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+apiSrv.Addr()+"/library/home", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	eventually(t, "the API request traced to Redis and PostgreSQL", func() bool {
		require.NoError(t, tr.ForceFlush(ctx))
		return apiTraceReaches(spans.GetSpans(), "redis", "postgresql")
	})

	// The audit log: the admin's replay, the accepted webhooks and the
	// sign-in went through audit.events (the outbox relay, the bus) to the
	// audit consumer, and the stored chain verifies.
	eventually(t, "the audit consumer stored the replay, the webhooks and the sign-in", func() bool {
		for _, q := range []audit.Query{
			{Action: audit.ActionDeadLetterReplay, ActorID: "ops@example.com", ObjectKind: "dead_letter"},
			{Action: audit.ActionWebhookReceived, ActorKind: audit.ActorProvider},
			{Action: audit.ActionLogin, ActorKind: audit.ActorUser},
		} {
			p, err := st.SearchAudit(ctx, q)
			if err != nil || len(p.Items) == 0 {
				return false
			}
		}
		return true
	})
	rep, err := audit.Verify(ctx, st, nil)
	require.NoError(t, err)
	require.Nil(t, rep.Break, "the audit chain verifies")
	eventually(t, "the audit consumer's lag is exported and drains", func() bool {
		v, ok := m.value("vidlib_consumer_lag_messages", map[string]string{"group": consumers.GroupAudit, "topic": events.TopicAudit})
		return ok && v == 0
	})

	// Vimeo requests and limiter waits still agree after the refetches.
	eventually(t, "one limiter wait per Vimeo request", func() bool {
		return m.must("vidlib_rate_limiter_wait_seconds_count", waits) == m.must("vidlib_vimeo_requests_total", vimeoCalls)
	})
	v, ok := m.value("vidlib_scrape_errors_total", nil)
	require.False(t, ok && v > 0, "no scrape-time source failed")
}

// webhookTrace finds, among spans, a complete webhook trace: a server span,
// the publish to vimeo.webhooks.raw under it, the normaliser's span under
// that (parent carried in the Kafka header), the publish to
// vimeo.sync.normalized under it, the applier's span (of applierGroup) under
// that, and a PostgreSQL query and a call to Vimeo (the refetch) under the
// applier's span. It returns them in that order, or nil.
func webhookTrace(spans tracetest.SpanStubs, applierGroup string) []tracetest.SpanStub {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	for _, s := range spans {
		if s.Parent.IsValid() {
			children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
		}
	}
	child := func(parent tracetest.SpanStub, ok func(tracetest.SpanStub) bool) (tracetest.SpanStub, bool) {
		for _, c := range children[parent.SpanContext.SpanID()] {
			if c.SpanContext.TraceID() == parent.SpanContext.TraceID() && ok(c) {
				return c, true
			}
		}
		return tracetest.SpanStub{}, false
	}
	named := func(name string, kind trace.SpanKind) func(tracetest.SpanStub) bool {
		return func(s tracetest.SpanStub) bool { return s.Name == name && s.SpanKind == kind }
	}
	for _, server := range spans {
		if server.SpanKind != trace.SpanKindServer {
			continue
		}
		pubRaw, ok := child(server, named("publish "+events.TopicVimeoWebhooksRaw, trace.SpanKindProducer))
		if !ok {
			continue
		}
		norm, ok := child(pubRaw, named("process "+events.TopicVimeoWebhooksRaw, trace.SpanKindConsumer))
		if !ok {
			continue
		}
		pubNorm, ok := child(norm, named("publish "+events.TopicVimeoSyncNormalized, trace.SpanKindProducer))
		if !ok {
			continue
		}
		apply, ok := child(pubNorm, func(s tracetest.SpanStub) bool {
			if s.Name != "process "+events.TopicVimeoSyncNormalized {
				return false
			}
			for _, kv := range s.Attributes {
				if kv.Key == "messaging.consumer.group.name" && kv.Value.AsString() == applierGroup {
					return true
				}
			}
			return false
		})
		if !ok {
			continue
		}
		hasAttr := func(key string) func(tracetest.SpanStub) bool {
			return func(s tracetest.SpanStub) bool {
				for _, kv := range s.Attributes {
					if string(kv.Key) == key {
						return s.SpanKind == trace.SpanKindClient
					}
				}
				return false
			}
		}
		query, ok := child(apply, hasAttr("db.system.name"))
		if !ok {
			continue
		}
		vimeoCall, ok := child(apply, hasAttr("http.request.method"))
		if !ok {
			continue
		}
		return []tracetest.SpanStub{server, pubRaw, norm, pubNorm, apply, query, vimeoCall}
	}
	return nil
}

// apiTraceReaches reports whether some server span of the api has client
// spans of every one of the database systems among its descendants.
func apiTraceReaches(spans tracetest.SpanStubs, systems ...string) bool {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	for _, s := range spans {
		if s.Parent.IsValid() {
			children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
		}
	}
	for _, server := range spans {
		if server.SpanKind != trace.SpanKindServer {
			continue
		}
		seen := map[string]bool{}
		queue := []tracetest.SpanStub{server}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, kv := range s.Attributes {
				if kv.Key == "db.system" || kv.Key == "db.system.name" {
					seen[kv.Value.AsString()] = true
				}
			}
			queue = append(queue, children[s.SpanContext.SpanID()]...)
		}
		all := true
		for _, sys := range systems {
			all = all && seen[sys]
		}
		if all {
			return true
		}
	}
	return false
}

// TestAllInProcessExportsOperations runs `vidlib all` without PostgreSQL,
// Redis or Kafka (memstore and the in-process bus, as the demo does): the
// consumer lag comes from the in-process bus, the open dead letters from
// memstore, the snapshot from the library.
func TestAllInProcessExportsOperations(t *testing.T) {
	ctx := context.Background()
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 9, Folders: 4, Videos: 12})
	require.NoError(t, err)
	fake := vimeotest.Start(t, acct, nil)
	issuer := startIssuer(t)

	env := envWith(fakeVimeoEnv(fake, root))
	cfg := loadConfig(t, config.ForAll, env)
	cfg.Postgres.URL, cfg.Redis.URL, cfg.Kafka.Brokers = "", "", nil

	var metricsSrv *ops.MetricsServer
	var lib *library.Service
	var bus events.Publisher
	app := fx.New(
		Options(cfg, All,
			trust(issuer)),
		fx.Populate(&metricsSrv, &lib, &bus),
	)
	require.NoError(t, app.Start(ctx))
	t.Cleanup(func() { require.NoError(t, app.Stop(context.Background())) })
	m := scraper{t: t, addr: metricsSrv.Addr()}

	eventually(t, "the first snapshot served", func() bool { return lib.Status().Ready && lib.Status().Videos > 0 })
	require.Equal(t, float64(lib.Status().ContentVersion), m.must("vidlib_snapshot_content_version", nil))
	require.Zero(t, m.must("vidlib_dead_letters_open", nil))
	normLag := map[string]string{"group": syncworker.GroupNormalizer, "topic": events.TopicVimeoWebhooksRaw}
	require.Zero(t, m.must("vidlib_consumer_lag_messages", normLag))

	// A message nobody can handle: dead-lettered at once (permanent), counted
	// in the counter and the open gauge of memstore.
	require.NoError(t, bus.Publish(ctx, events.Message{Topic: events.TopicVimeoWebhooksRaw, Key: "x", Value: []byte("not an event")}))
	eventually(t, "the bad message dead-lettered", func() bool {
		v, ok := m.value("vidlib_dead_letters_total", map[string]string{"topic": events.TopicVimeoWebhooksRaw})
		return ok && v == 1
	})
	require.Equal(t, 1.0, m.must("vidlib_dead_letters_open", nil))
	eventually(t, "the in-process bus's lag back to 0", func() bool {
		return m.must("vidlib_consumer_lag_messages", normLag) == 0
	})
	_, ok := m.value("vidlib_consumer_lag_messages", map[string]string{"group": syncworker.GroupApplier, "topic": events.TopicVimeoSyncNormalized})
	require.True(t, ok, "the applier's lag is exported too")
}
