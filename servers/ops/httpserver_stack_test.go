package ops_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidlib/vidlib/servers/ops"
)

// TestHTTPServerMiddleware: every HTTPServer gives each request one id (a
// handler that also uses RequestID keeps it), counts every request in the
// RED metrics, and writes the access log sampled: within a second the first
// SampleFirst 2xx entries, then one in SampleThereafter; every 5xx entry; no
// probe.
func TestHTTPServerMiddleware(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(core)
	m, err := ops.NewMetrics(ops.NewRegistry(), nil)
	require.NoError(t, err)
	var inner []string
	r := chi.NewRouter()
	r.Use(ops.RequestID(log)) // as servers/api and servers/admin do
	r.Get("/ok/{n}", func(w http.ResponseWriter, r *http.Request) { inner = append(inner, ops.RequestIDFrom(r)) })
	r.Get("/boom", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	s := ops.NewHTTPServer("api", "127.0.0.1:0", r, &ops.HTTPServerOptions{Logger: log, Metrics: m,
		AccessLog: &ops.AccessLogOptions{Skip: ops.SkipProbes, SampleFirst: 2, SampleThereafter: 1000}})
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	get := func(path string) *http.Response {
		res, err := http.Get("http://" + s.Addr() + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	const n = 60
	for range n {
		res := get("/ok/1")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, inner[len(inner)-1], res.Header.Get(ops.HeaderRequestID), "one id, the server's")
	}
	for range 3 {
		get("/boom")
		get("/healthz")
	}

	entries := logs.FilterMessage("request")
	ok := entries.Filter(func(e observer.LoggedEntry) bool { return e.ContextMap()["status"] == int64(http.StatusOK) }).Len()
	require.GreaterOrEqual(t, ok, 2, "the first of each second logged")
	require.Less(t, ok, n/2, "the rest sampled")
	boom := entries.Filter(func(e observer.LoggedEntry) bool { return e.ContextMap()["path"] == "/boom" }).All()
	require.Len(t, boom, 3, "every 5xx")
	require.Equal(t, zapcore.ErrorLevel, boom[0].Level)
	require.Equal(t, "/boom", boom[0].ContextMap()["route"])
	require.NotEmpty(t, boom[0].ContextMap()["request_id"])
	require.Zero(t, entries.Filter(func(e observer.LoggedEntry) bool { return e.ContextMap()["path"] == "/healthz" }).Len(), "no probes")

	require.InDelta(t, float64(n), testutil.ToFloat64(m.HTTPRequests.WithLabelValues("api", "GET", "/ok/{n}", "200")), 0, "metrics count every request")
	require.InDelta(t, 3, testutil.ToFloat64(m.HTTPRequests.WithLabelValues("api", "GET", "/healthz", "200")), 0)
}

// TestHTTPServerNoAccessLog: NoAccessLog turns the log off.
func TestHTTPServerNoAccessLog(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	s := ops.NewHTTPServer("x", "127.0.0.1:0", http.NotFoundHandler(), &ops.HTTPServerOptions{Logger: zap.New(core), NoAccessLog: true})
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	res, err := http.Get("http://" + s.Addr() + "/x")
	require.NoError(t, err)
	res.Body.Close()
	require.NotEmpty(t, res.Header.Get(ops.HeaderRequestID))
	require.Zero(t, logs.FilterMessage("request").Len())
}
