package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func newMetrics(t *testing.T, now func() time.Time) *ops.Metrics {
	t.Helper()
	m, err := ops.NewMetrics(nil, &ops.MetricsOptions{Now: now})
	require.NoError(t, err)
	return m
}

func get(t *testing.T, h http.Handler, path string, hdr http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestREDMiddlewareRecordsRoutePattern(t *testing.T) {
	m := newMetrics(t, nil)
	r := chi.NewRouter()
	r.Use(m.Middleware("api"))
	r.Get("/videos/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Route("/folders", func(r chi.Router) {
		r.Get("/{id}/children", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "gone", http.StatusNotFound)
		})
	})
	get(t, r, "/videos/1", nil)
	get(t, r, "/videos/2", nil)
	get(t, r, "/folders/9/children", nil)
	get(t, r, "/no/such/route", nil)

	require.Equal(t, 2.0, testutil.ToFloat64(m.HTTPRequests.WithLabelValues("api", "GET", "/videos/{id}", "200")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.HTTPRequests.WithLabelValues("api", "GET", "/folders/{id}/children", "404")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.HTTPRequests.WithLabelValues("api", "GET", "unmatched", "404")))
	require.Equal(t, 0.0, testutil.ToFloat64(m.HTTPInFlight.WithLabelValues("api")))
	// No series per raw path.
	require.Equal(t, 3, testutil.CollectAndCount(m.HTTPRequests))
	require.Equal(t, 3, testutil.CollectAndCount(m.HTTPDuration))

	// The same when the middleware wraps the router from outside.
	m2 := newMetrics(t, nil)
	outer := m2.Middleware("admin")(r)
	get(t, outer, "/videos/3", nil)
	require.Equal(t, 1.0, testutil.ToFloat64(m2.HTTPRequests.WithLabelValues("admin", "GET", "/videos/{id}", "200")))
}

func TestRequestIDAndAccessLog(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	base := zap.New(core)
	tr, err := ops.NewTracing(context.Background(), nil) // off: trace context still flows
	require.NoError(t, err)

	var seenID string
	var handlerLog *zap.Logger
	r := chi.NewRouter()
	r.Use(ops.RequestID(base), ops.AccessLog(base, nil))
	r.Get("/videos/{id}", func(w http.ResponseWriter, r *http.Request) {
		seenID = ops.RequestIDFrom(r)
		handlerLog = ops.Logger(r.Context())
		handlerLog.Info("handled")
		w.WriteHeader(http.StatusTeapot)
	})
	h := tr.HTTPHandler(r, "api")

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	w := get(t, h, "/videos/7", http.Header{
		"X-Request-Id": {"client-id-123"},
		"Traceparent":  {"00-" + traceID + "-00f067aa0ba902b7-01"},
	})
	require.Equal(t, http.StatusTeapot, w.Code)
	require.Equal(t, "client-id-123", w.Header().Get(ops.HeaderRequestID))
	require.Equal(t, "client-id-123", seenID)

	handled := logs.FilterMessage("handled").All()
	require.Len(t, handled, 1)
	require.Equal(t, "client-id-123", handled[0].ContextMap()["request_id"])
	require.Equal(t, traceID, handled[0].ContextMap()["trace_id"])

	access := logs.FilterMessage("request").All()
	require.Len(t, access, 1)
	f := access[0].ContextMap()
	require.Equal(t, "client-id-123", f["request_id"])
	require.Equal(t, traceID, f["trace_id"])
	require.Equal(t, "/videos/{id}", f["route"])
	require.Equal(t, "/videos/7", f["path"])
	require.EqualValues(t, http.StatusTeapot, f["status"])
	require.Equal(t, "GET", f["method"])
	require.Contains(t, f, "duration")

	// An insane id is replaced by a generated one.
	w = get(t, h, "/videos/8", http.Header{"X-Request-Id": {"bad id\nwith newline"}})
	gen := w.Header().Get(ops.HeaderRequestID)
	require.NotEqual(t, "bad id\nwith newline", gen)
	_, err = uuid.Parse(gen)
	require.NoError(t, err)
	require.Equal(t, gen, seenID)
	// None given: generated too, and unique.
	w2 := get(t, h, "/videos/8", nil)
	require.NotEmpty(t, w2.Header().Get(ops.HeaderRequestID))
	require.NotEqual(t, gen, w2.Header().Get(ops.HeaderRequestID))

	require.True(t, ops.SaneRequestID("abc-DEF_1.2:3"))
	require.False(t, ops.SaneRequestID(strings.Repeat("a", 129)))
	require.False(t, ops.SaneRequestID(""))
	require.False(t, ops.SaneRequestID("a b"))
}

