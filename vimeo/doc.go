// Package vimeo is vidlib's client for the Vimeo REST API (v3.4): the one place
// that talks to Vimeo. It reads users, folders ("projects") and videos, walks a
// folder tree, polls for recent changes and verifies App Webhook deliveries. It
// imports nothing else of vidlib; tree/vimeosource maps its results into the
// tree model.
//
// # Requests
//
// New returns a Client for one token. Every request carries the bearer token, the
// version header (Accept: application/vnd.vimeo.*+json;version=3.4), a
// descriptive User-Agent and a fields= list (Vimeo grants a higher rate limit to
// requests that use it); collections are read with per_page=100 by following
// paging.next, with fields and per_page put back should a link drop them. Absolute
// paging links to another host are refused, so the token never leaves the API
// host.
//
// Parsing tolerates what Vimeo is known to send: a UTF-8 byte-order mark,
// /videos/{id}:{hash} URIs, the unlisted hash found only in link or in the h=
// of player_embed_url, timestamps with offsets other than UTC, the parent of a
// video under parent_folder or parent_project (and under neither inside /items),
// error_code as a number or a string, error bodies reduced to {"error": ...},
// and HTML error pages from the CDN. /items envelopes of unknown types are kept
// without payload so that they still count toward the listing's total.
//
// # Rate limits, retries and the circuit breaker
//
// A RateLimiter per credential (share it between Clients of one token) is
// provider.RateLimiter: a golang.org/x/time/rate token bucket, driven by the
// Clock, seeded and corrected by X-RateLimit-Limit/Remaining/Reset (ISO-8601
// or epoch): a request goes out only when the bucket has a token and the last
// reported Remaining, less the requests still in flight, is positive; otherwise
// it waits for the refill or for the reset. A 429 holds every caller until
// Retry-After (if sent), else the reset, else an exponential backoff, plus jitter.
// 5xx answers, timeouts, broken connections and bodies that are not JSON are
// retried with jittered exponential backoff; other 4xx are returned at once. After
// BreakerOptions.Threshold consecutive upstream failures the circuit opens: calls
// fail fast with ErrCircuitOpen until the cool-down ends and one probe is let
// through (half-open). A Walk sits out an open circuit instead of failing. The
// retries are package provider's (go-retryablehttp, the only retry layer): every
// attempt, retries of broken connections included, passes the breaker and the
// rate limiter and is counted; the policy above is this package's function that
// provider calls after each attempt. Every wait goes through the Clock,
// so tests compress time (vimeotest.NewVirtualClock, vimeotest.NewScaledClock).
// RateLimiterOptions.OnWait reports how long each request waited for the
// budget (the servers feed it to a metric); Client.Stats counts requests, 429s,
// retries and errors.
//
// # Walk and Recent
//
// Walk lists a folder tree breadth-first over /items with bounded concurrency.
// Each folder and video takes its parent and position from the listing that
// contained it; the root comes first with no parent. Because offset pagination is
// not snapshot-consistent, a listing whose collected count differs from its
// total, whose total moved between pages, or that hit a page past the end is
// listed again; then closing rounds compare the tree with the flat folder list
// (membership, parents, names, item totals) and with the videos modified since
// the walk began, and re-list whatever disagrees. The WalkResult says whether the
// walk is Complete (every folder listed; 403/404 below the root become Failures,
// not errors) and Consistent (no unresolved sign of change), and what it cost.
// Only a complete and consistent result may drive deletions. CallsPerMinute caps a
// walk below the rate limit so that the Recent poll sharing the token is not
// starved.
//
// Recent polls /users/{uid}/videos?sort=modified_time&direction=desc with
// If-Modified-Since and stops at the watermark; optionally it does the same for
// the folder list. HTTP dates have one-second resolution: a change made in the
// same second as the previous answer's Last-Modified may be hidden behind a 304
// until something else changes, which is one reason the periodic Walk exists.
//
// # Webhooks
//
// WebhookVerifier checks App Webhook deliveries: HMAC-SHA256 of the raw body with
// the webhook secret, compared in constant time, in a header whose name and
// encoding are configurable (Vimeo has not published them), then the
// {webhook_type, data, timestamp} payload with stale timestamps rejected. Treat a
// verified event as a hint to re-fetch the video, never as its new state.
//
// # Errors
//
// Non-success answers are *APIError (status, error_code, messages, method, path,
// request id) and match the sentinels with errors.Is: ErrNotFound, ErrForbidden,
// ErrUnauthorized, ErrRateLimited, ErrPagePastEnd (400/2286, or 404 on a page
// after the first), ErrServer, ErrBadResponse. Client-side refusals wrap
// ErrInvalidArgument or ErrCircuitOpen; webhook checks return ErrWebhookSignature,
// ErrWebhookStale or ErrWebhookPayload.
//
// # Concurrency
//
// A Client, a RateLimiter and a WebhookVerifier are safe for concurrent use. A
// Walk runs Concurrency folder listings at once and returns only when they have
// all finished; cancelling ctx stops it.
package vimeo
