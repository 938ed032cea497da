// Package admin is vidlib's admin service: the operators' view of sync
// health, webhook receipts, dead letters, drift, cache state, consumer lag
// and the audit log, and their actions (replay, ignore, annotate, reconcile,
// approve or reject a held reconciliation, invalidate caches, hide a video,
// manage rules, roles and users), each audited.
//
// # Layers
//
// Service holds the logic as typed Go methods; the JSON API (API, under
// /admin/) and the web console (servers/admin/console) both call it.
//
// Views (no side effects):
//
//	Overview(ctx) (Overview, error)                      last run, open dead letters, held runs, instances, lag
//	SyncRuns(ctx, SyncRunQuery) (Page[SyncRun], error)   trigger, status, time range; counts, API calls, duration
//	SyncRun(ctx, id) (SyncRun, error)                    + its recorded changes and held deletions in words
//	ProviderEvents(ctx, ProviderEventQuery) (Page[ProviderEvent], error) / ProviderEvent(ctx, id)
//	DeadLetters(ctx, DeadLetterQuery) (Page[DeadLetter], error)
//	DeadLetter(ctx, id) (DeadLetter, error)              + payload and history (failures, admin actions)
//	Videos(ctx, VideoQuery) (Page[Video], error)         deleted, unavailable or hidden videos
//	Instances(ctx) ([]Instance, error)                   each API instance's versions, load time, cache stats
//	ConsumerLag(ctx) ([]Lag, error)                      per consumer group and topic
//	Audit(ctx, audit.Query) (audit.Page, error)          over Options.Audit (an audit.Searcher)
//	Drift(ctx) (Drift, error)                            the last reconciliation's changes in words, and the
//	                                                     videos Vimeo privacy keeps out of the library, with why
//	Explain(ctx, ExplainRequest) (Explanation, error)    user, audience or anonymous visitor × video / folder /
//	                                                     per-section summary; names the teaser that locked a video
//	Rules(ctx) (RuleSet, error), RoleList(ctx), PreviewRule(ctx, RuleChange) (Preview, error)
//	IsAdmin(*auth.Principal) bool
//
// Actions take the Actor (ActorOf a principal) and write one audit record
// each: actor, action, object, outcome (ok, denied, error), request id.
//
//	ReplayDeadLetter(ctx, a, id), ReplayEvent(ctx, a, eventID)
//	IgnoreDeadLetter(ctx, a, id, note), AnnotateDeadLetter(ctx, a, id, note)
//	Reconcile(ctx, a, ReconcileRequest)                  root, a folder subtree or a video; wait or background
//	DecideHeld(ctx, a, runID, approve, note)             approve (re-run allowing the deletions) or reject
//	DryRun(ctx, a) (Drift, error)                        compare with Vimeo now, apply nothing
//	InvalidateCache(ctx, a, Scope)                       all, a folder subtree or a video, on every API instance
//	SetVideoHidden(ctx, a, videoID, hidden)
//	AddRule(ctx, a, Rule), RemoveRule(ctx, a, id)        subjects public, everyone, role, segment, user; effects
//	                                                     allow, deny, teaser (with lock_reason)
//	PutRole(ctx, a, auth.Role), GrantRole / RevokeRole(ctx, a, userID, role), SetUserDisabled(ctx, a, userID, disabled)
//
// Collaborators that a process may not have (a mirror, the loaded library, a
// publisher, an audit store, a lag reader) are optional Options fields;
// without one its feature answers ErrUnavailable (503). Without a Mirror
// (the sync worker runs in another process) but with a Publisher,
// reconciliations and held decisions are sent to the sync worker as commands
// (syncworker.EventSyncCommand on vimeo.sync.normalized; see
// servers/syncworker) and answered 202 with the command id
// (ReconcileResult.Queued and CommandID, SyncRun.CommandID); the sync worker
// carries them out and audits them as the admin's. A dry run without a
// Mirror walks Options.Source (vidlib admin builds one when the Vimeo token
// and root folder id are set). The tree, entitlement
// and held-run logic lives in tree (Mirror.ReconcileFolder, DryRun,
// ApproveHeld, RejectHeld, Describe) and entitle (ExplainDetail, Summary,
// WhoCanSee, Preview); this package composes and audits it.
//
// # Routes
//
// Every route is under /admin and needs an admin. Lists take limit (1…1000,
// default 50) and a cursor (before, or after for videos) from the previous
// page's "next"; times are RFC 3339.
//
//	GET    /admin/whoami, /admin/overview
//	GET    /admin/sync-runs?status=&trigger=&from=&to=&before=&limit=
//	GET    /admin/sync-runs/{id}
//	POST   /admin/sync-runs/{id}/approve, /admin/sync-runs/{id}/reject   {"note"}
//	GET    /admin/provider-events?status=&provider=&type=&q=&from=&to=&before=&limit=
//	GET    /admin/provider-events/{id}
//	GET    /admin/dead-letters?status=&topic=&event_id=&q=&from=&to=&before=&limit=
//	GET    /admin/dead-letters/{id}
//	POST   /admin/dead-letters/{id}/replay, /ignore {"note"}, /note {"note"}
//	POST   /admin/replay/{event_id}
//	POST   /admin/reconcile/root, /admin/reconcile/folders/{id}, /admin/reconcile/videos/{id}   {"wait"}
//	POST   /admin/cache/invalidate   {"scope":"all"|"folder"|"video","id"}
//	GET    /admin/cache/instances
//	GET    /admin/videos?state=deleted|unavailable|hidden&q=&after=&limit=
//	POST   /admin/videos/{id}/hide, /admin/videos/{id}/show
//	GET    /admin/drift;  POST /admin/drift/dry-run
//	GET    /admin/lag
//	GET    /admin/audit?actor=&actor_kind=&action=&object_kind=&object_id=&from=&to=&before=&limit=
//	GET    /admin/explain?user_id=&role=&segment=k=v&video_id=&folder_id=
//	GET    /admin/rules;  POST /admin/rules;  POST /admin/rules/preview;  DELETE /admin/rules/{id}
//	GET    /admin/roles;  POST /admin/roles
//	POST   /admin/users/{id}/roles {"role"};  DELETE /admin/users/{id}/roles/{role}
//	POST   /admin/users/{id}/disable, /admin/users/{id}/enable
//
// Text search (q) matches words as prefixes of words (PostgreSQL full text
// with the 'simple' configuration; memstore the same rule).
//
// # Authorisation
//
// Anonymous or a rejected token: 401; a signed-in non-admin: 403, saying
// nothing about content (audited). An admin is a user with the admin role
// (Options.AdminRole: a Cognito group mapped to it, or a granted role) or any
// user of Options.AdminIssuers. Service.IsAdmin is the same check for the
// console.
//
// # Idempotency
//
// POST and DELETE accept Idempotency-Key: per admin and key, the first
// answer below 500 is stored (the admin_idempotency table, 24 hours) and
// replayed to repeats with Idempotent-Replayed: true; the action is not done
// again. A key reused for another request is 422; a repeat while the first
// runs 409.
//
// # Cache invalidation
//
// InvalidateCache sends an Invalidation on a CacheBus (RedisCache across
// processes, LocalCache within one) that every API instance's Agent applies
// to its library.Service (InvalidateFolder, InvalidateVideo, InvalidateAll,
// which also drop the shared Redis page cache entries). Agents report their
// versions, load time and cache stats on the same bus with a TTL:
// Service.Instances.
//
// # Errors and concurrency
//
// ErrInvalid (400, details.field names the field), ErrNotFound (404),
// ErrConflict (409: e.g. replaying a letter that is not open, deciding a run
// that is not pending), ErrUnavailable (503), and the collaborators'
// sentinels are mapped to HTTP in one place (errors.go), with the JSON error
// shape of every vidlib API: {"error":{"code","message","details"}}. Service,
// API and Agent are safe for concurrent use.
package admin
