package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The lean client: Run's sender for http:// targets when Options.Client is
// nil (doc.go, "Client", says what it does and does not do). A pool hands
// each due request to an idle connection's worker goroutine, or starts a
// new connection and worker; a conn's fields belong to its worker alone,
// the pool's lists and the set of live net.Conns (closed by abort) to p.mu.

// readBufferSize is each connection's read buffer: headers and most bodies
// of the library API in one read.
const readBufferSize = 16 << 10

// errMalformed reports an answer the lean client cannot parse.
var errMalformed = errors.New("loadgen: malformed HTTP response")

// pool is the lean client of one Run: connections to one target.
type pool struct {
	ctx     context.Context // Run's: cancelling it aborts what is in flight
	timeout time.Duration   // per request, from its send to the end of its body
	r       *runner         // where outcomes go (nil in tests that call do)

	base   string // the target URL without a trailing slash
	host   string // Host header
	addr   string // dial address, host:port
	prefix string // the target's path, sent before every Request.Path

	mu      sync.Mutex
	idle    []*conn // LIFO: the warmest connection is reused first
	conns   []*conn // every connection's worker, to stop at the end
	live    map[net.Conn]struct{}
	aborted bool
	workers sync.WaitGroup
}

// newPool returns the lean client for base, or nil when base is not a
// plain http://host[:port][/path] URL (then Run uses net/http).
func newPool(ctx context.Context, base string, timeout time.Duration, r *runner) *pool {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.User != nil || u.Opaque != "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil
	}
	prefix := base[len("http://")+len(u.Host):]
	if prefix != "" && (prefix[0] != '/' || strings.IndexByte(prefix, '?') >= 0 || !verbatim(prefix)) {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return &pool{
		ctx: ctx, timeout: timeout, r: r,
		base: base, host: u.Host, addr: net.JoinHostPort(u.Hostname(), port), prefix: prefix,
		live: map[net.Conn]struct{}{},
	}
}

// dispatch hands j to an idle connection or a new one. It never blocks on
// the network: dialling happens in the connection's goroutine.
func (p *pool) dispatch(j job) {
	p.mu.Lock()
	var c *conn
	fresh := false
	if n := len(p.idle); n > 0 {
		c = p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
	} else {
		c, fresh = p.newConn(), true
		p.conns = append(p.conns, c)
		p.workers.Add(1)
	}
	p.mu.Unlock()
	if fresh {
		go c.serve()
	}
	c.jobs <- j // buffered and the worker is idle: never blocks
}

func (p *pool) newConn() *conn {
	return &conn{p: p, jobs: make(chan job, 1), br: bufio.NewReaderSize(nil, readBufferSize), wbuf: make([]byte, 0, 512)}
}

// serve is a connection's worker: it sends the jobs it is given one at a
// time and puts itself back on the idle list after each.
func (c *conn) serve() {
	defer c.p.workers.Done()
	defer c.drop()
	for j := range c.jobs {
		sent := time.Now()
		out := c.do(&j.req, sent.Add(c.p.timeout))
		end := time.Now()
		c.p.r.record(&j, out, sent, end)
		c.p.putIdle(c)
		c.p.r.release()
	}
}

func (p *pool) putIdle(c *conn) {
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// abort closes every connection: Run's context is done, and what is in
// flight ends now (as a StatusError, as net/http's cancelled requests do).
func (p *pool) abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.aborted = true
	for nc := range p.live {
		_ = nc.Close() // the worker sees the error
	}
}

// close stops the workers and closes their connections. Nothing may be in
// flight or dispatched any more.
func (p *pool) close() {
	p.mu.Lock()
	for _, c := range p.conns {
		close(c.jobs)
	}
	p.conns, p.idle = nil, nil
	p.mu.Unlock()
	p.workers.Wait()
}

// conn is one keep-alive connection and the buffers of its requests. Only
// its worker (or a test calling do) touches it.
type conn struct {
	p    *pool
	jobs chan job
	nc   net.Conn // nil: dial before the next request
	br   *bufio.Reader
	wbuf []byte
	used bool // nc has answered before: it may have been closed while idle
}

func (c *conn) dial(deadline time.Time) error {
	d := net.Dialer{Deadline: deadline}
	nc, err := d.DialContext(c.p.ctx, "tcp", c.p.addr)
	if err != nil {
		return err
	}
	c.p.mu.Lock()
	if c.p.aborted {
		c.p.mu.Unlock()
		_ = nc.Close()
		return net.ErrClosed
	}
	c.p.live[nc] = struct{}{}
	c.p.mu.Unlock()
	c.nc, c.used = nc, false
	c.br.Reset(nc)
	return nil
}

