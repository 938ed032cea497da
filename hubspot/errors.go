package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Test with errors.Is: an *APIError matches the sentinels
// its status and category describe (see APIError.Is).
var (
	// ErrUnauthorized: 401 INVALID_AUTHENTICATION, the token is missing,
	// wrong, expired or revoked.
	ErrUnauthorized = errors.New("hubspot: unauthorized")
	// ErrForbidden: 403, a missing scope (MISSING_SCOPES) or an account tier
	// without the feature (visitor identification needs a Professional or
	// Enterprise hub).
	ErrForbidden = errors.New("hubspot: forbidden")
	// ErrMissingScopes: 403 MISSING_SCOPES (also ErrForbidden).
	ErrMissingScopes = errors.New("hubspot: missing scopes")
	// ErrValidation: 400 VALIDATION_ERROR, e.g. an invalid email or an
	// unknown contact property.
	ErrValidation = errors.New("hubspot: validation error")
	// ErrNotFound: 404 OBJECT_NOT_FOUND.
	ErrNotFound = errors.New("hubspot: not found")
	// ErrConflict: 409 CONFLICT.
	ErrConflict = errors.New("hubspot: conflict")
	// ErrRateLimited: 429, the ten-secondly or the daily limit.
	ErrRateLimited = errors.New("hubspot: rate limited")
	// ErrDailyLimit: 429 with policy DAILY (also ErrRateLimited); not
	// retried, the limit resets at midnight in the account's time zone.
	ErrDailyLimit = errors.New("hubspot: daily limit reached")
	// ErrServer: a 5xx answer.
	ErrServer = errors.New("hubspot: server error")
	// ErrBadResponse: a body that is not the JSON asked for.
	ErrBadResponse = errors.New("hubspot: malformed response")
	// ErrCircuitOpen: the breaker is open after repeated failures; nothing
	// was sent.
	ErrCircuitOpen = errors.New("hubspot: circuit breaker open")
	// ErrUnavailable: HubSpot could not be reached (a timeout, a refused or
	// broken connection).
	ErrUnavailable = errors.New("hubspot: unavailable")
	// ErrInvalidArgument: the caller passed something unusable; nothing was
	// sent.
	ErrInvalidArgument = errors.New("hubspot: invalid argument")
)

// HubSpot error categories the client gives meaning to.
const (
	CategoryInvalidAuthentication = "INVALID_AUTHENTICATION"
	CategoryMissingScopes         = "MISSING_SCOPES"
	CategoryValidation            = "VALIDATION_ERROR"
	CategoryNotFound              = "OBJECT_NOT_FOUND"
	CategoryConflict              = "CONFLICT"
	CategoryRateLimits            = "RATE_LIMITS"
	PolicyTenSecondly             = "TEN_SECONDLY_ROLLING"
	PolicyDaily                   = "DAILY"
)