func TestAccessLogErrorLevel(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := ops.AccessLog(zap.New(core), &ops.AccessLogOptions{Skip: func(r *http.Request) bool { return r.URL.Path == "/healthz" }})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/boom" {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
	get(t, h, "/healthz", nil)
	get(t, h, "/boom", nil)
	get(t, h, "/fine", nil)
	all := logs.All()
	require.Len(t, all, 2)
	require.Equal(t, zapcore.ErrorLevel, all[0].Level)
	require.Equal(t, "unmatched", all[0].ContextMap()["route"])
	require.Equal(t, zapcore.InfoLevel, all[1].Level)
	require.EqualValues(t, 200, all[1].ContextMap()["status"])
}

func TestHealth(t *testing.T) {
	h := ops.NewHealth(nil)
	live := get(t, h.LiveHandler(), "/healthz", nil)
	require.Equal(t, http.StatusOK, live.Code)
	require.JSONEq(t, `{"status":"ok"}`, live.Body.String())

	pgErr := errors.New("connection refused")
	var mu sync.Mutex
	h.AddCheck("postgres", func(ctx context.Context) error { mu.Lock(); defer mu.Unlock(); return pgErr })
	h.AddCheck("redis", func(ctx context.Context) error { return nil })
	snap := h.Flag("snapshot")

	read := func() (int, ops.Report) {
		w := get(t, h.ReadyHandler(), "/readyz", nil)
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		var rep ops.Report
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rep))
		return w.Code, rep
	}
	code, rep := read()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not_ready", rep.Status)
	require.Equal(t, "fail", rep.Checks["postgres"].Status)
	require.Equal(t, "unavailable", rep.Checks["postgres"].Error, "the error's text stays in the log")
	require.Equal(t, "ok", rep.Checks["redis"].Status)
	require.Equal(t, ops.CheckResult{Status: "fail", Error: "waiting"}, rep.Checks["snapshot"])

	mu.Lock()
	pgErr = nil
	mu.Unlock()
	code, rep = read()
	require.Equal(t, http.StatusServiceUnavailable, code, "the first snapshot is not loaded yet")
	require.Equal(t, "ok", rep.Checks["postgres"].Status)

	snap.Ready()
	code, rep = read()
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok", rep.Status)
	require.Len(t, rep.Checks, 3)

	snap.Set(errors.New("snapshot reload failed"))
	code, rep = read()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "snapshot reload failed", rep.Checks["snapshot"].Error)
	snap.Ready()

	h.AddCheck("kafka", func(ctx context.Context) error { panic("boom") })
	code, rep = read()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "check panicked", rep.Checks["kafka"].Error)
	h.AddCheck("kafka", func(ctx context.Context) error { return ctx.Err() })

	code, _ = read()
	require.Equal(t, http.StatusOK, code)
	h.SetDraining()
	code, rep = read()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "draining", rep.Status)
	require.Equal(t, []string{"kafka", "postgres", "redis", "snapshot"}, h.Names())
}

func TestHTTPServerDrainsInFlightRequests(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := ops.NewHealth(nil)
	s := ops.NewHTTPServer("test", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		_, _ = io.WriteString(w, "done")
	}), &ops.HTTPServerOptions{Health: h})
	require.NoError(t, s.Start(context.Background()))
	addr := s.Addr()
	require.NotEqual(t, "127.0.0.1:0", addr)

	// A second server on the same address fails to start.
	busy := ops.NewHTTPServer("busy", addr, http.NotFoundHandler(), nil)
	require.ErrorContains(t, busy.Start(context.Background()), "busy server: listen on")

	var events []string
	var mu sync.Mutex
	note := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }

	respDone := make(chan string)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			respDone <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		note("response")
		respDone <- string(b)
	}()
	<-entered

	stopDone := make(chan error)
	go func() {
		err := s.Stop(context.Background())
		note("stopped")
		stopDone <- err
	}()
	// Wait until the listener is closed: shutdown has begun.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-stopDone:
		t.Fatalf("Stop returned (%v) while a request was in flight", err)
	default:
	}
	_, ready := h.Ready(context.Background())
	require.False(t, ready, "draining: not ready")
	close(release)
	require.Equal(t, "done", <-respDone)
	require.NoError(t, <-stopDone)
	mu.Lock()
	require.Equal(t, []string{"response", "stopped"}, events)
	mu.Unlock()
}

