package vimeo_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestTransportRetryIsCountedAndRateLimited: a connection broken by the
// server is retried by the one retry layer, and the retry is an attempt
// like any other: it waits for the rate limiter and is counted.
func TestTransportRetryIsCountedAndRateLimited(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			conn.Close() // no answer at all: a transport error
			return
		}
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", "99")
		fmt.Fprint(w, `{"uri":"/users/1/projects/2","name":"ok"}`)
	}))
	defer api.Close()
	clk := vimeotest.NewVirtualClock(epoch)
	var waits atomic.Int32
	limiter := vimeo.NewRateLimiter(&vimeo.RateLimiterOptions{Clock: clk, OnWait: func(time.Duration) { waits.Add(1) }})
	c, err := vimeo.New("t", &vimeo.Options{BaseURL: api.URL, Clock: clk, RateLimiter: limiter})
	require.NoError(t, err)

	f, err := c.Folder(t.Context(), "2")
	require.NoError(t, err)
	require.Equal(t, "ok", f.Name)
	require.EqualValues(t, 2, calls.Load(), "the broken attempt and its retry reached the server")
	st := c.Stats()
	require.EqualValues(t, 2, st.Requests, "both attempts counted")
	require.EqualValues(t, 1, st.Retries)
	require.EqualValues(t, 1, st.TransportErrors)
	require.EqualValues(t, 2, waits.Load(), "both attempts waited for the rate limiter")
	require.Zero(t, limiter.State().InFlight, "the broken attempt gave its slot back")
}
