package library

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// Store is what the Service reads: the mirrored tree, the entitlement rules
// and their versions. store/pgstore and store/memstore implement it.
type Store interface {
	LoadSnapshot(ctx context.Context, opts tree.LoadOptions) (*tree.Snapshot, error)
	ContentVersion(ctx context.Context) (int64, error)
	ListRules(ctx context.Context) ([]entitle.Rule, int64, error)
	EntitlementVersion(ctx context.Context) (int64, error)
}

// Version names, as writers publish them.
const (
	VersionContent     = "content"
	VersionEntitlement = "entitlement"
)

// VersionChange says that the named version is now at least Version.
type VersionChange struct {
	Name    string
	Version int64
}

// Versions notifies the Service of new versions (Redis pub/sub in
// production: servers/api.RedisVersions adapts store/redisstore). Subscribe
// returns a channel of changes, closed when ctx is done or stop is called.
type Versions interface {
	Subscribe(ctx context.Context) (changes <-chan VersionChange, stop func())
}

// CacheKind says what a shared cache entry holds.
type CacheKind string

// Cache kinds, matching the seed's key families.
const (
	CacheRoot   CacheKind = "root"   // library:root:{role}:{profile_hash}:{version}
	CacheFolder CacheKind = "folder" // folder:{id}:{role}:{profile_hash}:{version}
)

// CacheKey addresses one shared cache entry. Role is the audience's roles,
// ProfileHash a hash of everything else that decides the answer (the
// audience's cache key, the entitlement version, the page), Version the
// content version.
type CacheKey struct {
	Kind        CacheKind
	ID          string // folder id (CacheFolder)
	Role        string
	ProfileHash string
	Version     int64
}

// Cache is a shared cache of encoded answers across instances (Redis in
// production: servers/api.RedisCache). Get returns (nil, nil) on a miss.
// The Service treats every Cache error as a miss.
type Cache interface {
	Get(ctx context.Context, k CacheKey) ([]byte, error)
	Set(ctx context.Context, k CacheKey, value []byte) error
	// InvalidateFolders drops every entry of the folders and the library root.
	InvalidateFolders(ctx context.Context, folderIDs ...string) error
}

// AccessRecord is one audited access decision.
type AccessRecord struct {
	Action  string // "playback", "chat_context"
	UserID  string
	VideoID string
	Allowed bool
	Time    time.Time
}

// Auditor records access decisions; it must be durable before it returns nil.
type Auditor interface {
	RecordAccess(ctx context.Context, rec AccessRecord) error
}

// Defaults of Options.
const (
	DefaultPollInterval   = 5 * time.Second
	DefaultPageSize       = 50
	DefaultMaxPageSize    = 200
	DefaultRecentlyAdded  = 20
	DefaultMaxCachedPages = 20_000
	DefaultMaxCachedBytes = 32 << 20
	DefaultCacheTimeout   = 50 * time.Millisecond
	DefaultMaxCachedFeeds = 4096
	DefaultFeedMaxAge     = 30 * time.Second
)

