package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// standIn answers /ok with 200, /missing with 404 and anything else with 500.
func standIn(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/ok":
				w.WriteHeader(http.StatusOK)
			case "/missing":
				http.NotFound(w, r)
			default:
				w.WriteHeader(http.StatusInternalServerError)
			}
		}
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestRunCountsEveryScheduledRequest(t *testing.T) {
	srv := standIn(t, nil)
	var calls atomic.Int64
	next := func(seq uint64) Request {
		calls.Add(1)
		switch seq % 4 {
		case 0:
			return Request{Endpoint: "a", Path: "/ok"}
		case 1:
			return Request{Endpoint: "a", Path: "/missing", Expect: http.StatusNotFound} // an expected miss
		case 2:
			return Request{Endpoint: "b", Path: "/missing"} // an unexpected 404
		default:
			return Request{Endpoint: "b", Path: "/boom"}
		}
	}
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 400, Duration: 500 * time.Millisecond})
	require.NoError(t, err)
	require.EqualValues(t, 200, calls.Load(), "400/s for 0.5 s schedules exactly 200 requests")
	require.Len(t, res.Endpoints, 2)
	a, b := res.Endpoints[0], res.Endpoints[1]
	require.Equal(t, "a", a.Endpoint)
	require.EqualValues(t, 100, a.Count)
	require.EqualValues(t, 0, a.Errors)
	require.Equal(t, map[string]int64{"200": 50, "404": 50}, a.Statuses)
	require.EqualValues(t, 100, b.Count)
	require.EqualValues(t, 100, b.Errors)
	require.Equal(t, map[string]int64{"404": 50, "500": 50}, b.Statuses)
	require.EqualValues(t, 200, res.Total.Count)
	require.EqualValues(t, 100, res.Total.Errors)
	require.EqualValues(t, 200, res.Total.Histogram.TotalCount(), "every sent request is recorded")
	require.InDelta(t, 400, res.Total.Throughput, 0.001, "answered requests over the window")
}

func TestRunPercentilesComeFromTheHistogram(t *testing.T) {
	srv := standIn(t, nil)
	next := func(uint64) Request { return Request{Endpoint: "a", Path: "/ok"} }
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 300, Duration: 300 * time.Millisecond})
	require.NoError(t, err)
	for _, s := range []*Stats{res.Endpoints[0], res.Total} {
		h := s.Histogram
		require.EqualValues(t, 90, h.TotalCount())
		us := func(q float64) time.Duration { return time.Duration(h.ValueAtQuantile(q)) * time.Microsecond }
		require.Equal(t, us(50), s.Latency.P50)
		require.Equal(t, us(95), s.Latency.P95)
		require.Equal(t, us(99), s.Latency.P99)
		require.Equal(t, time.Duration(h.Max())*time.Microsecond, s.Latency.Max)
		require.LessOrEqual(t, s.Latency.P50, s.Latency.P99)
		require.LessOrEqual(t, s.Latency.P99, s.Latency.Max)
		require.Positive(t, s.Latency.P50)
	}
	require.LessOrEqual(t, res.Total.Service.Max, res.Total.Latency.Max, "service time never exceeds latency from intended time")
}

// A request the server holds until 40 later requests have arrived can only
// finish in an open model (a closed one would wait for it before sending
// more), and its latency counts from its intended send time: at least the
// 40 intervals that passed before the 40th later request was even due.
func TestRunIsOpenAndMeasuresFromIntendedTime(t *testing.T) {
	const rate, later = 200.0, 40
	var arrived atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	srv := standIn(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		if arrived.Add(1) == later {
			once.Do(func() { close(release) })
		}
	})
	next := func(seq uint64) Request {
		if seq == 0 {
			return Request{Endpoint: "blocked", Path: "/block"}
		}
		return Request{Endpoint: "free", Path: "/free"}
	}
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: rate, Duration: 500 * time.Millisecond})
	require.NoError(t, err)
	blocked := res.Endpoints[0]
	require.Equal(t, "blocked", blocked.Endpoint)
	require.EqualValues(t, 0, blocked.Errors, "the blocked request was answered, so later ones were sent meanwhile")
	interval := time.Duration(float64(time.Second) / rate)
	require.GreaterOrEqual(t, blocked.Latency.Max, later*interval-time.Millisecond)
	require.GreaterOrEqual(t, res.Total.Latency.Max, blocked.Latency.Max)
	require.EqualValues(t, 99, res.Endpoints[1].Count)
}

