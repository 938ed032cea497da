// Package consumers holds vidlib's event consumers that are not part of the
// sync worker: the audit consumer, the analytics consumer and the ranking
// pipeline.
//
// The analytics consumer consumes analytics.events (one analytics.batch
// envelope per accepted ingest request, keyed by user) and applies each
// batch to the store in one transaction (AnalyticsStore.ApplyWatchEvents):
// new events are inserted (a duplicate event id changes nothing), and every
// session, per-day aggregate and resume position they touch is recomputed
// (a session by folding the new events onto it, or from all its stored
// events when some come late), so late, reordered and redelivered events
// give the same result as one ordered delivery. Batches handled at once share
// transactions (group commit, at most AnalyticsOptions.Transactions at a
// time, each of up to MaxGroupEvents events): alone, a batch is stored at
// once; under load, the batches that arrived while a transaction ran go in
// the next one, which keeps the lag low when ingest sends many small
// batches. With ProgressVersions (store/redisstore) the users of every
// stored batch get a new progress version after the commit, which is how the
// API instances' copies of their progress go stale; a failed bump fails the
// batch like a store failure. A store failure is retried a few
// times at once (AnalyticsOptions.Retry) and then handed back to the bus,
// which delivers the batch again after a growing delay; a batch that does
// not decode or validate goes to deadletters.analytics and the dead_letters
// table, replayable by admin. After a batch changed something, the changed
// users' and videos' features are published to ranking.features.
//
// The audit consumer consumes audit.events and appends each audit.Record
// to the hash-chained audit log (audit_logs).
//
// The audit consumer is at least once on the bus and exactly once in effect:
// a record is appended in a transaction that locks the chain head and skips
// record ids already stored, so a redelivery after a crash, a rebalance or a
// replay stores nothing twice, and two consumers (two instances) append one
// after the other instead of forking the chain. Handlers of concurrent
// messages share one transaction (the analytics consumer's group commit,
// one transaction at a time): the first waiting handler writes everything
// queued, up to BatchSize, while the others wait for its result. A record that cannot be stored (it does not decode or fails
// audit.Record.Validate) is a permanent failure: it goes at once to
// deadletters.audit and the dead_letters table, where an admin sees it.
// Store failures are retried and then redelivered, never dead-lettered
// silently: a failing database stops the log, it does not lose records.
//
// Every CheckpointEvery records (or CheckpointInterval) the consumer writes a
// checkpoint of the chain head (audit_checkpoints, and a log line), signed
// when a key is configured; `vidlib audit verify` checks the chain against
// the checkpoints.
//
// The ranking pipeline (Ranking) consumes ranking.features and watches the
// content and entitlement versions: a user whose features changed is ranked
// again (rank.Model.Rank, with the model of the last full recompute) after a
// short debounce; a version change, and RankingOptions.FullInterval, rebuild
// the model from every user's history and rank everyone. Each feed (top
// rank.Options.Size, default 200) is written to the store
// (user_video_rankings) and the cache (ranked:{user}:{version}), and
// announced on ranking.updated (and, through the cache, on the Redis channel
// the API instances follow). Users are ranked with their granted roles,
// stored profile and the audience they last signed in with (user_audiences,
// recorded by auth), inside what that audience may see; the API filters the
// stored feed again when it serves it. The pipeline compiles its own index
// from the store's tree and rules, unless RankingOptions.Index gives it the
// library a process already serves (vidlib all): then it ranks over that
// loaded index and watches its versions, and reads no tree from the store.
//
// Module is the fx module; NewAudit and Provide build the same without fx.
package consumers