// Options tune a Service. The zero value (and nil) is valid.
type Options struct {
	// Versions delivers version changes (nil: poll only).
	Versions Versions
	// PollInterval is how often the store's versions are checked as a fallback
	// (default DefaultPollInterval; negative: never).
	PollInterval time.Duration
	// Cache is the shared cache of encoded pages (nil: in-process only).
	Cache Cache
	// CacheTimeout bounds each shared cache call (default DefaultCacheTimeout).
	CacheTimeout time.Duration
	// PageSize is the default folder page size (default DefaultPageSize);
	// MaxPageSize the largest a caller may ask for (default DefaultMaxPageSize).
	PageSize    int
	MaxPageSize int
	// RecentlyAdded is the length of the recently-added row (default
	// DefaultRecentlyAdded; negative: no row).
	RecentlyAdded int
	// MaxCachedPages and MaxCachedBytes bound the in-process cache of encoded
	// answers (defaults DefaultMaxCachedPages, DefaultMaxCachedBytes). A miss
	// costs a few microseconds (answers are assembled from per-generation
	// fragments), so the cache is for hot pages and their entity tags, not
	// for every page every audience may ask for.
	MaxCachedPages int
	MaxCachedBytes int
	// Feeds, if set, gives users' stored ranked feeds (Feed and the home's
	// ranked_for_you row): usually FeedChain(Redis, PostgreSQL).
	Feeds FeedSource
	// FeedChanges, if set, announces the users whose stored feed changed
	// (Run follows it), and the Service then keeps the stored feeds of the
	// users it served last in process, decoded and resolved against the
	// loaded tree (MaxCachedFeeds), instead of reading Feeds on every feed
	// request and home page. Without it, Feeds is read every time.
	FeedChanges FeedChanges
	// MaxCachedFeeds bounds that cache in users with a feed, the least
	// recently served out first (default DefaultMaxCachedFeeds; about 15 KB
	// each for a feed of 200, plus about 300 bytes for each video served
	// from it); users with no feed yet are kept apart, up to 16 times as
	// many, at a few hundred bytes each. FeedMaxAge is how long a cached feed is served before Feeds is
	// read again (default DefaultFeedMaxAge): the bound on how stale a feed
	// can be should an announcement be lost. A content change reads every
	// feed again on its next use.
	MaxCachedFeeds int
	FeedMaxAge     time.Duration
	// Auditor, if set, records every playback decision; a failure to record an
	// allowed playback refuses it (ErrUnavailable).
	Auditor Auditor
	// Chat, if set, switches on ChatContext (the HubSpot chat context).
	Chat *ChatOptions
	// Index tunes the compiled entitlement index.
	Index *entitle.Options
	// WarmSearch builds the search index in the background as soon as a new
	// content generation is served, so that the first search does not wait
	// for it (about 1 s of CPU at 100,000 videos with descriptions). One
	// build runs at a time, always of the newest generation, and after each
	// the warmer rests four times as long as it took (at most 30 s), so a
	// stream of edits costs at most a fifth of the time in warm builds.
	// Whatever is not warm yet, or with WarmSearch off, the index is built
	// on the first search of each content generation.
	WarmSearch bool
	// NoPatch makes every content change reload the whole tree from the
	// store, and every entitlement change list every rule. By default, when
	// the store has a change feed (tree.ContentFeed) that reaches back to
	// the loaded version, the change is patched into the loaded generation
	// instead, and when it has a rule change feed (entitle.RuleFeed) that
	// reaches back, only the rules that changed are read (see
	// Service.Refresh).
	NoPatch bool
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *zap.Logger // nil: no logging
}

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.PollInterval == 0 {
		r.PollInterval = DefaultPollInterval
	}
	if r.CacheTimeout <= 0 {
		r.CacheTimeout = DefaultCacheTimeout
	}
	if r.PageSize == 0 {
		r.PageSize = DefaultPageSize
	}
	if r.MaxPageSize == 0 {
		r.MaxPageSize = DefaultMaxPageSize
	}
	if r.PageSize < 0 || r.MaxPageSize < 0 || r.PageSize > r.MaxPageSize {
		return r, fmt.Errorf("%w: page size %d, max %d", ErrInvalid, r.PageSize, r.MaxPageSize)
	}
	if r.RecentlyAdded == 0 {
		r.RecentlyAdded = DefaultRecentlyAdded
	}
	if r.MaxCachedPages <= 0 {
		r.MaxCachedPages = DefaultMaxCachedPages
	}
	if r.MaxCachedBytes <= 0 {
		r.MaxCachedBytes = DefaultMaxCachedBytes
	}
	if r.MaxCachedFeeds <= 0 {
		r.MaxCachedFeeds = DefaultMaxCachedFeeds
	}
	if r.FeedMaxAge <= 0 {
		r.FeedMaxAge = DefaultFeedMaxAge
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	chat, err := r.Chat.withDefaults()
	if err != nil {
		return r, err
	}
	r.Chat = chat
	if r.Logger == nil {
		r.Logger = zap.NewNop()
	}
	r.Logger = r.Logger.Named("library")
	return r, nil
}