func TestRunCountsOverflowAsErrors(t *testing.T) {
	release := make(chan struct{})
	srv := standIn(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			<-release
		}
	})
	next := func(seq uint64) Request {
		if seq == 10 {
			close(release) // requests 1…9 were due while /block held the only slot
		}
		if seq == 0 {
			return Request{Endpoint: "e", Path: "/block"}
		}
		return Request{Endpoint: "e", Path: "/ok"}
	}
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 200, Duration: 100 * time.Millisecond, MaxInFlight: 1})
	require.NoError(t, err)
	s := res.Total
	require.EqualValues(t, 20, s.Count)
	over := s.Statuses[StatusOverflow]
	require.GreaterOrEqual(t, over, int64(9))
	require.Equal(t, over, s.Errors)
	require.Equal(t, s.Count-over, s.Histogram.TotalCount(), "overflowed requests were not sent, the rest were recorded")
}

func TestRunWarmupIsSentButNotRecorded(t *testing.T) {
	var served atomic.Int64
	srv := standIn(t, func(http.ResponseWriter, *http.Request) { served.Add(1) })
	next := func(uint64) Request { return Request{Endpoint: "e", Path: "/"} }
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 200, Warmup: 250 * time.Millisecond, Duration: 250 * time.Millisecond})
	require.NoError(t, err)
	require.EqualValues(t, 100, served.Load())
	require.EqualValues(t, 50, res.Total.Count)
}

func TestRunTimesOut(t *testing.T) {
	srv := standIn(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	next := func(uint64) Request { return Request{Endpoint: "e", Path: "/", Token: "t"} }
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 100, Duration: 50 * time.Millisecond, Timeout: 20 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{StatusTimeout: 5}, res.Total.Statuses)
	require.EqualValues(t, 5, res.Total.Errors)
	require.Zero(t, res.Total.Throughput)
}

func TestRunSendsTheToken(t *testing.T) {
	srv := standIn(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	next := func(uint64) Request { return Request{Endpoint: "e", Path: "/", Token: "tok"} }
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 100, Duration: 50 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"200": 5}, res.Total.Statuses)
}

func TestRunReadsServerUsage(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	srv := standIn(t, nil)
	next := func(uint64) Request { return Request{Endpoint: "e", Path: "/ok"} }
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 100, Duration: 200 * time.Millisecond, PID: os.Getpid()})
	require.NoError(t, err)
	require.NotNil(t, res.Server)
	require.Equal(t, os.Getpid(), res.Server.PID)
	require.Positive(t, res.Server.PeakRSS)
	require.GreaterOrEqual(t, res.Server.HighWater, res.Server.PeakRSS/2)
	require.Positive(t, res.Server.Window)
}

func TestReadProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	s, err := ReadProc(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, s.RSS)
	require.GreaterOrEqual(t, s.HighWater, s.RSS)
	_, err = ReadProc(1 << 30)
	require.Error(t, err)
}

func TestRunRejectsBadOptions(t *testing.T) {
	next := func(uint64) Request { return Request{} }
	for name, o := range map[string]*Options{
		"nil":         nil,
		"no rate":     {Duration: time.Second},
		"no duration": {Rate: 10},
		"no request":  {Rate: 0.5, Duration: time.Second},
		"bad warmup":  {Rate: 10, Duration: time.Second, Warmup: -time.Second},
	} {
		_, err := Run(context.Background(), "http://127.0.0.1:1", next, o)
		require.ErrorIs(t, err, ErrInvalid, name)
	}
	_, err := Run(context.Background(), "127.0.0.1:1", next, &Options{Rate: 10, Duration: time.Second})
	require.ErrorIs(t, err, ErrInvalid)
}

func TestRunStopsWithTheContext(t *testing.T) {
	srv := standIn(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	next := func(seq uint64) Request {
		if seq == 5 {
			cancel()
		}
		return Request{Endpoint: "e", Path: "/ok"}
	}
	res, err := Run(ctx, srv.URL, next, &Options{Rate: 100, Duration: time.Hour})
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	require.LessOrEqual(t, res.Total.Count, int64(6))
}
