package loadgen

import (
	"bufio"
	"context"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// then is what rawServer does after writing an answer.
type then int

const (
	keepOpen  then = iota // read the next request
	closeConn             // close the connection (FIN)
	resetConn             // reset it (RST: SO_LINGER 0)
	hang                  // stop reading and answering until the test ends
)

// rawServer is a fake HTTP/1.1 server on a raw net.Listener: it reads each
// request head byte for byte, logs it under the connection that carried it,
// and writes exactly the bytes answer returns.
type rawServer struct {
	t      *testing.T
	ln     net.Listener
	answer func(*http.Request) (string, then)
	done   chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	open  []net.Conn
	heads [][]string // per accepted connection, the raw request heads it carried
}

func newRawServer(t *testing.T, answer func(*http.Request) (string, then)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{t: t, ln: ln, answer: answer, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open = append(s.open, nc)
			s.heads = append(s.heads, nil)
			i := len(s.heads) - 1
			s.mu.Unlock()
			s.wg.Add(1)
			go s.serve(nc, i)
		}
	}()
	t.Cleanup(func() {
		close(s.done)
		_ = ln.Close()
		s.mu.Lock()
		for _, nc := range s.open {
			_ = nc.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// answers serves fixed answers by request path; unknown paths get a 500.
func answers(m map[string]string, after map[string]then) func(*http.Request) (string, then) {
	return func(r *http.Request) (string, then) {
		a, ok := m[r.URL.Path]
		if !ok {
			return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", keepOpen
		}
		return a, after[r.URL.Path]
	}
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) serve(nc net.Conn, i int) {
	defer s.wg.Done()
	defer nc.Close()
	br := bufio.NewReader(nc)
	for {
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			head.WriteString(line)
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head.String())))
		if err != nil {
			s.t.Errorf("fake server: unreadable request %q: %v", head.String(), err)
			return
		}
		s.mu.Lock()
		s.heads[i] = append(s.heads[i], head.String())
		s.mu.Unlock()
		text, act := s.answer(req)
		if _, err := io.WriteString(nc, text); err != nil {
			return
		}
		switch act {
		case closeConn:
			return
		case resetConn:
			_ = nc.(*net.TCPConn).SetLinger(0)
			return
		case hang:
			<-s.done
			return
		}
	}
}

// paths lists, per accepted connection, the paths of the requests it carried.
func (s *rawServer) paths() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]string, len(s.heads))
	for i, hs := range s.heads {
		out[i] = []string{}
		for _, h := range hs {
			req, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(h)))
			out[i] = append(out[i], req.URL.Path)
		}
	}
	return out
}

func (s *rawServer) lastHead() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last string
	for _, hs := range s.heads {
		if len(hs) > 0 {
			last = hs[len(hs)-1]
		}
	}
	return last
}

func (s *rawServer) requestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, hs := range s.heads {
		n += len(hs)
	}
	return n
}

// leanConn is one connection of a lean client to target, driven directly.
func leanConn(t *testing.T, target string) *conn {
	t.Helper()
	p := newPool(context.Background(), target, time.Minute, nil)
	require.NotNil(t, p)
	c := p.newConn()
	t.Cleanup(c.drop)
	return c
}

// get sends r on c. A misframed answer would leave the next one waiting for
// bytes that never come: the deadline turns that into a failed test rather
// than a hung one.
func (c *conn) get(r Request) outcome { return c.do(&r, time.Now().Add(5*time.Second)) }

