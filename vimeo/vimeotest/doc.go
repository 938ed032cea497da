// Package vimeotest is a faithful fake of the Vimeo API for tests, demos and load
// tests. What the real service is recorded to do (vimeo/testdata/recordings holds
// real responses) it does, and what is unknown it makes configurable.
//
// # Account
//
// An Account holds one user's folders and videos. Its Go API changes it the way
// Vimeo does: CreateFolder (the parent's modified_time becomes the child's
// creation time), CreateVideo, RenameFolder, RenameVideo, MoveVideo (the video's
// modified_time and last_user_action_event_date bump), MoveFolder (the uri stays,
// ancestor_path and parent_folder change, the new parent's modified_time bumps),
// DeleteFolder with or without its clips, SetPrivacy (unlisted videos gain the
// hash in uri and link), SetTranscode (duration and pictures appear when done)
// and Revoke (the token loses a subtree: 403 below it). Folders nest at most
// MaxDepth (10) levels. Generate builds realistic accounts from a seed: deep
// chains, folders with more than 100 items, unicode and duplicate names,
// unlisted, private and transcoding videos, timestamps with non-UTC offsets.
// Snapshot and MinWalkCalls are the ground truth tests compare a walk against.
//
// # Server
//
// Server is an http.Handler over an Account: Start runs it on httptest for a
// test; NewServer gives the handler for any listener (the demo, load tests). It
// serves /me and /users/{uid} (and /me/... aliases; bodies always say
// /users/{uid}, paging links keep the requested form), the flat folder lists
// (/projects, /folders), /folders/root, folders, /items with filter, sort and
// direction (default: folders first, newest first), folder videos with
// include_subfolders, /videos/{id} and /videos/{id}:{hash}, and /users/{uid}/videos
// with modified_time sorting, containing_uri, If-Modified-Since → 304 and
// Last-Modified. fields= filters with dot paths, through arrays and envelopes.
// Pages are cut at request time from the current state, so concurrent changes
// shift items between pages as on Vimeo; the envelope, links, per_page rules and
// the 400/2286 page past the end follow the recordings. Mutation routes (POST,
// PATCH, DELETE projects; PUT/DELETE of videos in folders) and the App Webhooks
// routes exist too.
//
// # Rate limits, errors and chaos
//
// With Options.RateLimit set, every answer carries X-RateLimit-Limit, -Remaining
// and -Reset (ISO-8601, or epoch), the limit doubles for requests with fields=,
// and exceeding it bans the token with 429/9000 until the window ends (or for
// BanDuration, or an hour in LegacyBan mode), optionally with Retry-After or
// without any rate headers. Error bodies have the real shape (or only "error" in
// MinimalErrors mode). Random 5xx (some as CDN HTML pages), dropped connections
// and latency are switched on by rate; Fault scripts the Nth request to a route to
// fail, or runs a mutation just before it is served. Random choices come from a
// seeded generator, so a failing run can be replayed.
//
// # Webhooks
//
// Registered App Webhooks receive video events (there are no folder events)
// signed with HMAC-SHA256 in a configurable header and encoding. FlushWebhooks
// delivers what is queued, with configurable drops, duplicates and reordering,
// and disables a webhook after DisableAfter consecutive failures.
//
// # Time
//
// Everything uses a Clock. VirtualClock moves only when someone sleeps, so
// rate-limit waits and bans cost nothing in a test; ScaledClock runs a fixed
// factor faster than real time, for measurements. The same value can drive the
// vimeo client, whose Clock has the same methods.
//
// # Concurrency
//
// Account and Server are safe for concurrent use. A request reads the account
// under its lock; a Fault's Before hook runs outside it.
package vimeotest
