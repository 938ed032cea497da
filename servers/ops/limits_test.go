package ops_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/servers/ops"
)

func startServer(t *testing.T, h http.Handler, opts *ops.HTTPServerOptions) string {
	t.Helper()
	s := ops.NewHTTPServer("test", "127.0.0.1:0", h, opts)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s.Addr()
}

// TestHTTPServerRefusesHugeHeaders: a 1 MB header gets 431 with the defaults.
func TestHTTPServerRefusesHugeHeaders(t *testing.T) {
	addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}), nil)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("a", 1<<20))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

// TestHTTPServerDropsSlowBodies: a client that sends its headers and then
// trickles (here: stops sending) its body is disconnected once ReadTimeout
// has passed, and the handler's read fails.
func TestHTTPServerDropsSlowBodies(t *testing.T) {
	readErr := make(chan error, 1)
	addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), &ops.HTTPServerOptions{ReadTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "POST /webhooks/vimeo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"webhook_type\":")
	require.NoError(t, err)
	select {
	case err := <-readErr:
		require.Error(t, err, "the body read ends with the deadline")
	case <-time.After(5 * time.Second):
		t.Fatal("the slow body was still being read after 5 s")
	}
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, _ = io.Copy(io.Discard, conn) // returns when the server closes the connection
	require.Less(t, time.Since(start), 5*time.Second, "disconnected within the read timeout (plus slack)")
}

// TestHTTPServerErrorsAreJSON: the ServeMux's 404 and 405 come back as JSON,
// and HEAD is served where GET is.
func TestHTTPServerErrorsAreJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /thing", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /text404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	addr := startServer(t, mux, nil)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/nothing", http.StatusNotFound, "not_found"},
		{http.MethodGet, "/text404", http.StatusNotFound, "not_found"},
		{http.MethodPost, "/thing", http.StatusMethodNotAllowed, "method_not_allowed"},
	} {
		req, err := http.NewRequest(tc.method, "http://"+addr+tc.path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var body struct {
			Error struct{ Code, Message string }
		}
		require.Equal(t, tc.status, resp.StatusCode, tc.path)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		require.Equal(t, tc.code, body.Error.Code)
		if tc.status == http.StatusMethodNotAllowed {
			require.Contains(t, resp.Header.Get("Allow"), "GET")
		}
	}
	resp, err := http.Head("http://" + addr + "/thing")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestReadinessHidesErrorText: /readyz names the failed dependency but not
// its error, which may carry a connection string.
func TestReadinessHidesErrorText(t *testing.T) {
	h := ops.NewHealth(&ops.HealthOptions{CheckTimeout: 100 * time.Millisecond})
	h.AddCheck("postgres", func(context.Context) error {
		return errors.New(`failed to connect to host=10.1.2.3 user=vidlib password=hunter2: connection refused`)
	})
	h.AddCheck("kafka", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			h.LiveHandler().ServeHTTP(w, r)
			return
		}
		h.ReadyHandler().ServeHTTP(w, r)
	}), nil)
	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	body, _ := io.ReadAll(bufio.NewReader(resp.Body))
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	var rep ops.Report
	require.NoError(t, json.Unmarshal(body, &rep))
	require.Equal(t, ops.CheckResult{Status: "fail", Error: "unavailable"}, ops.CheckResult{Status: rep.Checks["postgres"].Status, Error: rep.Checks["postgres"].Error})
	require.Equal(t, "timed out", rep.Checks["kafka"].Error)
	for _, secret := range []string{"10.1.2.3", "hunter2", "vidlib", "host="} {
		require.NotContains(t, string(body), secret)
	}
	resp, err = http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "liveness never fails on a dependency")
}