// Every framing the lean client must read, on one connection: if any answer
// were read too short or too long, the next one would be misparsed. net/http
// reading the same answers is the oracle.
func TestLeanFramesAnswers(t *testing.T) {
	srv := newRawServer(t, answers(map[string]string{
		"/length":        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"/lower":         "HTTP/1.1 200 OK\r\ncontent-length:3\r\nCONNECTION: Keep-Alive\r\n\r\nabc",
		"/chunked":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;name=value\r\nabcd\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
		"/empty-chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"/not-modified":  "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"v1\"\r\n\r\n",
		"/no-content":    "HTTP/1.1 204 No Content\r\n\r\n",
		"/head":          "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n",
		"/continue":      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"/missing":       "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
		"/http10-keep":   "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nten!",
		"/no-reason":     "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
		"/big":           "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("b", 100000),
		"/big-chunked":   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("6000\r\n"+strings.Repeat("c", 0x6000)+"\r\n", 3) + "0\r\n\r\n",
	}, nil))
	cases := []struct {
		req  Request
		want outcome
	}{
		{Request{Path: "/length"}, outcome{"200", true, 5}},
		{Request{Path: "/lower"}, outcome{"200", true, 3}},
		{Request{Path: "/chunked"}, outcome{"200", true, 14}},
		{Request{Path: "/empty-chunked"}, outcome{"200", true, 0}},
		{Request{Path: "/not-modified", Expect: http.StatusNotModified}, outcome{"304", true, 0}},
		{Request{Path: "/no-content"}, outcome{"204", true, 0}},
		{Request{Path: "/head", Method: http.MethodHead}, outcome{"200", true, 0}},
		{Request{Path: "/continue"}, outcome{"200", true, 2}},
		{Request{Path: "/missing", Expect: http.StatusNotFound}, outcome{"404", true, 9}},
		{Request{Path: "/missing"}, outcome{"404", false, 9}},
		{Request{Path: "/http10-keep"}, outcome{"200", true, 4}},
		{Request{Path: "/no-reason"}, outcome{"200", true, 1}},
		{Request{Path: "/big"}, outcome{"200", true, 100000}},
		{Request{Path: "/big-chunked"}, outcome{"200", true, 3 * 0x6000}},
	}
	c := leanConn(t, srv.URL())
	var sent []string
	for round := range 2 {
		for _, tc := range cases {
			require.Equal(t, tc.want, c.get(tc.req), "round %d %s %s", round, tc.req.Method, tc.req.Path)
			sent = append(sent, tc.req.Path)
		}
	}
	require.Equal(t, [][]string{sent}, srv.paths(), "every answer was framed right, so one connection carried all")

	netHTTP := &http.Client{}
	defer netHTTP.CloseIdleConnections()
	for _, tc := range cases {
		require.Equal(t, tc.want, send(context.Background(), netHTTP, srv.URL(), tc.req, time.Minute), "net/http reads %s the same", tc.req.Path)
	}
}

// An answer that says Connection: close (or an HTTP/1.0 answer without
// keep-alive, one whose body ends at EOF, or one followed by bytes nobody
// asked for) ends its connection. The fake keeps all but /until-eof open, so
// reuse would show in its log.
func TestLeanClosesWhenTold(t *testing.T) {
	srv := newRawServer(t, answers(map[string]string{
		"/close":     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"/http10":    "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"/until-eof": "HTTP/1.1 200 OK\r\n\r\nbody until close",
		"/extra":     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra",
		"/ok":        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	}, map[string]then{"/until-eof": closeConn}))
	c := leanConn(t, srv.URL())
	for _, path := range []string{"/close", "/ok", "/http10", "/ok", "/until-eof", "/ok", "/extra", "/ok", "/ok"} {
		want := outcome{"200", true, 2}
		if path == "/until-eof" {
			want.bytes = int64(len("body until close"))
		}
		require.Equal(t, want, c.get(Request{Path: path}), path)
	}
	require.Equal(t, [][]string{{"/close"}, {"/ok", "/http10"}, {"/ok", "/until-eof"}, {"/ok", "/extra"}, {"/ok", "/ok"}}, srv.paths())
}

