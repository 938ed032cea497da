package compose

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
)

// tcpProxy forwards every connection it accepts on addr to target; cut
// stops accepting and closes every connection, restore listens on the same
// address again.
type tcpProxy struct {
	t      *testing.T
	target string

	mu    sync.Mutex
	addr  string
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(func() { p.cut(); p.wg.Wait() })
	return p
}

func (p *tcpProxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

// track registers c; false once the proxy was cut.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c) || !p.track(up) {
		_ = c.Close()
		_ = up.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) restore() { p.listen(p.addr) }

// TestAPIServesThroughAPostgresOutage runs `vidlib api` with PostgreSQL
// behind a proxy, then cuts it: the process stays live (/healthz 200),
// readiness turns 503 and names postgres without the connection's
// address or credentials, and a signed-in user keeps being served from the
// snapshot; once PostgreSQL is back, readiness recovers.
func TestAPIServesThroughAPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	redisURL, _ := testenv.Redis(t)
	kc := testenv.Kafka(t)

	u, err := url.Parse(dsn)
	require.NoError(t, err)
	require.Contains(t, []string{"postgres", "postgresql"}, u.Scheme, "the test needs a URL-form DSN")
	pgHostPort := u.Host
	proxy := startProxy(t, pgHostPort)
	viaProxy := *u
	viaProxy.Host = proxy.addr // same user, database and query (search_path)

	st := migratedStore(t, dsn)
	require.NoError(t, librarytest.Seed(ctx, st))

	issuer := startIssuer(t)

	env := envWith(servicesEnv(viaProxy.String(), redisURL, kc))
	cfg := loadConfig(t, config.ForAPI, env)

	var apiSrv *APIServer
	var metricsSrv *ops.MetricsServer
	var lib *library.Service
	app := fx.New(
		Options(cfg, Parts{API: true},
			trust(issuer)),
		fx.Populate(&apiSrv, &metricsSrv, &lib),
	)
	runApp(t, "vidlib api", app)
	bound := func(addr string) bool { return addr != "" && !strings.HasSuffix(addr, ":0") }
	eventually(t, "the servers listening", func() bool { return bound(metricsSrv.Addr()) && bound(apiSrv.Addr()) })

	client := &http.Client{Timeout: 10 * time.Second}
	do := func(addr, path, token string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	token := issuer.IDToken(authtest.User{Email: "viewer@example.com"})
	api := func(path string) (int, string) { return do(apiSrv.Addr(), path, token) }
	probe := func(path string) (int, string) { return do(metricsSrv.Addr(), path, "") }

	// Up: the library is loaded, the user signed in (their principal cached),
	// the instance ready.
	eventually(t, "the first snapshot loaded", func() bool { return lib.Ready() })
	eventually(t, "the user served", func() bool { code, _ := api("/library/home"); return code == http.StatusOK })
	code, body := api("/folders/" + librarytest.Public)
	require.Equal(t, http.StatusOK, code, body)
	eventually(t, "ready", func() bool { code, _ := probe("/readyz"); return code == http.StatusOK })

	// PostgreSQL goes away.
	proxy.cut()

	var ready string
	eventually(t, "readiness reporting postgres", func() bool {
		code, body := probe("/readyz")
		ready = body
		return code == http.StatusServiceUnavailable
	})
	var rep ops.Report
	require.NoError(t, json.Unmarshal([]byte(ready), &rep), ready)
	require.Equal(t, "fail", rep.Checks["postgres"].Status, ready)
	for _, check := range []string{"library", "redis", "kafka"} {
		if r, ok := rep.Checks[check]; ok {
			require.Equal(t, "ok", r.Status, "%s: %s", check, ready)
		}
	}
	// The body names the check, never the connection.
	secret := []string{proxy.addr, pgHostPort, u.Hostname() + ":"}
	if pw, ok := u.User.Password(); ok && pw != "" {
		secret = append(secret, pw)
	}
	withoutName := strings.ReplaceAll(ready, `"postgres"`, "")
	for _, s := range secret {
		require.NotContains(t, ready, s)
	}
	if user := u.User.Username(); user != "" {
		require.NotContains(t, withoutName, user, "the database user in /readyz")
	}
	require.NotContains(t, ready, u.Path, "the database name in /readyz")

	// Live and serving from the snapshot for a while.
	deadline := time.Now().Add(2500 * time.Millisecond)
	for n := 0; n < 6 || time.Now().Before(deadline); n++ {
		code, body := probe("/healthz")
		require.Equal(t, http.StatusOK, code, "liveness during the outage: %s", body)
		code, body = api("/library/home")
		require.Equal(t, http.StatusOK, code, "/library/home during the outage: %s", body)
		code, body = api("/folders/" + librarytest.Public)
		require.Equal(t, http.StatusOK, code, "/folders/%s during the outage: %s", librarytest.Public, body)
		code, _ = probe("/readyz")
		require.Equal(t, http.StatusServiceUnavailable, code, "still not ready")
		time.Sleep(500 * time.Millisecond)
	}

	// PostgreSQL is back: ready again.
	proxy.restore()
	eventually(t, "ready again", func() bool { code, _ := probe("/readyz"); return code == http.StatusOK })
	code, body = api("/library/home")
	require.Equal(t, http.StatusOK, code, body)
}
