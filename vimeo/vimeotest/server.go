package vimeotest

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the bearer token a Server accepts when Options.Tokens is empty.
const DefaultToken = "vimeotest-token"

// Options configures a Server. The zero value is valid: no rate limit, no chaos,
// the recorded behaviour wherever Vimeo's is known, and the documented choice
// wherever it is not.
type Options struct {
	// Tokens are the accepted bearer tokens, all acting as the account's owner.
	// Default [DefaultToken].
	Tokens []string
	// Clock defaults to the account's clock.
	Clock Clock
	// Seed seeds the chaos; 0 means 1 (chaos is reproducible by default).
	Seed uint64

	// RateLimit is the number of requests per window for requests without
	// fields=; requests with fields= get FieldsMultiplier times more (default
	// 2). 0 disables rate limiting and its headers.
	RateLimit        int
	FieldsMultiplier int
	// RateWindow defaults to 60 s (fixed windows per token, starting at the
	// first request after the previous window ended).
	RateWindow time.Duration
	// BanDuration is how long a token that exceeded the limit gets 429; 0 bans
	// until the end of the current window (at most a minute, as Vimeo says).
	// LegacyBan bans for 60 minutes, as in 2016–2017.
	BanDuration time.Duration
	LegacyBan   bool
	// RetryAfter adds Retry-After to 429 answers (Vimeo is not known to).
	RetryAfter bool
	// NoRateHeadersOn429 strips the X-RateLimit-* headers from 429 answers.
	NoRateHeadersOn429 bool
	// ResetEpoch sends X-RateLimit-Reset as Unix seconds instead of ISO-8601.
	ResetEpoch bool

	// ClampPerPage clamps per_page above 100 instead of answering 400/2204.
	ClampPerPage bool
	// PagePastEnd404 answers 404 instead of 400/2286 for a page past the end.
	PagePastEnd404 bool
	// TopLevelProjectsOnly makes /users/{uid}/projects list top-level folders
	// only (an open question about the real service); /folders stays flat.
	TopLevelProjectsOnly bool
	// ParentKey is the video key naming its folder: "parent_folder" (default),
	// "parent_project", "both" or "none". Videos inside /items never carry it.
	ParentKey string
	// ParentKeyInLists also puts it on videos in /users/{uid}/videos and
	// folder video lists.
	ParentKeyInLists bool
	// ForbiddenAs404 answers 404 instead of 403 where the token lost access.
	ForbiddenAs404 bool
	// MinimalErrors sends {"error": "..."} only.
	MinimalErrors bool
	// LastModifiedEpoch sends Last-Modified as Unix seconds (as seen in 2016)
	// instead of an HTTP date.
	LastModifiedEpoch bool
	// ETags enables ETag / If-None-Match → 304 on every GET (Vimeo does not
	// document it).
	ETags bool
	// VideoFiles adds "files" to available videos (token with video_files on a
	// paid plan).
	VideoFiles bool

	// ErrorRate is the share of requests answered with a random 500, 503 or
	// 504; HTMLRate is the share of those with an HTML body. ResetRate drops
	// that share of connections.
	ErrorRate float64
	HTMLRate  float64
	ResetRate float64
	// Latency (plus a random part up to LatencyJitter) delays every answer, on
	// the server's clock.
	Latency       time.Duration
	LatencyJitter time.Duration

	// Webhooks configures the App Webhook emitter.
	Webhooks WebhookOptions
	// LogLimit bounds the request log; default 100000.
	LogLimit int
}

// Request is one entry of the request log.
type Request struct {
	Seq           int
	At            time.Time
	Method        string
	Path          string // as requested
	RawQuery      string
	Status        int // 0 for a dropped connection
	Authorization string
	Accept        string
	UserAgent     string
	IfModified    string
	Injected      bool // answered by a fault or by chaos
}

// Stats summarises the traffic.
type Stats struct {
	Requests    int
	ByStatus    map[int]int
	RateLimited int       // 429 answers from the rate limiter (scripted ones excluded)
	First       time.Time // first request
	First429    time.Time // first rate-limiter 429
	Injected    int       // faults and chaos answers
}