func TestHTTPServerStopDeadline(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s := ops.NewHTTPServer("test", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}), nil)
	require.NoError(t, s.Start(context.Background()))
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed
	err := s.Stop(ctx)
	require.ErrorIs(t, err, context.Canceled)
	// Never started: nothing to stop.
	require.NoError(t, ops.NewHTTPServer("idle", "127.0.0.1:0", http.NotFoundHandler(), nil).Stop(context.Background()))
}

func TestMetricsHelpers(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := newMetrics(t, clock)

	age := func() float64 { return gaugeValue(t, m, "vidlib_snapshot_age_seconds", nil) }
	mu.Lock()
	now = now.Add(30 * time.Second)
	mu.Unlock()
	require.Equal(t, 30.0, age(), "no snapshot yet: age since process start")
	require.False(t, hasMetric(t, m, "vidlib_snapshot_content_version"), "no version before a snapshot is loaded")
	m.ObserveSnapshot(ops.SnapshotStatus{Loaded: true, ContentVersion: 42, EntitlementVersion: 7, LoadedAt: clock()})
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	require.Equal(t, 5.0, age())
	require.Equal(t, 42.0, gaugeValue(t, m, "vidlib_snapshot_content_version", nil))
	require.Equal(t, 7.0, gaugeValue(t, m, "vidlib_snapshot_entitlement_version", nil))

	start := clock()
	m.SyncFinished("reconcile", "ok", start.Add(-2*time.Second), start)
	m.SyncFinished("poll", "error", start, start)
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	require.Equal(t, 10.0, gaugeValue(t, m, "vidlib_sync_lag_seconds", map[string]string{"kind": "reconcile"}))
	require.Equal(t, 1.0, testutil.ToFloat64(m.SyncRuns.WithLabelValues("poll", "error")))
	require.Equal(t, 1, testutil.CollectAndCount(m.SyncLastSuccess), "only successes set the timestamp")

	backlog := 7.0
	require.NoError(t, m.GaugeFunc("outbox_oldest_age_seconds", "test", nil, func() float64 { return backlog }))
	require.Equal(t, 7.0, gaugeValue(t, m, "vidlib_outbox_oldest_age_seconds", nil))
	m.ObserveRateLimiterWait("vimeo", 250*time.Millisecond)
	require.Equal(t, 1, testutil.CollectAndCount(m.RateLimiterWait))
}

func TestWatchVimeo(t *testing.T) {
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 1, Folders: 5, Videos: 10})
	require.NoError(t, err)
	fake := vimeotest.Start(t, acct, nil)
	c, err := vimeo.New(fake.Token(), &vimeo.Options{BaseURL: fake.URL()})
	require.NoError(t, err)
	m := newMetrics(t, nil)
	require.NoError(t, m.WatchVimeo("sync", c))
	_, err = c.Walk(context.Background(), strconv.FormatInt(root, 10), nil)
	require.NoError(t, err)
	got := gaugeValue(t, m, "vidlib_vimeo_requests_total", map[string]string{"client": "sync"})
	require.Equal(t, float64(c.Stats().Requests), got)
	require.Positive(t, got)
	require.Equal(t, 0.0, gaugeValue(t, m, "vidlib_vimeo_rate_limited_total", map[string]string{"client": "sync"}))
}

// hasMetric reports whether a scrape of the registry has name.
func hasMetric(t *testing.T, m *ops.Metrics, name string) bool {
	t.Helper()
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return true
		}
	}
	return false
}

// gaugeValue gathers the registry and returns the value of name with labels.
func gaugeValue(t *testing.T, m *ops.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range mt.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case mt.Gauge != nil:
				return mt.GetGauge().GetValue()
			case mt.Counter != nil:
				return mt.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s %v not found", name, labels)
	return 0
}

func TestTracingOffByDefault(t *testing.T) {
	tr, err := ops.NewTracing(context.Background(), nil)
	require.NoError(t, err)
	require.False(t, tr.Enabled())
	_, span := tr.TracerProvider().Tracer("t").Start(context.Background(), "x")
	require.False(t, span.IsRecording(), "off: spans are not recorded")
	require.NoError(t, tr.Shutdown(context.Background()))

	// Through config defaults and the fx module too.
	var got *ops.Tracing
	app := fx.New(fx.NopLogger, fx.Supply(config.Default()), ops.LoggerModule, ops.TracingModule, fx.Populate(&got))
	require.NoError(t, app.Err())
	require.False(t, got.Enabled())
}

