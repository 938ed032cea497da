package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/ops"
)

// ErrInvalid: bad configuration given to New.
var ErrInvalid = errors.New("api: invalid")

// errorBody is the JSON error shape of every vidlib API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

// lockedMessage explains a locked video to people; apps use lock_reason.
func lockedMessage(reason string) string {
	switch reason {
	case "sign_in":
		return "sign in to watch this video"
	case "upgrade":
		return "this video needs a higher plan; upgrade to watch it"
	case "purchase":
		return "this video must be purchased to watch it"
	}
	return "this video is locked"
}

// writeError answers {"error":{"code","message","details"}} with the status.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeErrorDetails(w, r, status, code, msg, nil)
}

// writeErrorDetails is writeError with details (the request id is added).
func writeErrorDetails(w http.ResponseWriter, r *http.Request, status int, code, msg string, details map[string]string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	b := errorBody{Error: errorDetail{Code: code, Message: msg, Details: details}}
	if id := ops.RequestIDFrom(r); id != "" {
		if b.Error.Details == nil {
			b.Error.Details = map[string]string{}
		}
		b.Error.Details["request_id"] = id
	}
	_ = json.NewEncoder(w).Encode(b)
}

// fail maps a library error to HTTP, in one place. Only 5xx are logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, library.ErrInvalid):
		writeError(w, r, http.StatusBadRequest, "invalid_argument", publicMessage(err))
	case errors.Is(err, library.ErrNotFound):
		writeError(w, r, http.StatusNotFound, "not_found", "no such object")
	case errors.Is(err, library.ErrLocked):
		reason := ""
		if le := (*library.LockedError)(nil); errors.As(err, &le) {
			reason = le.Reason
		}
		writeErrorDetails(w, r, http.StatusForbidden, "locked", lockedMessage(reason), map[string]string{"lock_reason": reason})
	case errors.Is(err, library.ErrNotReady):
		w.Header().Set("Retry-After", "1")
		writeError(w, r, http.StatusServiceUnavailable, "not_ready", "the library is loading; try again")
	case errors.Is(err, library.ErrUnavailable):
		w.Header().Set("Retry-After", "1")
		s.log.Error("request failed", zap.String("path", r.URL.Path), zap.String("request_id", ops.RequestIDFrom(r)), zap.Error(err))
		writeError(w, r, http.StatusServiceUnavailable, "unavailable", "temporarily unavailable; try again")
	default:
		s.log.Error("request failed", zap.String("path", r.URL.Path), zap.String("request_id", ops.RequestIDFrom(r)), zap.Error(err))
		writeError(w, r, http.StatusInternalServerError, "internal", "internal error")
	}
}

// publicMessage is the message of an ErrInvalid without the package prefix
// (it describes the caller's input, nothing internal).
func publicMessage(err error) string {
	m := err.Error()
	const p = "library: invalid: "
	if len(m) > len(p) && m[:len(p)] == p {
		return m[len(p):]
	}
	return "invalid request"
}