// drop closes the connection; the next request dials a new one.
func (c *conn) drop() {
	if c.nc == nil {
		return
	}
	_ = c.nc.Close() // nothing to do about a failed close of a dropped conn
	c.p.mu.Lock()
	delete(c.p.live, c.nc)
	c.p.mu.Unlock()
	c.nc, c.used = nil, false
}

// do sends r and reads its answer, all before deadline, and classifies the
// outcome as send does for net/http.
func (c *conn) do(r *Request, deadline time.Time) outcome {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if !c.build(r, method) {
		return outcome{status: StatusError}
	}
	head := method == http.MethodHead
	for retried := false; ; retried = true {
		if c.nc == nil {
			if err := c.dial(deadline); err != nil {
				return outcome{status: c.p.classify(err)}
			}
		}
		reused := c.used
		code, n, answered, err := c.roundTrip(head, deadline)
		if err == nil {
			return outcome{status: statusKey(code), ok: expected(r.Expect, code), bytes: n}
		}
		c.drop()
		if reused && !answered && !retried && replayable(method) && !isTimeout(err) && c.p.ctx.Err() == nil {
			continue
		}
		return outcome{status: c.p.classify(err)}
	}
}

// roundTrip writes the built request and reads one answer. answered tells
// whether any byte of an answer arrived.
func (c *conn) roundTrip(head bool, deadline time.Time) (code int, n int64, answered bool, err error) {
	if err := c.nc.SetDeadline(deadline); err != nil {
		return 0, 0, false, err
	}
	if _, err := c.nc.Write(c.wbuf); err != nil {
		return 0, 0, false, err
	}
	a, err := c.readResponse(head)
	if err != nil {
		return 0, 0, a.answered, err
	}
	if !a.keep || c.br.Buffered() > 0 { // told to close, or bytes nobody asked for
		c.drop()
	} else {
		c.used = true
	}
	return a.code, a.n, true, nil
}

// build writes the request's bytes into c.wbuf. It reports false for a
// request net/http would refuse to send (bad method, path or token).
func (c *conn) build(r *Request, method string) bool {
	if !isToken(method) || !validHeaderValue(r.Token) {
		return false
	}
	b := append(c.wbuf[:0], method...)
	b = append(b, ' ')
	p := c.p
	path := r.Path
	switch {
	case path == "" || path[0] == '/' || path[0] == '?':
		if verbatim(path) {
			b = append(b, p.prefix...)
			if p.prefix == "" && (path == "" || path[0] == '?') {
				b = append(b, '/')
			}
			b = append(b, path...)
			break
		}
		fallthrough
	default: // what net/http would send for base+path (allocates; rare)
		u, err := url.Parse(p.base + path)
		if err != nil || u.Scheme != "http" || u.Host != p.host {
			return false
		}
		b = append(b, u.RequestURI()...)
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, p.host...)
	if r.Token != "" {
		b = append(b, "\r\nAuthorization: Bearer "...)
		b = append(b, r.Token...)
	}
	if method != http.MethodGet && method != http.MethodHead {
		b = append(b, "\r\nContent-Length: 0"...) // as net/http sends for an empty body
	}
	b = append(b, "\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n"...)
	c.wbuf = b
	return true
}

// answer is what readResponse learnt of one answer.
type answer struct {
	code     int
	n        int64 // body bytes
	keep     bool  // the connection may be reused
	answered bool  // some byte of an answer arrived
}

// readResponse reads one final answer (skipping 1xx informational ones) and
// discards its body.
func (c *conn) readResponse(head bool) (answer, error) {
	var a answer
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			a.answered = a.answered || len(line) > 0
			return a, err
		}
		a.answered = true
		code, http10, ok := parseStatusLine(line)
		if !ok {
			return a, errMalformed
		}
		h, err := c.readHeader(http10)
		if err != nil {
			return a, err
		}
		if code < 200 && code != http.StatusSwitchingProtocols {
			continue // 100 Continue, 103 Early Hints: the answer follows
		}
		a.code, a.keep = code, h.keep
		switch {
		case code == http.StatusSwitchingProtocols:
			a.keep = false // not HTTP any more
		case head || code == http.StatusNoContent || code == http.StatusNotModified:
		case h.chunked:
			a.n, err = c.discardChunked()
		case h.length >= 0:
			var d int
			d, err = c.br.Discard(int(h.length))
			a.n, err = int64(d), unexpected(err)
		default: // no length: the body ends when the server closes
			a.n, err = c.discardToEOF()
			a.keep = false
		}
		return a, err
	}
}

// header is what readResponse needs from a header block.
type header struct {
	length  int64 // Content-Length, -1 if absent
	chunked bool
	keep    bool
}