// A connection that breaks mid-answer, or carries garbage, is an error
// outcome and is dropped; the next request succeeds on a new connection.
func TestLeanDropsBrokenConnections(t *testing.T) {
	partial := "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
	bad := map[string]string{
		"/cut":        partial,
		"/reset":      partial,
		"/garbage":    "HTTP/1.1 2xx nonsense\r\n\r\n",
		"/not-http":   "SSH-2.0-OpenSSH\r\n",
		"/bad-length": "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"/two-length": "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
		"/bad-chunk":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"/cut-chunk":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n01234",
		"/gzip":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
	}
	all := map[string]string{"/ok": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}
	var order []string
	for path, a := range bad {
		all[path] = a
		order = append(order, path)
	}
	srv := newRawServer(t, answers(all, map[string]then{"/cut": closeConn, "/reset": resetConn, "/cut-chunk": closeConn}))
	c := leanConn(t, srv.URL())
	for _, path := range order {
		require.Equal(t, outcome{"200", true, 2}, c.get(Request{Path: "/ok"}))
		require.Equal(t, outcome{status: StatusError}, c.get(Request{Path: path}), path)
	}
	require.Equal(t, outcome{"200", true, 2}, c.get(Request{Path: "/ok"}))

	oks := 0
	for _, conn := range srv.paths() {
		for i, p := range conn {
			if p == "/ok" {
				oks++
				continue
			}
			require.Equal(t, len(conn)-1, i, "nothing follows %s on its connection: %v", p, conn)
		}
	}
	require.Equal(t, len(order)+1, oks, "every /ok was sent once and answered")
}

// A server that does not answer in time is a timeout outcome, whether it
// sends nothing or stalls mid-body; the connection is dropped.
func TestLeanTimesOut(t *testing.T) {
	srv := newRawServer(t, answers(map[string]string{
		"/silent": "",
		"/stall":  "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n01234",
		"/ok":     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	}, map[string]then{"/silent": hang, "/stall": hang}))
	c := leanConn(t, srv.URL())
	for _, path := range []string{"/silent", "/stall"} {
		require.Equal(t, outcome{"200", true, 2}, c.get(Request{Path: "/ok"}))
		out := c.do(&Request{Path: path}, time.Now().Add(50*time.Millisecond))
		require.Equal(t, outcome{status: StatusTimeout}, out, path)
	}
	require.Equal(t, outcome{"200", true, 2}, c.get(Request{Path: "/ok"}))
	require.Equal(t, [][]string{{"/ok", "/silent"}, {"/ok", "/stall"}, {"/ok"}}, srv.paths())
}

// A keep-alive connection the server closed while it was idle fails before
// any answer: a GET is sent again on a new connection (as net/http does), a
// POST is not.
func TestLeanRetriesAConnectionClosedWhileIdle(t *testing.T) {
	srv := newRawServer(t, answers(map[string]string{
		"/once": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	}, map[string]then{"/once": closeConn}))
	c := leanConn(t, srv.URL())
	require.Equal(t, outcome{"200", true, 2}, c.get(Request{Path: "/once"}))
	require.Equal(t, outcome{"200", true, 2}, c.get(Request{Path: "/once"}), "retried on a new connection")
	require.Equal(t, [][]string{{"/once"}, {"/once"}}, srv.paths())
	require.Equal(t, outcome{status: StatusError}, c.get(Request{Path: "/once", Method: http.MethodPost}), "not replayable")
	require.Equal(t, 2, srv.requestCount())
	require.Equal(t, outcome{"200", true, 2}, c.get(Request{Path: "/once", Method: http.MethodPost}), "a new connection")
	require.Equal(t, 3, srv.requestCount())
}

