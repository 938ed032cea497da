// Package hubspot is the client of the HubSpot API that vidlib's chat
// context needs: visitor identification tokens for the chat widget, and
// contact properties that tell agents what a contact last watched.
//
// # Client
//
// A Client holds one credential (a private app token or a service key,
// sent as a bearer token) and is built on the shared provider layer like
// the Vimeo client: one retry layer (go-retryablehttp), a token bucket
// (x/time/rate) and a circuit breaker (gobreaker). The bucket is sized to
// the account's published burst limit (Options.BurstPer10s, default 100 per
// 10 s) and never sends more than that in any 10 s on its own; each
// answer's X-HubSpot-RateLimit-Max/-Remaining headers then bound it by
// what HubSpot counted for the app (every instance of the app shares one
// limit). A ten-secondly 429 makes every caller wait a jittered interval
// (or Retry-After, if HubSpot ever sends one) and is retried a few times;
// a daily 429 is not retried. 5xx answers, timeouts, broken connections
// and garbled bodies are retried with a jittered exponential backoff and
// count toward the breaker, which then fails calls at once
// (ErrCircuitOpen) until its cool-down lets one probe through.
//
// Errors: HubSpot's error envelope ({"status":"error","message",
// "category","correlationId","errors":[…]}, and the errorType/policyName
// of 429s) becomes an *APIError that matches the sentinels (ErrUnauthorized,
// ErrForbidden, ErrMissingScopes, ErrValidation, ErrNotFound, ErrConflict,
// ErrRateLimited, ErrDailyLimit, ErrServer, ErrBadResponse) with
// errors.Is; *CircuitOpenError and *TransportError match ErrUnavailable,
// *RateLimitError (not sent: a 429 ban outlasts the caller's deadline)
// ErrRateLimited, *ArgumentError ErrInvalidArgument. Each has a Code, a
// short stable name for clients. A caller with a deadline is never kept
// waiting past it for a ban it cannot outwait.
//
// # Identification tokens
//
// CreateVisitorToken mints a token (12 h lifetime, new on every call).
// Tokens hands them out per user: an in-process copy, else a TokenStore
// shared by every instance (Redis in production), else a minting, one at
// a time per user in the process (singleflight) and across instances (the
// store's lock). A token is used until RefreshBefore its expiry. A
// minting runs apart from the request that asked for it, bounded by
// MintTimeout, so a caller with a tight deadline gives up without
// cancelling it; a failed minting is remembered for FailureTTL, so an
// outage costs one call per user per FailureTTL.
//
// Because a token is reused across videos, per-video context does not go
// into its hsCustomerAgentContext (TokensOptions.AgentContext carries only
// what holds for the user); it travels in the page URL, which chatflow
// targeting reads, and, optionally, in contact properties.
//
// # Contact properties
//
// ContactUpdater writes the vidlib_last_* properties asynchronously and
// debounced (one batch upsert per contact per Debounce, carrying the last
// values), best effort: agents see them in the contact sidebar.
// EnsureContactProperties creates the property definitions once.
//
// Everything here is safe for concurrent use. Package hubspottest is a
// fake HubSpot API for tests and the demo.
package hubspot
