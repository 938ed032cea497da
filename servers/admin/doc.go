// Package admin is vidlib's admin service: the operators' view of sync
// health, webhook receipts, dead letters, drift, cache state, consumer lag
// and the audit log, and their actions (replay, ignore, annotate, reconcile,
// approve or reject a held reconciliation, invalidate caches, hide a video,
// manage rules, roles and users), each audited.
//
// # Layers
//
// Service holds the logic as typed Go methods; the JSON API (API, under
// /admin/) and the web console both call it. Read methods:
//
//	Overview, SyncRuns, SyncRun, ProviderEvents, ProviderEvent, DeadLetters,
//	DeadLetter (payload + history), Videos (deleted / unavailable / hidden),
//	Instances (cache state per API instance), ConsumerLag, Audit, Drift,
//	Explain, Rules, PreviewRule, RoleList
//
// Actions take the Actor (ActorOf a principal) and write one audit record
// each (actor, action, object, outcome, request id):
//
//	ReplayDeadLetter, ReplayEvent, IgnoreDeadLetter, AnnotateDeadLetter,
//	Reconcile (root, folder, video), DecideHeld, InvalidateCache,
//	SetVideoHidden, DryRun, AddRule, RemoveRule, PutRole, GrantRole,
//	RevokeRole, SetUserDisabled
//
// Collaborators that a process may not have (a mirror, a Vimeo source, the
// loaded library, a publisher, an audit store, a lag reader) are optional
// Options fields; without one its feature answers ErrUnavailable (503).
//
// # Authorisation
//
// Every /admin/ route needs a bearer token of an admin: a user with the
// admin role (Options.AdminRole, a Cognito group mapped to it or a granted
// role) or any user of Options.AdminIssuers. Anonymous: 401; a signed-in
// non-admin: 403 (nothing about content). Service.IsAdmin is the same check
// for the console.
//
// # Idempotency
//
// POST and DELETE accept Idempotency-Key: per admin and key, the first
// answer below 500 is stored (Store, the admin_idempotency table) and
// replayed to repeats with Idempotent-Replayed: true; the action is not done
// again. A key reused for another request is 422.
//
// # Cache invalidation
//
// InvalidateCache sends an Invalidation on a CacheBus (RedisCache across
// processes, LocalCache in one) that every API instance's Agent applies to
// its library.Service (InvalidateFolder / InvalidateVideo / InvalidateAll,
// which also drop the shared Redis page cache entries). Agents report their
// versions, load time and cache stats on the same bus, with a TTL:
// Service.Instances.
//
// # Errors
//
// ErrInvalid (400, details.field names the field), ErrNotFound (404),
// ErrConflict (409: e.g. replaying a letter that is not open),
// ErrUnavailable (503), and the collaborators' sentinels, are mapped to
// HTTP in one place (errors.go), with the JSON error shape of every vidlib
// API: {"error":{"code","message","details"}}.
package admin