// The request on the wire is exactly the one built: method, target (with
// the target URL's path in front), Host, bearer token, and nothing else.
func TestLeanSendsTheRequestAsBuilt(t *testing.T) {
	srv := newRawServer(t, answers(map[string]string{
		"/api/videos/42": "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"/api/events":    "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
	}, nil))
	host := srv.ln.Addr().String()
	c := leanConn(t, srv.URL()+"/api")

	require.Equal(t, "200", c.get(Request{Path: "/videos/42?fields=a,b&x=1", Token: "eyJ.a-b_c~d"}).status)
	require.Equal(t, "GET /api/videos/42?fields=a,b&x=1 HTTP/1.1\r\nHost: "+host+
		"\r\nAuthorization: Bearer eyJ.a-b_c~d\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n", srv.lastHead())

	require.Equal(t, "202", c.get(Request{Method: http.MethodPost, Path: "/events"}).status)
	require.Equal(t, "POST /api/events HTTP/1.1\r\nHost: "+host+
		"\r\nContent-Length: 0\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n", srv.lastHead())

	// Requests net/http refuses to send are errors, and nothing goes out.
	n := srv.requestCount()
	for _, r := range []Request{
		{Path: "/videos/42", Token: "tok\r\nX-Injected: 1"},
		{Path: "/videos/42", Method: "GE T"},
		{Path: "/videos/%zz"},
	} {
		require.Equal(t, outcome{status: StatusError}, c.get(r), "%+v", r)
		require.Equal(t, outcome{status: StatusError}, send(context.Background(), http.DefaultClient, srv.URL(), r, time.Minute),
			"net/http refuses %+v too", r)
	}
	require.Equal(t, n, srv.requestCount())
	require.Equal(t, [][]string{{"/api/videos/42", "/api/events"}}, srv.paths())
}

