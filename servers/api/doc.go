// Package api is vidlib's public read API over HTTP (chi): the calls the app
// makes to browse the library the signed-in user may see.
//
//	GET /library/home           visible top-level folders, root videos, rows
//	GET /folders/{id}           folder, breadcrumb, visible subfolders and videos (?cursor=&limit=)
//	GET /videos/{id}            video detail (access re-checked)
//	GET /videos/{id}/playback   player embed URL and iframe (access re-checked, audited if configured)
//	GET /videos/{id}/chat-context  HubSpot chat context (when the library has Options.Chat; see below)
//	GET /me                     user, roles, segments
//	GET /search                 entitled videos and folders matching ?q= (&folder=&cursor=&limit=),
//	                            ranked, with highlighted snippets (library.Service.Search)
//	GET /healthz, /readyz       liveness; readiness = a library snapshot is loaded
//	GET /openapi.json           the OpenAPI 3 document (OpenAPI), checked against the router in tests
//
// Every answer comes from a library.Service (in memory; Vimeo is never
// called). The user routes run behind an Authenticator (auth.Service:
// bearer token → auth.Principal → library.Viewer), then a per-user token
// bucket (429 with Retry-After). Errors have the vidlib shape
// {"error":{"code","message","details"}}, details carrying the request id;
// objects outside the user's entitlement are 404 exactly like missing ones;
// malformed ids, cursors and limits are 400. Each request gets an
// X-Request-Id (a sane incoming one is kept), a bounded context, and limits on
// URI and body size. Bodies are pre-encoded by the library: the ETag is
// precomputed (If-None-Match → 304) and gzip is made once per cached body and
// sent when the client accepts it and the body is at least
// Options.GzipMinBytes.
//
// # Chat context
//
// NewChat assembles the HubSpot side of library.ChatOptions from a
// ChatConfig: one hubspot.Client for the credential, hubspot.Tokens over a
// TokenStore (RedisTokenStore: tokens and the minting lock shared by every
// instance; nil: this process only), the records (ChatRecords over a store
// that keeps hubspot_context) and, optionally, the contact-property updater
// that Chat.Run runs. The chat context is never cached (no-store): it
// carries a token.
//
// # Public content and teasers
//
// Once a rule names the public subject (library.Service.PublicEnabled), a
// request to the four browsing routes above without an Authorization header
// is answered for the anonymous audience: public content only, everything
// else 404 like for a signed-in user without access, no personal rows or
// resume positions, no playback session. Those answers are the same for
// every visitor and carry Cache-Control "public, no-cache" (user answers are
// "private, no-cache"); anonymous visitors are rate limited like users, each
// client address on its own bucket (Options.TrustForwardedFor takes it from
// the last X-Forwarded-For entry behind one trusted proxy). A request with a
// token is never anonymous: a bad token is 401. Without a public rule,
// anonymous requests are 401 as before, and the other routes always need a
// token. Videos a teaser rule locks are listed and have a detail with
// "locked": true and a "lock_reason"; their playback is 403 with code
// "locked" and details.lock_reason (sign_in, upgrade or purchase).
//
// # Analytics
//
// With Options.Analytics (a Publisher and session Tokens) the playback
// answer also carries a playback session (id, HMAC-signed token bound to
// user, video, session and expiry) and the resume position, and
//
//	POST   /analytics/events                  a batch of ≤ 500 playback events → 202 with per-event results
//	GET    /me/continue-watching              videos in progress, newest first (?limit=)
//	DELETE /me/continue-watching/{video_id}   hide until played again (204)
//	GET    /me/history                        videos by last played, paged (?cursor=&limit=)
//
// are served (the last three, and resume positions, with a ProgressStore).
// Each event is checked (known type, token of this user, video and session,
// video visible now, occurred-at within ClockSkew and MaxAge, position within
// the duration plus PositionSlack); rejected events get a reason code and are
// never published. The accepted ones are published as one analytics.batch
// envelope keyed by user, and acknowledged by the bus, before the 202: a
// publish failure is a 503 and the client retries the same batch (event ids
// make that safe). A malformed body is 400, more than MaxBatch events or
// MaxBodyBytes 413, over the per-user event rate 429. Continue watching,
// history, resume positions and the home's continue_watching row are
// filtered against the current snapshot and entitlements when served.
//
// Continue watching, the home's row and resume positions are all made of
// one read, the user's unfinished videos (ProgressStore.Unfinished, up to
// 200). With AnalyticsOptions.ProgressVersions (store/redisstore) each
// instance keeps that read per user, bounded by ProgressCacheRows, and
// serves it while the user's progress version in Redis is unchanged: a
// request costs one Redis round trip, not a PostgreSQL query. The analytics
// consumer bumps a user's version after it stores the user's events, and a
// dismissal bumps it before its 204 (a failed bump is a 503: the dismissal
// is stored, the retry is safe), so every instance answers with the stored
// state at the next request. While Redis cannot be read, requests read the
// store and the copies are forgotten. History pages always read the store.
//
// # Ranked feed
//
//	GET    /feed                              the user's ranked feed with a reason per video, paged (?cursor=&limit=)
//
// and the home's ranked_for_you row serve the feed the ranking pipeline
// stored (library.Options.Feeds: Redis with PostgreSQL behind it), filtered
// against the current snapshot and entitlements; nothing is ranked on the
// request. With library.Options.FeedChanges (RedisFeedChanges: the
// announcements redisstore makes when a feed is written) each instance keeps
// the feeds it served in process and reads a user's feed again when it is
// announced.
//
// New builds a Server without I/O; Handler serves it. The listener is an
// ops.HTTPServer, the one every vidlib server uses (its timeouts, header
// limit, request ids, access log, metrics and tracing): Module (fx) runs one
// on Options.Addr, and servers/compose runs the deployed one on the --api-addr
// with the --http-* limits. LibraryModule provides and runs the
// library.Service. RedisVersions, RedisFeedChanges and RedisCache adapt
// store/redisstore to the library's Versions, FeedChanges and Cache
// interfaces.
//
// A Server is safe for concurrent use.
package api
