package ops

import (
	"encoding/json"
	"net/http"
	"strings"
)

// JSONErrors answers the plain-text 404 and 405 of http.ServeMux (and of
// http.NotFound, http.Error) as the JSON error of every vidlib API:
//
//	{"error":{"code":"not_found","message":"no such route"}}
//
// keeping the status and the Allow header. Answers a handler wrote as
// anything but text/plain pass untouched. NewHTTPServer puts it around every
// server's handler.
func JSONErrors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&jsonErrorWriter{ResponseWriter: w}, r)
	})
}

type jsonErrorWriter struct {
	http.ResponseWriter
	wroteHeader bool
	swallow     bool // a JSON body replaced the handler's text
}

func (w *jsonErrorWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	h := w.Header()
	ct := h.Get("Content-Type")
	if (status != http.StatusNotFound && status != http.StatusMethodNotAllowed) ||
		(ct != "" && !strings.HasPrefix(ct, "text/plain")) {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = "not_found", "no such route"
	if status == http.StatusMethodNotAllowed {
		body.Error.Code, body.Error.Message = "method_not_allowed", "method not allowed"
	}
	b, _ := json.Marshal(body)
	w.swallow = true
	h.Del("Content-Length")
	h.Del("X-Content-Type-Options")
	h.Set("Content-Type", "application/json")
	w.ResponseWriter.WriteHeader(status)
	_, _ = w.ResponseWriter.Write(append(b, '\n'))
}

func (w *jsonErrorWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(p), nil // the handler's text, replaced
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (Flush, deadlines).
func (w *jsonErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher for handlers that assert it.
func (w *jsonErrorWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
