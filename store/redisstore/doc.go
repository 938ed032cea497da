// Package redisstore is vidlib's Redis layer (go-redis/v9): versioned read caches, per-user
// ranked feeds, and the current content/entitlement versions with pub/sub notification.
// PostgreSQL stays the source of truth; everything here can be lost and rebuilt.
//
// # Keys
//
// Keys follow the seed's scheme, built only by the key builders, which return a Key:
//
//	library:root:{role}:{profile_hash}:{version}   LibraryRootKey
//	folder:{folder_id}:{role}:{profile_hash}:{version}   FolderKey
//	video:{video_id}:{segment}:{version}   VideoKey
//	ranked:{user_id}:{version}   RankedKey
//
// Options.Prefix is put in front of every name (empty by default). The version is part of
// the key, so bumping the content or entitlement version invalidates by construction:
// readers simply stop asking for the old keys, which expire by TTL. Every write has a
// TTL (Options.DefaultTTL, 1 h, unless the call gives one); nothing is cached forever.
//
// # Subtree invalidation without KEYS
//
// An admin (or the sync) may invalidate a folder subtree without a version bump. The
// caller computes the subtree's folder ids; InvalidateFolders deletes every key of those
// folders, whatever the role, profile and version. KEYS is out (it blocks Redis for
// O(all keys)), and SCAN MATCH "folder:{id}:*" per folder is out too: each SCAN walks the
// whole keyspace, so invalidating a subtree of n folders costs n full scans, and keys
// written during the scan may be missed.
//
// Instead every key has an owner (folder:{id}, video:{id}, ranked:{user} or library:root)
// and each owner has an index, a sorted set idx:{owner} whose members are the owner's
// keys scored by their expiry time. Set writes the key and its index entry in one Lua
// script (atomic): it also drops index members whose keys have expired (score < now, by
// the server's clock, so there is no skew) and makes the index live at least as long as
// its newest member. An index therefore holds at most the owner's live keys plus those of
// the current write, and disappears on its own when they all expire. Invalidation is one
// script per batch of owners that unlinks the members and the index: O(keys removed),
// never O(keyspace). Invalidating folder A never touches folder B's keys (tested with a
// random-operation property test against a model).
//
// # Versions and pub/sub
//
// The current versions live in one hash, versions (field = name such as "content" or
// "entitlement"), so a new instance can read them at start (Version, Versions).
// SetVersion only raises a version, atomically (Lua compare-and-set on decimal strings,
// exact for every int64). PublishVersion raises and publishes the resulting version on
// the channel "versions" in the same script. SubscribeVersions delivers the stored
// versions first and then the changes, re-reads the hash after every reconnect (a
// publish missed while disconnected is not lost), and coalesces per name, so a slow
// reader never blocks the subscription and never sees a version go backwards. Readers
// should still poll Versions now and then, as ARCHITECTURE.md §3.2 says.
//
// # Ranked feeds
//
// SetRanked replaces a user's ranked feed: in one script it deletes every version of the
// user's feed and writes the new one (lines of id, score and encoded reason), so "on ranking update,
// replace only ranked-feed keys" holds and no other cache is touched. The same script
// publishes the user id on the channel "ranked", and InvalidateRanked publishes the users
// it deleted: SubscribeRanked delivers them (and "" when some may have been missed, after
// a reconnect or when the reader fell behind), so readers that keep feeds in process
// (library.Options.FeedChanges) read a user's feed again as soon as it changes.
//
// # Progress versions
//
// progress:{user_id}:version holds a random token per user (ProgressVersion
// reads it, creating one when there is none; BumpProgress replaces it after
// the user's progress changed in PostgreSQL). An API instance that read the
// token before it read the progress may serve its copy while the token is
// unchanged. A token, not a counter: a key that expired (7 days) or was lost
// comes back with a value no reader can hold, so a lost key costs a miss,
// never a stale answer.
//
// # Errors
//
// A missing key or version is ErrMiss (redis.Nil never escapes). Bad input — the zero Key
// (empty id or negative version), a negative TTL, a bad version name, a duplicate ranked
// video — is ErrInvalid and nothing is written. Other errors are Redis errors wrapped with
// the operation and key.
//
// # Deployment and concurrency
//
// A Store is safe for concurrent use. It needs a single Redis primary (a *redis.Client,
// or a failover client for Sentinel / ElastiCache without cluster mode): the scripts touch
// a key and its owner's index together, which Redis Cluster refuses unless both hash to
// one slot, so New rejects ClusterClient and Ring with ErrUnsupported. Supporting cluster
// mode would mean hash-tagging keys by owner (folder:{123}:…), a change to the key scheme.
// GetMany and SetMany take one round trip; large batches are split into chunks so one
// script never blocks Redis for long, and each chunk is atomic.
package redisstore