// ErrorDetail is one entry of an error envelope's errors list.
type ErrorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	In      string              `json:"in,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

// APIError is a non-success answer from HubSpot, parsed from its error
// envelope ({"status":"error","message","correlationId","category",
// "subCategory","context","errors",…}; a 429 carries errorType and
// policyName instead of, or besides, category). Every field but
// StatusCode, Method and Path is optional.
type APIError struct {
	StatusCode    int
	Category      string // e.g. VALIDATION_ERROR; RATE_LIMITS on some 429s
	SubCategory   string
	ErrorType     string // RATE_LIMIT on 429s
	PolicyName    string // TEN_SECONDLY_ROLLING, DAILY, SECONDLY on 429s
	Message       string
	CorrelationID string
	Context       map[string][]string
	Errors        []ErrorDetail
	Method        string
	Path          string
	NonJSON       bool // the body was not the JSON envelope
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hubspot: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if k := e.kind(); k != "" {
		fmt.Fprintf(&b, " %s", k)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	for _, d := range e.Errors {
		if d.Code == "" && len(d.Context) == 0 {
			continue
		}
		parts := make([]string, 0, 1+len(d.Context))
		if d.Code != "" {
			parts = append(parts, d.Code)
		}
		keys := make([]string, 0, len(d.Context))
		for k := range d.Context {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, k+"="+strings.Join(d.Context[k], ","))
		}
		b.WriteString(" [" + strings.Join(parts, " ") + "]")
	}
	if e.NonJSON {
		b.WriteString(" [non-JSON body]")
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " (correlation %s)", e.CorrelationID)
	}
	return b.String()
}

func (e *APIError) kind() string {
	switch {
	case e.Category != "":
		return e.Category
	case e.PolicyName != "":
		return e.PolicyName
	}
	return e.ErrorType
}

// IsDaily reports a daily-limit 429.
func (e *APIError) IsDaily() bool {
	return e.StatusCode == http.StatusTooManyRequests && strings.EqualFold(e.PolicyName, PolicyDaily)
}

// Is makes errors.Is(err, ErrNotFound) and friends work on an *APIError.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrMissingScopes:
		return e.StatusCode == http.StatusForbidden && e.Category == CategoryMissingScopes
	case ErrValidation:
		return e.StatusCode == http.StatusBadRequest
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrDailyLimit:
		return e.IsDaily()
	case ErrServer:
		return e.StatusCode >= 500
	case ErrBadResponse:
		return e.NonJSON && e.StatusCode >= 200 && e.StatusCode < 300
	}
	return false
}

// Code is a short stable name of the error for clients and logs:
// "unauthorized", "forbidden", "validation", "not_found", "conflict",
// "rate_limited", "daily_limit", "server_error", "bad_response", "error".
func (e *APIError) Code() string {
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return "unauthorized"
	case e.StatusCode == http.StatusForbidden:
		return "forbidden"
	case e.StatusCode == http.StatusBadRequest:
		return "validation"
	case e.StatusCode == http.StatusNotFound:
		return "not_found"
	case e.StatusCode == http.StatusConflict:
		return "conflict"
	case e.IsDaily():
		return "daily_limit"
	case e.StatusCode == http.StatusTooManyRequests:
		return "rate_limited"
	case e.StatusCode >= 500:
		return "server_error"
	case e.NonJSON:
		return "bad_response"
	}
	return "error"
}

// envelope is HubSpot's error body, as every spec's Error schema and the
// 429 answers have it.
type envelope struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   json.RawMessage     `json:"subCategory"`
	ErrorType     string              `json:"errorType"`
	PolicyName    string              `json:"policyName"`
	Context       map[string][]string `json:"context"`
	Errors        []ErrorDetail       `json:"errors"`
}

// parseError reads an answer into an *APIError; a body that is not the
// envelope keeps a text excerpt as the message.
func parseError(status int, h http.Header, body []byte, method, path string) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path, CorrelationID: h.Get(HeaderCorrelationID)}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || (env.Message == "" && env.Category == "" && env.ErrorType == "") {
		e.NonJSON = err != nil
		e.Message = excerpt(body)
		return e
	}
	e.Message, e.Category, e.ErrorType, e.PolicyName = env.Message, env.Category, env.ErrorType, env.PolicyName
	e.Context, e.Errors = env.Context, env.Errors
	if len(env.SubCategory) > 0 {
		var s string
		if json.Unmarshal(env.SubCategory, &s) == nil {
			e.SubCategory = s
		} else {
			e.SubCategory = string(env.SubCategory)
		}
	}
	if env.CorrelationID != "" {
		e.CorrelationID = env.CorrelationID
	}
	return e
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// CircuitOpenError is returned while the breaker refuses requests.
type CircuitOpenError struct {
	Until        time.Time
	Method, Path string
}

func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("hubspot: %s %s: circuit breaker open until %s", e.Method, e.Path, e.Until.Format(time.RFC3339))
}

// Is matches ErrCircuitOpen and ErrUnavailable.
func (e *CircuitOpenError) Is(target error) bool {
	return target == ErrCircuitOpen || target == ErrUnavailable
}

// Code is "circuit_open".
func (e *CircuitOpenError) Code() string { return "circuit_open" }

// TransportError is an attempt that got no answer (a timeout, a refused or
// broken connection, a body cut short).
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("hubspot: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is matches ErrUnavailable.
func (e *TransportError) Is(target error) bool { return target == ErrUnavailable }

// Code is "timeout" for a deadline, else "unavailable".
func (e *TransportError) Code() string {
	if errors.Is(e.Err, context.DeadlineExceeded) || isTimeout(e.Err) {
		return "timeout"
	}
	return "unavailable"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// ArgumentError is a call refused before anything was sent (an invalid
// email, an empty user id).
type ArgumentError struct{ Msg string }

func (e *ArgumentError) Error() string { return "hubspot: invalid argument: " + e.Msg }

// Is matches ErrInvalidArgument.
func (e *ArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// Code is "invalid_argument".
func (e *ArgumentError) Code() string { return "invalid_argument" }

// RateLimitError is a call not sent because the rate limit bans requests
// (after a 429) for longer than the caller's context allows.
type RateLimitError struct {
	Until        time.Time
	Method, Path string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("hubspot: %s %s: rate limited until %s (not sent)", e.Method, e.Path, e.Until.Format(time.RFC3339))
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Code is "rate_limited".
func (e *RateLimitError) Code() string { return "rate_limited" }
