// Package provider is the HTTP layer shared by the clients of the outside
// APIs we call (Vimeo now, HubSpot next). It knows nothing of any one
// provider: a client brings its retry policy as a function, its rate
// limiter and its clock, and gets one retry layer on go-retryablehttp.
//
// Every attempt, the first and each retry, goes through the same steps in
// the transport under go-retryablehttp: the circuit breaker, the caller's
// budget, the rate limiter, the count (Call.OnAttempt), the HTTP exchange
// bounded by Options.AttemptTimeout with its body read whole, and the
// limiter told the answer. go-retryablehttp's CheckRetry hook asks the
// call's Policy what the attempt means (success, a retry after some wait,
// or a final error) and reports the upstream's health to the breaker; its
// PrepareRetry hook sleeps the wait on the client's Clock, so tests can
// compress time, and its Backoff hook adds nothing. No other layer retries.
//
// Helpers for policies: RetryAfter reads a Retry-After header, Jitter
// spreads a backoff.
//
// A Client and a Breaker are safe for concurrent use.
package provider
