package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/servers/ops"
)

// IdempotencyKeyHeader names a POST or DELETE so that a repeat returns the
// first answer and does nothing again.
const IdempotencyKeyHeader = "Idempotency-Key"

// idempotent serves a request with an Idempotency-Key once per admin and
// key: the first answer (any status below 500) is stored and replayed to
// repeats with Idempotent-Replayed: true. A key reused for a different
// request is 422; a repeat while the first is still running 409. A 5xx
// answer is not kept, so the client may retry with the same key.
func (a *API) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(IdempotencyKeyHeader)
		if key == "" || (r.Method != http.MethodPost && r.Method != http.MethodDelete && r.Method != http.MethodPut) {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 || !printableASCII(key) {
			writeError(w, r, http.StatusBadRequest, "invalid_argument", "Idempotency-Key: at most 255 printable ASCII characters", map[string]string{"field": IdempotencyKeyHeader})
			return
		}
		actor, _ := ActorFrom(r.Context())
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "request body too large", nil)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		fp := r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + " " + hex.EncodeToString(sum[:])
		scoped := actor.ID + ":" + key
		prior, claimed, err := a.svc.store.ClaimIdempotency(r.Context(), scoped, fp)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if !claimed {
			switch {
			case prior.Fingerprint != fp:
				writeError(w, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different request", map[string]string{"field": IdempotencyKeyHeader})
			case !prior.Done:
				w.Header().Set("Retry-After", "1")
				writeError(w, r, http.StatusConflict, "in_progress", "a request with this Idempotency-Key is still running", nil)
			default:
				h := w.Header()
				h.Set("Content-Type", "application/json")
				h.Set("Cache-Control", "no-store")
				h.Set("Idempotent-Replayed", "true")
				h.Set("Content-Length", strconv.Itoa(len(prior.Body)))
				w.WriteHeader(prior.Status)
				_, _ = w.Write(prior.Body)
			}
			return
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		ctx := context.WithoutCancel(r.Context())
		if rec.status >= 500 {
			if err := a.svc.store.ReleaseIdempotency(ctx, scoped); err != nil {
				a.log.Warn("idempotency key not released", zap.Error(err))
			}
			return
		}
		if err := a.svc.store.CompleteIdempotency(ctx, scoped, rec.status, rec.body.Bytes()); err != nil {
			a.log.Error("idempotent answer not stored", zap.String("request_id", ops.RequestIDFrom(r)), zap.Error(err))
		}
	})
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// recorder copies what a handler writes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