// The request target the lean client writes is the one net/http writes for
// base+path (url.Parse(...).RequestURI()), and a path net/http cannot parse
// or that would leave the target host is refused: checked on random paths.
func TestLeanRequestTargetIsNetHTTPs(t *testing.T) {
	const host = "127.0.0.1:8080"
	alphabet := []string{"/", "a", "Z", "0", "-", ".", "_", "~", "!", "$", "&", "'", "(", "*", "+", ",", ";", "=", ":", "@",
		"%", "%2F", "%41", "?", "#", "[", "]", " ", "\t", "ü", "\x7f", "|", "{", "\"", "<"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, prefix := range []string{"", "/api", "/a/b-c"} {
		p := newPool(context.Background(), "http://"+host+prefix, time.Second, nil)
		require.NotNil(t, p)
		c := p.newConn()
		for range 20000 {
			var b strings.Builder
			if rnd.IntN(10) > 0 {
				b.WriteString([]string{"/", "?", ""}[rnd.IntN(3)])
			}
			for range rnd.IntN(10) {
				b.WriteString(alphabet[rnd.IntN(len(alphabet))])
			}
			path := b.String()
			u, err := url.Parse("http://" + host + prefix + path)
			want := err == nil && u.Host == host
			got := c.build(&Request{Path: path}, http.MethodGet)
			require.Equal(t, want, got, "prefix %q path %q (url.Parse: %v)", prefix, path, err)
			if want {
				line, _, _ := strings.Cut(string(c.wbuf), "\r\n")
				require.Equal(t, "GET "+u.RequestURI()+" HTTP/1.1", line, "prefix %q path %q", prefix, path)
			}
		}
	}
}

func TestLeanOnlyForPlainHTTPTargets(t *testing.T) {
	ctx := context.Background()
	for _, target := range []string{"http://127.0.0.1:1", "http://localhost", "http://[::1]:80/api", "http://h/a/b"} {
		require.NotNil(t, newPool(ctx, target, time.Second, nil), target)
	}
	for _, target := range []string{"https://127.0.0.1:1", "http://u:p@127.0.0.1", "http://h/?x=1", "http://h/a#f", "http://h/a%20b", "http://"} {
		require.Nil(t, newPool(ctx, target, time.Second, nil), target)
	}
	require.Equal(t, "localhost:80", newPool(ctx, "http://localhost", time.Second, nil).addr)
}

func TestParseHelpers(t *testing.T) {
	for line, want := range map[string]int{
		"HTTP/1.1 200 OK\r\n": 200, "HTTP/1.0 404 Not Found\n": 404, "HTTP/1.1 204\r\n": 204, "HTTP/1.1 599 x y z\r\n": 599,
		"HTTP/2.0 200 OK\r\n": -1, "HTTP/1.1 20 OK\r\n": -1, "HTTP/1.1 2000 OK\r\n": -1, "HTTP/1.1 099 OK\r\n": -1, "ICY 200 OK\r\n": -1, "": -1,
	} {
		code, _, ok := parseStatusLine([]byte(line))
		if want < 0 {
			require.False(t, ok, "%q", line)
		} else {
			require.True(t, ok, "%q", line)
			require.Equal(t, want, code, "%q", line)
		}
	}
	for line, want := range map[string]int64{
		"0\r\n": 0, "a\r\n": 10, "FF\r\n": 255, "1f;ext=1\r\n": 31, "10 ; x\r\n": 16, "7fffffffffffffff\r\n": -1, "\r\n": -1, "-1\r\n": -1, "0x10\r\n": -1,
	} {
		n, ok := parseChunkSize([]byte(line))
		require.Equal(t, want >= 0, ok, "%q", line)
		if ok {
			require.Equal(t, want, n, "%q", line)
		}
	}
	for v, want := range map[string]int64{"0": 0, "12345": 12345, "": -1, "+1": -1, "1 2": -1, "1234567890123456789": -1} {
		n, ok := parseLength([]byte(v))
		require.Equal(t, want >= 0, ok, "%q", v)
		if ok {
			require.Equal(t, want, n)
		}
	}
	require.Equal(t, "200", statusKey(200))
	require.Equal(t, "42", statusKey(42))
}

// Run's default sender for http:// is the lean client, and it reports the
// same statuses and body bytes as net/http for Content-Length, chunked,
// HEAD and 404 answers of a real net/http server.
func TestRunLeanMatchesNetHTTP(t *testing.T) {
	var newConns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte(strings.Repeat("l", 1000)))
		case "/chunked":
			for range 3 {
				_, _ = w.Write([]byte(strings.Repeat("c", 700)))
				w.(http.Flusher).Flush()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	next := func(seq uint64) Request {
		switch seq % 4 {
		case 0:
			return Request{Endpoint: "length", Path: "/length"}
		case 1:
			return Request{Endpoint: "chunked", Path: "/chunked"}
		case 2:
			return Request{Endpoint: "head", Path: "/length", Method: http.MethodHead}
		default:
			return Request{Endpoint: "missing", Path: "/nowhere", Expect: http.StatusNotFound}
		}
	}
	run := func(client *http.Client) map[string]Stats {
		res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 400, Duration: 500 * time.Millisecond, Client: client})
		require.NoError(t, err)
		out := map[string]Stats{}
		for _, s := range res.Endpoints {
			out[s.Endpoint] = Stats{Count: s.Count, Errors: s.Errors, Statuses: s.Statuses, Bytes: s.Bytes}
		}
		out["total"] = Stats{Count: res.Total.Count, Bytes: res.Total.Bytes}
		return out
	}
	notFound := int64(len("404 page not found\n"))
	want := map[string]Stats{
		"length":  {Count: 50, Statuses: map[string]int64{"200": 50}, Bytes: 50 * 1000},
		"chunked": {Count: 50, Statuses: map[string]int64{"200": 50}, Bytes: 50 * 2100},
		"head":    {Count: 50, Statuses: map[string]int64{"200": 50}},
		"missing": {Count: 50, Statuses: map[string]int64{"404": 50}, Bytes: 50 * notFound},
		"total":   {Count: 200, Bytes: 50 * (1000 + 2100 + notFound)},
	}
	require.Equal(t, want, run(nil), "lean")
	leanConns := newConns.Load()
	require.Less(t, leanConns, int64(100), "200 requests at 400/s reuse connections")
	netHTTP := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer netHTTP.CloseIdleConnections()
	require.Equal(t, want, run(netHTTP), "net/http")
}

