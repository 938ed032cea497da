package events

import (
	"context"
	"time"
)

// IdempotentRequest is a request made with an Idempotency-Key: the first
// answer is kept so that a repeat gets it again and changes nothing.
type IdempotentRequest struct {
	Key         string    // the client's key, scoped by the caller (e.g. "<actor>:<key>")
	Fingerprint string    // what the request was (method, path, body hash): a reuse for another request is a conflict
	Done        bool      // the answer is recorded (false: the first request is still running)
	Status      int       // the HTTP status of the first answer
	Body        []byte    // the first answer's body
	CreatedAt   time.Time // when the key was first claimed
}

// IdempotencyTTL is how long a key is remembered: a key older than this is
// new again (and stores forget it).
const IdempotencyTTL = 24 * time.Hour

// IdempotencyStore keeps idempotency keys (the admin_idempotency table).
type IdempotencyStore interface {
	// ClaimIdempotency records a new key, or returns the request that holds it
	// (claimed false): done with its answer, or still running. A key older
	// than IdempotencyTTL is claimed anew.
	ClaimIdempotency(ctx context.Context, key, fingerprint string) (prior IdempotentRequest, claimed bool, err error)
	// CompleteIdempotency stores the answer of a claimed key.
	CompleteIdempotency(ctx context.Context, key string, status int, body []byte) error
	// ReleaseIdempotency forgets a claimed key whose request failed, so that
	// the client may try again with it.
	ReleaseIdempotency(ctx context.Context, key string) error
}
