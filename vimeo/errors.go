package vimeo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Sentinel errors. Test with errors.Is; an *APIError matches the sentinel that
// describes its status (see APIError.Is), and client-side failures wrap the
// sentinel that fits.
var (
	// ErrNotFound: 404, the folder or video does not exist (or is out of reach).
	ErrNotFound = errors.New("vimeo: not found")
	// ErrForbidden: 403, the token lacks a scope or access to the object.
	ErrForbidden = errors.New("vimeo: forbidden")
	// ErrUnauthorized: 401, the token is missing, invalid or revoked.
	ErrUnauthorized = errors.New("vimeo: unauthorized")
	// ErrRateLimited: 429, or the client gave up waiting for the rate limit.
	ErrRateLimited = errors.New("vimeo: rate limited")
	// ErrPagePastEnd: the listing shrank while it was paged (400 with error code
	// 2286, or 404 on a page after the first). Restart the listing.
	ErrPagePastEnd = errors.New("vimeo: page past the end of the listing")
	// ErrServer: a 5xx answer from Vimeo or its CDN.
	ErrServer = errors.New("vimeo: server error")
	// ErrBadResponse: a body that is not the JSON we asked for (an HTML error
	// page, a truncated body, the wrong shape).
	ErrBadResponse = errors.New("vimeo: malformed response")
	// ErrCircuitOpen: the client's circuit breaker is open after repeated
	// upstream failures; no request was sent.
	ErrCircuitOpen = errors.New("vimeo: circuit breaker open")
	// ErrInvalidArgument: the caller passed something the client cannot use
	// (an empty token, a malformed id or URI). Nothing was sent.
	ErrInvalidArgument = errors.New("vimeo: invalid argument")
)

// Vimeo error codes the client gives meaning to.
const (
	CodePagePastEnd  = 2286 // "There isn't enough content to display the page you requested."
	CodeInvalidInput = 2204
	CodeRateLimited  = 9000
	CodeNotFound     = 5000
	CodeForbidden    = 3200
)

// InvalidParameter is one entry of an error body's invalid_parameters list.
type InvalidParameter struct {
	Field            string
	ErrorCode        int
	Message          string
	DeveloperMessage string
}

// APIError is a non-success answer from Vimeo (any status outside 2xx/304, or a
// 2xx whose body could not be decoded). Every field except StatusCode, Method and
// Path is optional: Vimeo sometimes sends only {"error": "..."}, and CDN error
// pages are HTML.
type APIError struct {
	StatusCode        int
	ErrorCode         int    // Vimeo's error_code (sent as a number or a string); 0 if absent
	Message           string // the "error" field, or a text excerpt of a non-JSON body
	DeveloperMessage  string
	Link              string
	InvalidParameters []InvalidParameter
	Method            string
	Path              string // the request path and query, without host
	Page              int    // the page requested (1 when the request had no page)
	RequestID         string // X-Request-Id (or the CDN's equivalent) when present
	NonJSON           bool   // the body was not JSON (e.g. an HTML page from the CDN)
	RetryAfter        time.Duration
	RateLimitReset    time.Time // X-RateLimit-Reset of the answer, if any
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vimeo: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.ErrorCode != 0 {
		fmt.Fprintf(&b, " (code %d)", e.ErrorCode)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if msg != "" {
		b.WriteString(" ")
		b.WriteString(msg)
	}
	if e.DeveloperMessage != "" && e.DeveloperMessage != e.Message {
		b.WriteString(": ")
		b.WriteString(e.DeveloperMessage)
	}
	if e.NonJSON {
		b.WriteString(" [non-JSON body]")
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and friends work on an *APIError.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrPagePastEnd:
		return (e.StatusCode == http.StatusBadRequest && e.ErrorCode == CodePagePastEnd) ||
			(e.StatusCode == http.StatusNotFound && e.Page > 1)
	case ErrServer:
		return e.StatusCode >= 500
	case ErrBadResponse:
		return e.NonJSON || (e.StatusCode >= 200 && e.StatusCode < 300)
	}
	return false
}

// Temporary reports whether retrying the same request later may succeed: 429,
// 5xx, and bodies that were not the JSON we asked for.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 ||
		(e.StatusCode >= 200 && e.StatusCode < 300)
}

type rawInvalidParameter struct {
	Field            string  `json:"field"`
	ErrorCode        flexInt `json:"error_code"`
	Error            string  `json:"error"`
	DeveloperMessage string  `json:"developer_message"`
}

type rawError struct {
	Error             string                `json:"error"`
	DeveloperMessage  string                `json:"developer_message"`
	ErrorCode         flexInt               `json:"error_code"`
	Link              *string               `json:"link"`
	InvalidParameters []rawInvalidParameter `json:"invalid_parameters"`
}

var (
	tagRE   = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// parseErrorBody fills the body-derived fields of e from an error response body.
// It never fails: anything that is not the documented JSON shape becomes a short
// text excerpt with NonJSON set.
func (e *APIError) parseBody(body []byte) {
	body = bytes.TrimPrefix(body, utf8BOM)
	trimmed := bytes.TrimSpace(body)
	var raw rawError
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &raw) == nil {
		e.Message = raw.Error
		e.DeveloperMessage = raw.DeveloperMessage
		e.ErrorCode = int(raw.ErrorCode)
		if raw.Link != nil {
			e.Link = *raw.Link
		}
		for _, p := range raw.InvalidParameters {
			e.InvalidParameters = append(e.InvalidParameters, InvalidParameter{
				Field: p.Field, ErrorCode: int(p.ErrorCode), Message: p.Error, DeveloperMessage: p.DeveloperMessage,
			})
		}
		return
	}
	if len(trimmed) == 0 {
		return
	}
	e.NonJSON = true
	text := tagRE.ReplaceAllString(string(trimmed), " ")
	text = strings.TrimSpace(spaceRE.ReplaceAllString(text, " "))
	e.Message = truncate(text, 200)
}

var utf8BOM = []byte("\xef\xbb\xbf")

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