// With at most one request in flight, a connection is always idle when the
// next request is due: one connection carries the whole run.
func TestRunLeanReusesOneConnection(t *testing.T) {
	var newConns, served atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	next := func(uint64) Request { return Request{Endpoint: "e", Path: "/"} }
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 200, Duration: 500 * time.Millisecond, MaxInFlight: 1})
	require.NoError(t, err)
	require.EqualValues(t, 1, newConns.Load())
	require.Equal(t, res.Total.Count-res.Total.Statuses[StatusOverflow], served.Load())
	require.Equal(t, served.Load(), res.Total.Statuses["200"])
}

// A request that breaks its connection mid-body is an error in Run's
// result, and the requests after it succeed on new connections.
func TestRunLeanSurvivesBrokenConnections(t *testing.T) {
	srv := newRawServer(t, answers(map[string]string{
		"/cut": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
		"/ok":  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	}, map[string]then{"/cut": closeConn}))
	next := func(seq uint64) Request {
		if seq%5 == 2 {
			return Request{Endpoint: "cut", Path: "/cut"}
		}
		return Request{Endpoint: "ok", Path: "/ok"}
	}
	res, err := Run(context.Background(), srv.URL(), next, &Options{Rate: 200, Duration: 500 * time.Millisecond})
	require.NoError(t, err)
	cut, ok := res.Endpoints[0], res.Endpoints[1]
	require.Equal(t, map[string]int64{StatusError: 20}, cut.Statuses)
	require.Equal(t, map[string]int64{"200": 80}, ok.Statuses)
	require.EqualValues(t, 160, ok.Bytes)
	require.EqualValues(t, 100, res.Total.Histogram.TotalCount(), "failed requests are recorded too")
	for _, conn := range srv.paths() {
		for i, p := range conn {
			if p == "/cut" {
				require.Equal(t, len(conn)-1, i, "nothing follows /cut on its connection")
			}
		}
	}
}

// Cancelling Run's context ends requests in flight at once (as errors),
// for the lean client and for net/http alike. Timeout is an hour: if they
// were not ended, Run would not return.
func TestRunCancelEndsRequestsInFlight(t *testing.T) {
	for name, client := range map[string]*http.Client{"lean": nil, "net/http": {}} {
		t.Run(name, func(t *testing.T) {
			srv := standIn(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
			ctx, cancel := context.WithCancel(context.Background())
			next := func(seq uint64) Request {
				if seq == 5 {
					cancel()
				}
				return Request{Endpoint: "e", Path: "/block"}
			}
			res, err := Run(ctx, srv.URL, next, &Options{Rate: 200, Duration: time.Hour, Timeout: time.Hour, Client: client})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, map[string]int64{StatusError: 6}, res.Total.Statuses, "requests 0…5 were sent and ended")
			require.EqualValues(t, 6, res.Total.Histogram.TotalCount())
		})
	}
}

// With Options.Client set, or an https target, requests go through net/http.
func TestRunUsesNetHTTPWhenAsked(t *testing.T) {
	var trips atomic.Int64
	srv := standIn(t, nil)
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		trips.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	next := func(uint64) Request { return Request{Endpoint: "e", Path: "/ok"} }
	res, err := Run(context.Background(), srv.URL, next, &Options{Rate: 200, Duration: 100 * time.Millisecond, Client: client})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"200": 20}, res.Total.Statuses)
	require.EqualValues(t, 20, trips.Load())

	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(3))
		_, _ = w.Write([]byte("tls"))
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	res, err = Run(context.Background(), tlsSrv.URL, next, &Options{Rate: 200, Duration: 100 * time.Millisecond, Client: tlsSrv.Client()})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"200": 20}, res.Total.Statuses)
	require.EqualValues(t, 60, res.Total.Bytes)
	// Without the test CA, the default https client fails the handshake:
	// net/http, not the lean client (which would speak plain HTTP), sent it.
	res, err = Run(context.Background(), tlsSrv.URL, next, &Options{Rate: 200, Duration: 50 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{StatusError: 10}, res.Total.Statuses)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
