package vimeotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Fault scripts a failure or a change keyed on requests: "the 3rd request to
// /users/1001/projects/5002/items?page=2 answers 503" is
// Fault{Path: "/users/1001/projects/5002/items", Query: {"page": "2"}, After: 2, Status: 503}.
type Fault struct {
	// Method to match; "" matches any.
	Method string
	// Path to match, with path.Match wildcards ("*" is one segment). It is
	// compared with the requested path and with its /users/{uid} form, so
	// "/me/..." requests match "/users/{uid}/..." patterns. "" matches any.
	Path string
	// Query lists parameters that must be present with these values.
	Query map[string]string
	// After skips the first After matching requests.
	After int
	// Times is how many matching requests the fault hits after that; 0 means
	// once, negative means forever.
	Times int
	// NotBefore, when set, ignores requests arriving before that time on the
	// server's clock: faults and mutations keyed on time rather than count.
	NotBefore time.Time

	// Status, when set, answers with an error of that status instead of
	// serving the request: the JSON error body of the real shape with ErrorCode
	// (or a typical code for the status), an HTML page when HTML is set, or
	// {"error": ...} only when Minimal is set. 429 answers carry rate headers.
	Status    int
	ErrorCode int
	HTML      bool
	Minimal   bool
	// Reset drops the connection without an answer.
	Reset bool
	// Latency delays the answer (on the server's clock).
	Latency time.Duration
	// Before runs before the request is served (a mid-walk mutation, say). It
	// runs outside the server's locks and may use the account freely.
	Before func(a *Account)
}

type faultState struct {
	Fault
	seen, fired int
}

func (f *faultState) matches(r *http.Request, normPath string, now time.Time) bool {
	if !f.NotBefore.IsZero() && now.Before(f.NotBefore) {
		return false
	}
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	if f.Path != "" {
		ok1, _ := path.Match(f.Path, r.URL.Path)
		ok2, _ := path.Match(f.Path, normPath)
		if !ok1 && !ok2 {
			return false
		}
	}
	if len(f.Query) > 0 {
		q := r.URL.Query()
		for k, v := range f.Query {
			if q.Get(k) != v {
				return false
			}
		}
	}
	return true
}

// AddFault scripts a fault. Faults are checked in the order added; every
// matching fault counts the request, and the first that fires decides.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f})
}

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFaults counts r against the scripted faults and returns the hooks to run
// and the fault that decides the answer, if any.
func (s *Server) takeFaults(r *http.Request, normPath string, now time.Time) (hooks []func(*Account), hit *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if !f.matches(r, normPath, now) {
			continue
		}
		f.seen++
		if f.seen <= f.After {
			continue
		}
		limit := f.Times
		if limit == 0 {
			limit = 1
		}
		if limit > 0 && f.fired >= limit {
			continue
		}
		f.fired++
		if f.Before != nil {
			hooks = append(hooks, f.Before)
		}
		if hit == nil && (f.Status != 0 || f.Reset || f.Latency > 0) {
			ff := f.Fault
			hit = &ff
		}
	}
	return hooks, hit
}

// ----- error bodies -----

// Messages of the real service (from recordings and client libraries).
const (
	msgUnauthenticated = "You must provide a valid authenticated access token."
	msgFolderNotFound  = "The requested folder couldn't be found."
	msgVideoNotFound   = "The requested video couldn't be found."
	msgStrange         = "Something strange occurred. Please try again."
	// The recorded developer_message keeps a stray PHP concatenation; so do we.
	msgPagePastEndDev = "There isn't enough content to display the page you requested. ' .\n                'Please follow the pagination guidelines detailed in the developer documentation."
)

type apiErr struct {
	status  int
	code    int
	msg     string
	dev     string
	invalid []map[string]any
}

