package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/tree"
)

// Errors of the Service. Collaborators' errors are mapped to HTTP with them,
// in fail.
var (
	ErrInvalid     = errors.New("admin: invalid")
	ErrNotFound    = errors.New("admin: not found")
	ErrConflict    = errors.New("admin: conflict")
	ErrUnavailable = errors.New("admin: unavailable") // a feature not configured in this process
	ErrForbidden   = errors.New("admin: forbidden")
)

// FieldError is bad input, naming the field. It wraps ErrInvalid.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return fmt.Sprintf("admin: invalid: %s: %s", e.Field, e.Message) }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func unavailable(what string) error {
	return fmt.Errorf("%w: %s is not configured in this process", ErrUnavailable, what)
}

// errorBody is the JSON error shape of every vidlib API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

// writeError answers {"error":{"code","message","details"}} with the status.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string, details map[string]string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if id := ops.RequestIDFrom(r); id != "" {
		if details == nil {
			details = map[string]string{}
		}
		details["request_id"] = id
	}
	_ = json.NewEncoder(w).Encode(errorBody{Error: errorDetail{Code: code, Message: msg, Details: details}})
}

// StatusOf maps an error of the Service (its own sentinels and its
// collaborators') to an HTTP status and error code, in one place: the JSON
// API and the console both answer with it.
func StatusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalid), errors.Is(err, events.ErrInvalid), errors.Is(err, entitle.ErrInvalid),
		errors.Is(err, tree.ErrInvalid), errors.Is(err, library.ErrInvalid), errors.Is(err, auth.ErrInvalid):
		return http.StatusBadRequest, "invalid_argument"
	case errors.Is(err, ErrNotFound), errors.Is(err, events.ErrNotFound), errors.Is(err, entitle.ErrNotFound),
		errors.Is(err, tree.ErrNotFound), errors.Is(err, library.ErrNotFound), errors.Is(err, auth.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrConflict), errors.Is(err, events.ErrConflict), errors.Is(err, tree.ErrConflict),
		errors.Is(err, entitle.ErrDuplicate), errors.Is(err, auth.ErrDuplicate):
		return http.StatusConflict, "conflict"
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, ErrUnavailable), errors.Is(err, library.ErrNotReady):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

// fail answers err. Bad input names the field in details.field; only 5xx
// are logged.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	st, code := StatusOf(err)
	var details map[string]string
	var msg string
	switch st {
	case http.StatusBadRequest:
		msg, details = invalidMessage(err)
	case http.StatusNotFound:
		msg = "no such object"
	case http.StatusConflict:
		msg = err.Error()
	case http.StatusForbidden:
		msg = "forbidden"
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
		msg = err.Error()
		a.log.Warn("request unavailable", zap.String("path", r.URL.Path), zap.String("request_id", ops.RequestIDFrom(r)), zap.Error(err))
	default:
		msg = "internal error"
		a.log.Error("request failed", zap.String("path", r.URL.Path), zap.String("request_id", ops.RequestIDFrom(r)), zap.Error(err))
	}
	writeError(w, r, st, code, msg, details)
}

// invalidMessage describes bad input: the field (FieldError, or the first
// problem of an events.ValidationError) and what is wrong with it.
func invalidMessage(err error) (string, map[string]string) {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field + ": " + fe.Message, map[string]string{"field": fe.Field}
	}
	var ve *events.ValidationError
	if errors.As(err, &ve) && len(ve.Problems) > 0 {
		p := ve.Problems[0]
		return p.Field + ": " + p.Message, map[string]string{"field": p.Field}
	}
	return err.Error(), nil
}
