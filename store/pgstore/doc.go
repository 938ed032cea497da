// Package pgstore implements vidlib's store contracts on PostgreSQL with
// pgx/v5 and pgxpool: the mirrored tree (tree.Store), users, identities and
// roles (auth.UserStore), entitlement rules (entitle.RuleStore), sync runs,
// and the events tables (outbox, dead letters, processed and provider events).
//
// # Schema and migrations
//
// The schema lives in embedded, forward-only SQL files (migrations/NNNN_*.sql)
// that Migrate applies in order, each in its own transaction, recording them in
// schema_migrations. Concurrent Migrate calls (several instances starting at
// once) are serialised by an advisory lock per schema. A database that is
// newer than the binary is refused. The schema holds every table of the
// specification: users, user_identities, roles, user_roles, folders, videos,
// folder_videos, entitlements, user_video_rankings, watch_events,
// watch_sessions, provider_events, sync_runs, audit_logs, hubspot_context and
// dead_letters, plus outbox, processed_events, versions, sync_state and
// content_changes (the change feed of tree.ContentFeed: one row per content
// version with the folders and videos it changed, pruned past
// tree.FeedRetention versions) and rule_changes (the change feed of
// entitle.RuleFeed: one row per entitlement version, the rule it added,
// whole, or the id it removed, pruned past entitle.FeedRetention versions).
// audit_logs is append-only: a trigger rejects UPDATE, DELETE and TRUNCATE.
//
// # The audit log
//
// AppendAudit appends audit records to the hash chain (audit.Appender): in
// one transaction it locks the single row of audit_chain_head (SELECT … FOR
// UPDATE), so concurrent consumers append one after the other and can never
// fork the chain; it skips record ids already stored (event_id is unique),
// links the others after the head (seq, prev_hash, hash), inserts them with
// COPY and moves the head. audit_checkpoints, append-only as well, keeps the
// consumer's checkpoints. SearchAudit pages newest first by seq over indexes
// on actor, action, object and time; ScanAuditChain reads the chain in seq
// ranges, several at once, for audit.Verify. AddRuleAudited and
// RemoveRuleAudited change a rule and write outbox rows (its audit record) in
// one transaction.
//
// # The tree
//
// folders carry adjacency (parent_id) and a materialised path of internal ids
// that includes the folder itself ('/1/5/9/'), indexed for prefix queries. A
// move rewrites the paths of the whole subtree in one UPDATE. Structural
// changes (folder inserts, moves, deletes, restores) take a transaction-scoped
// advisory lock so that concurrent moves can never build a cycle; video writes
// do not. Bulk writes go through unnest() arrays in batches of 5,000 rows and
// only touch rows whose values differ (IS DISTINCT FROM), which is how Update
// knows whether to bump the content version.
//
// LoadSnapshot reads folders, videos and placements at one point in time: on
// three pooled connections sharing one exported snapshot (pg_export_snapshot
// and SET TRANSACTION SNAPSHOT) when the pool has at least four connections,
// else in one repeatable-read transaction. Placements are read by internal
// ids and resolved in memory, without a join.
//
// # Analytics
//
// watch_events is partitioned by occurred_at, one partition per UTC day
// (watch_events_pYYYYMMDD), created before a batch that needs it and dropped
// by DropWatchEventsBefore (retention). ApplyWatchEvents inserts a batch
// with one unnest() statement (ON CONFLICT DO NOTHING), takes transaction
// advisory locks on the touched (user, video) pairs in order, folds the new
// events of each touched session onto its stored row when they all come
// after its last event (analytics.Continue, with the carry kept in
// watch_sessions.fold_*), else refolds the session from all its stored
// events (analytics.Fold: late or reordered events, rows older than the
// carry), then recomputes each pair's watch_daily rows and watch_progress
// from its sessions, all in one transaction: the result depends only on the
// set of stored events, and the usual batch costs the same however long its
// sessions have run.
// The transaction is three pipelined round trips besides BEGIN and COMMIT.
// video_daily_stats, user_daily_stats, folder_daily_stats (a folder's
// direct videos) and folder_subtree_daily_stats (a folder and everything
// below it, each video once) are views over watch_daily. Unfinished is the
// read that continue watching and resume positions share.
//
// # Errors
//
// Driver errors are translated once, here, into the owning package's
// sentinels: unique violations become ErrDuplicate, foreign-key violations
// ErrNotFound, check and format violations ErrInvalid (tree, auth or entitle,
// depending on the method). Malformed user ids are ErrNotFound before they
// reach the database.
//
// A Store is safe for concurrent use.
package pgstore