type rlState struct {
	start, end  time.Time
	count       int
	bannedUntil time.Time
}

// Server is the fake Vimeo API: an http.Handler over an Account. Serve it with
// Start (tests) or on any listener (demo, load tests).
type Server struct {
	acct *Account
	opts Options
	r    *renderer

	mu     sync.Mutex
	rng    *rand.Rand
	seq    int
	rl     map[string]*rlState
	faults []*faultState
	log    []Request
	stats  Stats

	hooks *webhookHub
	ts    *httptest.Server
}

// NewServer returns the fake as an http.Handler over acct.
func NewServer(acct *Account, opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if len(o.Tokens) == 0 {
		o.Tokens = []string{DefaultToken}
	}
	if o.Clock == nil {
		o.Clock = acct.Clock()
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.FieldsMultiplier <= 0 {
		o.FieldsMultiplier = 2
	}
	if o.RateWindow <= 0 {
		o.RateWindow = time.Minute
	}
	if o.LogLimit <= 0 {
		o.LogLimit = 100000
	}
	s := &Server{acct: acct, opts: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x5bd1e995)),
		rl: map[string]*rlState{}, stats: Stats{ByStatus: map[int]int{}}}
	s.r = &renderer{a: acct, opts: &s.opts}
	s.hooks = newWebhookHub(s, o.Webhooks)
	acct.Subscribe(s.hooks.onEvent)
	return s
}

// Start serves a new fake on an httptest server that closes with tb.
func Start(tb testing.TB, acct *Account, opts *Options) *Server {
	tb.Helper()
	s := NewServer(acct, opts)
	s.ts = httptest.NewServer(s)
	tb.Cleanup(s.ts.Close)
	return s
}

// URL is the base URL of a server made by Start.
func (s *Server) URL() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Account returns the account the server serves.
func (s *Server) Account() *Account { return s.acct }

// Token returns the first accepted token.
func (s *Server) Token() string { return s.opts.Tokens[0] }

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Stats returns traffic counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = make(map[int]int, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	return st
}

// ResetStats clears the log and counters (not the rate-limit state).
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	s.stats = Stats{ByStatus: map[int]int{}}
}

// SetChaos changes the random error, HTML and reset rates while serving.
func (s *Server) SetChaos(errorRate, htmlRate, resetRate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.ErrorRate, s.opts.HTMLRate, s.opts.ResetRate = errorRate, htmlRate, resetRate
}

// statusWriter records a request's outcome in the log the moment the status
// is written, before any byte reaches the client, so a test that has its answer
// always finds it logged.
type statusWriter struct {
	http.ResponseWriter
	s                 *Server
	seq               int
	status            int
	injected, limited bool
	recorded          bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.recorded {
		w.recorded = true
		w.s.finish(w.seq, code, w.injected, w.limited)
	}
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("vimeotest: connection cannot be hijacked")
	}
	if !w.recorded { // a dropped connection: logged with status 0 before it drops
		w.recorded = true
		w.s.finish(w.seq, 0, w.injected, w.limited)
	}
	return hj.Hijack()
}

// begin logs a request as it arrives.
func (s *Server) begin(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= s.opts.LogLimit {
		copy(s.log, s.log[1:])
		s.log = s.log[:len(s.log)-1]
	}
	s.log = append(s.log, rec)
	s.stats.Requests++
	if s.stats.First.IsZero() {
		s.stats.First = rec.At
	}
}

// finish records the outcome of request seq.
func (s *Server) finish(seq, status int, injected, limited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) > 0 {
		if i := seq - s.log[0].Seq; i >= 0 && i < len(s.log) && s.log[i].Seq == seq {
			s.log[i].Status, s.log[i].Injected = status, injected
		}
	}
	s.stats.ByStatus[status]++
	if injected {
		s.stats.Injected++
	}
	if limited {
		s.stats.RateLimited++
		if s.stats.First429.IsZero() {
			s.stats.First429 = s.opts.Clock.Now()
		}
	}
}

func (s *Server) token(r *http.Request) (string, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	for _, t := range s.opts.Tokens {
		if t == tok {
			return tok, true
		}
	}
	return "", false
}