func typicalError(status int) apiErr {
	switch status {
	case http.StatusBadRequest:
		return apiErr{status, 2204, "You have provided an invalid parameter. Please contact developer of this application.", "The request contains an invalid parameter.", nil}
	case http.StatusUnauthorized:
		return apiErr{status, 8003, msgUnauthenticated, "The request must include a valid access token.", nil}
	case http.StatusForbidden:
		return apiErr{status, 3200, "You don't have permission to access this resource.", "The authenticated user can't access this resource.", nil}
	case http.StatusNotFound:
		return apiErr{status, 5000, "The requested page couldn't be found.", "No such resource exists.", nil}
	case http.StatusTooManyRequests:
		return apiErr{status, 9000, "Too many API requests. Please wait a minute and try again.", "The request was rate limited.", nil}
	case http.StatusServiceUnavailable:
		return apiErr{status, 7000, "Vimeo is a little busy right now. Please try again.", "The server is busy.", nil}
	case http.StatusGatewayTimeout:
		return apiErr{status, 4000, msgStrange, "The operation timed out.", nil}
	}
	if status >= 500 {
		return apiErr{status, 1004, msgStrange, "An internal server error occurred.", nil}
	}
	return apiErr{status, 0, http.StatusText(status), http.StatusText(status), nil}
}

func (s *Server) writeError(w http.ResponseWriter, e apiErr) {
	var body any
	if s.opts.MinimalErrors {
		body = map[string]any{"error": e.msg}
	} else {
		m := map[string]any{"error": e.msg, "link": nil, "developer_message": e.dev, "error_code": e.code}
		if len(e.invalid) > 0 {
			inv := make([]any, len(e.invalid))
			for i, p := range e.invalid {
				inv[i] = p
			}
			m["invalid_parameters"] = inv
		}
		body = m
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/vnd.vimeo.error+json")
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// writeHTML answers like a CDN in front of Vimeo: an HTML page, no rate headers.
func writeHTML(w http.ResponseWriter, status int) {
	h := w.Header()
	for _, k := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} {
		h.Del(k)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Served-By", "cache-fra-etou8220021-FRA")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!DOCTYPE html>
<html><head><title>%d %s</title></head>
<body><h1>Error %d %s</h1><p>%s</p><h3>Guru Mediation:</h3><p>Details: cache-fra-etou8220021-FRA %d</p><hr><p>Varnish cache server</p></body></html>`,
		status, http.StatusText(status), status, http.StatusText(status), http.StatusText(status), status)
}

// resetConn drops the connection without answering.
func resetConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	if f.Reset {
		resetConn(w)
		return
	}
	if f.HTML {
		writeHTML(w, f.Status)
		return
	}
	e := typicalError(f.Status)
	if f.ErrorCode != 0 {
		e.code = f.ErrorCode
	}
	if f.Status == http.StatusBadRequest && e.code == 2286 {
		e.msg, e.dev = msgStrange, msgPagePastEndDev
	}
	s.writeError(w, e)
}

// pagePastEnd answers a page beyond the last: 400/2286 as recorded, or 404.
func (s *Server) pagePastEnd(w http.ResponseWriter) {
	if s.opts.PagePastEnd404 {
		s.writeError(w, apiErr{http.StatusNotFound, 5000, "The requested page couldn't be found.", "There is no such page.", nil})
		return
	}
	s.writeError(w, apiErr{http.StatusBadRequest, 2286, msgStrange, msgPagePastEndDev, nil})
}

func invalidParam(field, dev string) apiErr {
	return apiErr{http.StatusBadRequest, 2204,
		"You have provided an invalid parameter. Please contact developer of this application.", dev,
		[]map[string]any{{"field": field, "error_code": 2204, "error": "Invalid value.", "developer_message": dev}}}
}

// pageParams reads page and per_page. ok is false after an error was written.
func (s *Server) pageParams(w http.ResponseWriter, q url.Values) (page, perPage int, ok bool) {
	page, perPage = 1, 25
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			s.writeError(w, invalidParam("per_page", "The parameter \"per_page\" must be a positive integer."))
			return 0, 0, false
		case n > 100 && s.opts.ClampPerPage:
			n = 100
		case n > 100:
			s.writeError(w, invalidParam("per_page", "The parameter \"per_page\" must be 100 or less."))
			return 0, 0, false
		}
		perPage = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, invalidParam("page", "The parameter \"page\" must be a positive integer."))
			return 0, 0, false
		}
		page = n
	}
	return page, perPage, true
}