func (c *conn) readHeader(http10 bool) (header, error) {
	h := header{length: -1, keep: !http10}
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return h, unexpected(err)
		}
		line = trimSpace(line)
		if len(line) == 0 {
			return h, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, errMalformed
		}
		name, value := trimSpace(line[:colon]), trimSpace(line[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			v, ok := parseLength(value)
			if !ok || (h.length >= 0 && h.length != v) {
				return h, errMalformed
			}
			h.length = v
		case equalFold(name, "transfer-encoding"):
			// net/http reads only chunked; other codings are an error there too.
			if !equalFold(lastToken(value), "chunked") {
				return h, errMalformed
			}
			h.chunked = true
		case equalFold(name, "connection"):
			for len(value) > 0 {
				var tok []byte
				tok, value = nextToken(value)
				switch {
				case equalFold(tok, "close"):
					h.keep = false
				case equalFold(tok, "keep-alive") && http10:
					h.keep = true
				}
			}
		}
	}
}

// discardChunked reads a chunked body and its trailer and returns the
// payload's length.
func (c *conn) discardChunked() (int64, error) {
	var n int64
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return n, unexpected(err)
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return n, errMalformed
		}
		if size == 0 {
			for { // trailer fields, up to an empty line
				line, err = c.br.ReadSlice('\n')
				if err != nil {
					return n, unexpected(err)
				}
				if len(trimSpace(line)) == 0 {
					return n, nil
				}
			}
		}
		d, err := c.br.Discard(int(size))
		n += int64(d)
		if err != nil {
			return n, unexpected(err)
		}
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return n, unexpected(err)
		}
		if len(trimSpace(line)) != 0 {
			return n, errMalformed
		}
	}
}

func (c *conn) discardToEOF() (int64, error) {
	var n int64
	for {
		d, err := c.br.Discard(readBufferSize)
		n += int64(d)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// classify maps a failed request's error to its outcome, as send does:
// a deadline is a timeout, anything else a transport error. Once Run's
// context is done, its error decides (cancelled: error).
func (p *pool) classify(err error) string {
	if cerr := p.ctx.Err(); cerr != nil {
		err = cerr
	}
	if isTimeout(err) {
		return StatusTimeout
	}
	return StatusError
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// replayable is net/http's rule for resending a request that failed on a
// reused connection: an idempotent method without a body.
func replayable(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

func expected(expect, code int) bool {
	if expect != 0 {
		return code == expect
	}
	return code >= 200 && code < 300
}

// statusKeys are the Stats.Statuses keys of the codes 100…599, made once so
// that recording a status does not allocate.
var statusKeys = func() []string {
	k := make([]string, 500)
	for i := range k {
		k[i] = strconv.Itoa(100 + i)
	}
	return k
}()

func statusKey(code int) string {
	if code >= 100 && code < 600 {
		return statusKeys[code-100]
	}
	return strconv.Itoa(code)
}

// parseStatusLine reads "HTTP/1.x NNN reason".
func parseStatusLine(line []byte) (code int, http10, ok bool) {
	line = trimSpace(line)
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return 0, false, false
	}
	if line[7] != '0' && line[7] != '1' {
		return 0, false, false
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, false, false
		}
		code = code*10 + int(d-'0')
	}
	return code, line[7] == '0', code >= 100
}

// parseLength reads a Content-Length value: decimal digits only.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range v {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

// parseChunkSize reads a chunk-size line: hex digits, then optional
// extensions after ';'.
func parseChunkSize(line []byte) (int64, bool) {
	line = trimSpace(line)
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = trimSpace(line[:i])
	}
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, d := range line {
		var v byte
		switch {
		case d >= '0' && d <= '9':
			v = d - '0'
		case d >= 'a' && d <= 'f':
			v = d - 'a' + 10
		case d >= 'A' && d <= 'F':
			v = d - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	return n, true
}

// verbatim reports whether net/http sends a path-and-query unchanged as the
// request target (url.URL.RequestURI): path bytes that never need escaping,
// then an optional query of visible ASCII without '#'. Anything else goes
// through net/url.
func verbatim(t string) bool {
	i := 0
	for ; i < len(t) && t[i] != '?'; i++ {
		if !plainPathByte(t[i]) {
			return false
		}
	}
	for ; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}

// plainPathByte: letters, digits and "/-_.~", which a path never escapes.
func plainPathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '/' || c == '-' || c == '_' || c == '.' || c == '~'
}

// isToken reports whether s is an HTTP token (a valid method).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue is net/http's rule: no control bytes but tab.
func validHeaderValue(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

// nextToken splits a comma-separated list.
func nextToken(v []byte) (tok, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimSpace(v[:i]), v[i+1:]
	}
	return trimSpace(v), nil
}

func lastToken(v []byte) []byte {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == ',' {
			return trimSpace(v[i+1:])
		}
	}
	return trimSpace(v)
}

// equalFold compares ASCII b with lower, a lower-case constant.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