// normalize maps /me/... to /users/{uid}/... and returns the path segments.
func (s *Server) normalize(p string) (string, []string) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) > 0 && segs[0] == "me" {
		segs = append([]string{"users", strconv.FormatInt(s.acct.userID, 10)}, segs[1:]...)
	}
	return "/" + strings.Join(segs, "/"), segs
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Clock.Now()
	s.mu.Lock()
	s.seq++
	rec := Request{Seq: s.seq, At: now, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Authorization: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept"),
		UserAgent: r.Header.Get("User-Agent"), IfModified: r.Header.Get("If-Modified-Since")}
	s.mu.Unlock()
	s.begin(rec)
	sw := &statusWriter{ResponseWriter: w, s: s, seq: rec.Seq}
	defer func() {
		if !sw.recorded { // nothing written: a dropped connection or a panic
			sw.recorded = true
			s.finish(rec.Seq, 0, sw.injected, sw.limited)
		}
	}()
	w.Header().Set("X-Request-Id", strconv.Itoa(rec.Seq))

	tok, ok := s.token(r)
	if !ok {
		s.writeError(sw, typicalError(http.StatusUnauthorized))
		return
	}
	norm, segs := s.normalize(r.URL.Path)
	hooks, fault := s.takeFaults(r, norm, now)
	for _, h := range hooks {
		h(s.acct)
	}
	delay := s.opts.Latency
	s.mu.Lock()
	if s.opts.LatencyJitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(s.opts.LatencyJitter)))
	}
	roll, roll2, roll3 := s.rng.Float64(), s.rng.Float64(), s.rng.Float64()
	errorRate, htmlRate, resetRate := s.opts.ErrorRate, s.opts.HTMLRate, s.opts.ResetRate
	s.mu.Unlock()
	if fault != nil {
		delay += fault.Latency
	}
	if delay > 0 {
		if err := s.opts.Clock.Sleep(r.Context(), delay); err != nil {
			return
		}
		now = s.opts.Clock.Now()
	}

	if s.opts.RateLimit > 0 {
		allowed := s.rateLimit(sw, tok, r.URL.Query().Get("fields") != "", now)
		if !allowed {
			sw.limited = true
			if s.opts.NoRateHeadersOn429 {
				for _, k := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} {
					sw.Header().Del(k)
				}
			}
			s.writeError(sw, typicalError(http.StatusTooManyRequests))
			return
		}
	}
	if fault != nil && (fault.Status != 0 || fault.Reset) {
		sw.injected = true
		s.writeFault(sw, fault)
		return
	}
	if resetRate > 0 && roll < resetRate {
		sw.injected = true
		resetConn(sw)
		return
	}
	if errorRate > 0 && roll2 < errorRate {
		sw.injected = true
		status := []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusGatewayTimeout}[int(roll3*3)%3]
		if htmlRate > 0 && math.Mod(roll3*7, 1) < htmlRate {
			writeHTML(sw, status)
		} else {
			s.writeError(sw, typicalError(status))
		}
		return
	}
	s.route(sw, r, segs)
}

// rateLimit counts the request against tok's window and sets the headers. It
// returns false when the request must be answered 429.
func (s *Server) rateLimit(w http.ResponseWriter, tok string, fields bool, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.opts.RateLimit
	if fields {
		limit *= s.opts.FieldsMultiplier
	}
	st := s.rl[tok]
	if st == nil {
		st = &rlState{}
		s.rl[tok] = st
	}
	h := w.Header()
	setHeaders := func(remaining int, reset time.Time) {
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
		h.Set("X-RateLimit-Reset", s.formatReset(reset))
	}
	if now.Before(st.bannedUntil) {
		setHeaders(0, st.bannedUntil)
		s.retryAfter(h, st.bannedUntil, now)
		return false
	}
	if st.end.IsZero() || !now.Before(st.end) {
		st.start, st.end, st.count = now, now.Add(s.opts.RateWindow), 0
	}
	if st.count >= limit {
		switch {
		case s.opts.LegacyBan:
			st.bannedUntil = now.Add(time.Hour)
		case s.opts.BanDuration > 0:
			st.bannedUntil = now.Add(s.opts.BanDuration)
		default:
			st.bannedUntil = st.end
		}
		st.end = st.bannedUntil // a fresh window starts when the ban ends
		setHeaders(0, st.bannedUntil)
		s.retryAfter(h, st.bannedUntil, now)
		return false
	}
	st.count++
	setHeaders(limit-st.count, st.end)
	return true
}