func TestTracingExports(t *testing.T) {
	exp := keepSpans{tracetest.NewInMemoryExporter()}
	tr, err := ops.NewTracing(context.Background(), &ops.TracingOptions{Exporter: exp, ServiceName: "vidlib-test"})
	require.NoError(t, err)
	require.True(t, tr.Enabled())
	var inner trace.SpanContext
	h := tr.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = trace.SpanContextFromContext(r.Context())
	}), "api")
	get(t, h, "/x", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})
	require.NoError(t, tr.Shutdown(context.Background()))
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", spans[0].SpanContext.TraceID().String(), "W3C parent followed")
	require.Equal(t, inner.SpanID(), spans[0].SpanContext.SpanID())

	// With an endpoint, spans are POSTed to the collector over OTLP/HTTP.
	posted := make(chan string, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posted <- r.Method + " " + r.URL.Path
	}))
	defer collector.Close()
	tr2, err := ops.NewTracing(context.Background(), &ops.TracingOptions{Endpoint: strings.TrimPrefix(collector.URL, "http://")})
	require.NoError(t, err)
	_, span := tr2.TracerProvider().Tracer("t").Start(context.Background(), "op")
	span.End()
	require.NoError(t, tr2.Shutdown(context.Background()))
	require.Equal(t, "POST /v1/traces", <-posted)
}

// keepSpans keeps the spans past Shutdown (InMemoryExporter drops them).
type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }

func TestFxModules(t *testing.T) {
	require.NoError(t, fx.ValidateApp(fx.Supply(config.Default()), ops.Module, ops.FxLogger))

	cfg := config.Default()
	cfg.Log.Level = zapcore.WarnLevel
	cfg.Listen.Metrics = "127.0.0.1:0"
	var ms *ops.MetricsServer
	var m *ops.Metrics
	var h *ops.Health
	app := fx.New(fx.NopLogger, fx.Supply(cfg), ops.Module, fx.Populate(&ms, &m, &h))
	require.NoError(t, app.Start(context.Background()))
	h.Flag("snapshot")
	m.ObserveSnapshot(ops.SnapshotStatus{Loaded: true, ContentVersion: 3, EntitlementVersion: 1, LoadedAt: time.Now()})

	resp, err := http.Get("http://" + ms.Addr() + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), "vidlib_snapshot_content_version 3")
	require.Contains(t, string(body), "go_goroutines")
	require.Contains(t, string(body), "process_")

	resp, err = http.Get("http://" + ms.Addr() + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	h.Flag("snapshot").Ready()
	resp, err = http.Get("http://" + ms.Addr() + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, app.Stop(context.Background()))

	// A bad address fails start-up.
	cfg2 := config.Default()
	cfg2.Log.Level = zapcore.ErrorLevel + 1
	cfg2.Listen.Metrics = "256.0.0.1:99999"
	app = fx.New(fx.NopLogger, fx.Supply(cfg2), ops.Module)
	require.ErrorContains(t, app.Start(context.Background()), "metrics server: listen on")

	// Empty address: no listener.
	cfg3 := config.Default()
	cfg3.Log.Level = zapcore.WarnLevel
	cfg3.Listen.Metrics = ""
	app = fx.New(fx.NopLogger, fx.Supply(cfg3), ops.Module, fx.Populate(&ms))
	require.NoError(t, app.Start(context.Background()))
	require.Nil(t, ms.HTTPServer)
	require.NoError(t, app.Stop(context.Background()))
}

func TestNewLogger(t *testing.T) {
	var buf strings.Builder
	l, err := ops.NewLogger(&ops.LoggerOptions{Level: zapcore.WarnLevel, Output: &buf, Fields: []zap.Field{zap.String("service", "api")}})
	require.NoError(t, err)
	l.Info("hidden")
	l.Warn("shown", zap.Int("n", 1))
	var entry map[string]any
	require.NoError(t, json.Unmarshal([]byte(buf.String()), &entry))
	require.Equal(t, "shown", entry["msg"])
	require.Equal(t, "warn", entry["level"])
	require.Equal(t, "api", entry["service"])
	require.Contains(t, entry, "ts")

	buf.Reset()
	l, err = ops.NewLogger(&ops.LoggerOptions{Format: "console", Output: &buf})
	require.NoError(t, err)
	l.Info("hello")
	require.Contains(t, buf.String(), "hello")
	require.False(t, json.Valid([]byte(buf.String())))

	_, err = ops.NewLogger(&ops.LoggerOptions{Format: "xml"})
	require.ErrorIs(t, err, ops.ErrInvalid)
}