// formatReset renders a reset time rounded up to the whole second, so a client
// that waits until the header's time is never early.
func (s *Server) formatReset(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() != 0 {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	if s.opts.ResetEpoch {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return t.Format("2006-01-02T15:04:05+00:00")
}

func (s *Server) retryAfter(h http.Header, until, now time.Time) {
	if s.opts.RetryAfter {
		secs := int(math.Ceil(until.Sub(now).Seconds()))
		h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
}

// writeJSON answers 200 (or status) with v, honouring ETags when enabled.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, typicalError(http.StatusInternalServerError))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Vary", "Accept,Vimeo-Client-Id,Accept-Encoding")
	h.Set("Cache-Control", "no-cache, max-age=315360000")
	if s.opts.ETags && r.Method == http.MethodGet && status == http.StatusOK {
		sum := sha1.Sum(b)
		tag := `W/"` + hex.EncodeToString(sum[:8]) + `"`
		h.Set("ETag", tag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, tag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// collection writes one page of a collection of total items; render returns the
// JSON of items [start, end).
func (s *Server) collection(w http.ResponseWriter, r *http.Request, ctype string, total int, forcePage int,
	render func(start, end int) []any) {
	q := r.URL.Query()
	page, perPage, ok := s.pageParams(w, q)
	if !ok {
		return
	}
	if forcePage > 0 {
		page = forcePage
	}
	last := max(1, (total+perPage-1)/perPage)
	if page > last {
		s.pagePastEnd(w)
		return
	}
	link := func(p int) any {
		if p < 1 || p > last {
			return nil
		}
		qq := url.Values{}
		for k, vs := range q {
			if k != "page" {
				qq[k] = vs
			}
		}
		qq.Set("page", strconv.Itoa(p))
		return r.URL.Path + "?" + qq.Encode()
	}
	start := (page - 1) * perPage
	end := min(start+perPage, total)
	data := []any{}
	if start < end {
		data = render(start, end)
	}
	s.writeJSON(w, r, http.StatusOK, ctype, map[string]any{
		"total": total, "page": page, "per_page": perPage,
		"paging": map[string]any{"next": link(page + 1), "previous": link(page - 1), "first": link(1), "last": link(last)},
		"data":   data,
	})
}

func (s *Server) forbidden(w http.ResponseWriter, what string) {
	if s.opts.ForbiddenAs404 {
		msg := msgFolderNotFound
		if what == "video" {
			msg = msgVideoNotFound
		}
		s.writeError(w, apiErr{http.StatusNotFound, 5000, msg, "No such " + what + " exists.", nil})
		return
	}
	s.writeError(w, apiErr{http.StatusForbidden, 3200, "You don't have permission to access this " + what + ".",
		"The authenticated user can't access this " + what + ".", nil})
}

func (s *Server) notFound(w http.ResponseWriter, what string) {
	msg := "The requested page couldn't be found."
	switch what {
	case "folder":
		msg = msgFolderNotFound
	case "video":
		msg = msgVideoNotFound
	}
	s.writeError(w, apiErr{http.StatusNotFound, 5000, msg, "No such " + what + " exists.", nil})
}

func (s *Server) methodNotAllowed(w http.ResponseWriter) {
	s.writeError(w, apiErr{http.StatusMethodNotAllowed, 2100, "This method is not allowed here.", "Method not allowed.", nil})
}

func readBody(r *http.Request) map[string]string {
	out := map[string]string{}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		for k, v := range m {
			switch t := v.(type) {
			case string:
				out[k] = t
			case bool:
				out[k] = strconv.FormatBool(t)
			case float64:
				out[k] = strconv.FormatFloat(t, 'f', -1, 64)
			}
		}
		return out
	}
	if q, err := url.ParseQuery(string(b)); err == nil {
		for k := range q {
			out[k] = q.Get(k)
		}
	}
	return out
}
