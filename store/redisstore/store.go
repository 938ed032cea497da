package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// DefaultTTL is the TTL of cache entries when Options.DefaultTTL is zero.
const DefaultTTL = time.Hour

// Options configures a Store. The zero value (and nil) is valid.
type Options struct {
	// Prefix is prepended to every key, index, the versions hash and the pub/sub channel:
	// a namespace, so several deployments (or tests) can share one Redis. Empty: the keys
	// are exactly the seed's (folder:…, video:…).
	Prefix string
	// DefaultTTL is used when a write passes ttl 0. Zero means DefaultTTL (1 h); negative
	// is invalid.
	DefaultTTL time.Duration
	// Logger receives warnings of the version subscription. Nil: no logging.
	Logger *zap.Logger
}

// Store is the Redis cache of vidlib. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
	log    *zap.Logger
}

// New returns a Store on client (a *redis.Client or a failover client; see doc.go for why
// Cluster and Ring clients are refused). New does no I/O.
func New(client redis.UniversalClient, opts *Options) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalid)
	}
	switch client.(type) {
	case *redis.ClusterClient, *redis.Ring:
		return nil, fmt.Errorf("%w: %T: keys of one owner may live on different nodes", ErrUnsupported, client)
	}
	if opts == nil {
		opts = &Options{}
	}
	s := &Store{client: client, prefix: opts.Prefix, ttl: opts.DefaultTTL, log: opts.Logger}
	switch {
	case s.ttl < 0:
		return nil, fmt.Errorf("%w: DefaultTTL %v is negative", ErrInvalid, s.ttl)
	case s.ttl == 0:
		s.ttl = DefaultTTL
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.log = s.log.Named("redisstore")
	return s, nil
}

// Entry is one key and value for SetMany.
type Entry struct {
	Key   Key
	Value []byte
}

func (s *Store) key(k Key) string { return s.prefix + k.name }

func (s *Store) index(owner string) string { return s.prefix + indexName(owner) }

// ttlMillis resolves a write TTL: 0 → the default, < 0 → ErrInvalid, rounded up to ms.
func (s *Store) ttlMillis(ttl time.Duration) (int64, error) {
	switch {
	case ttl < 0:
		return 0, fmt.Errorf("%w: ttl %v is negative", ErrInvalid, ttl)
	case ttl == 0:
		ttl = s.ttl
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond), nil
}

func checkKeys(keys ...Key) error {
	for i, k := range keys {
		if k.IsZero() {
			return fmt.Errorf("%w: key %d is the zero Key (empty id or negative version)", ErrInvalid, i)
		}
	}
	return nil
}

// Get returns the value stored under k, or ErrMiss. A present empty value is a non-nil
// empty slice.
func (s *Store) Get(ctx context.Context, k Key) ([]byte, error) {
	if err := checkKeys(k); err != nil {
		return nil, err
	}
	b, err := s.client.Get(ctx, s.key(k)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %s: %w", k, err)
	}
	return b, nil
}

// Set stores value under k for ttl (0: the store's default TTL) and records k in its
// owner's index, atomically.
func (s *Store) Set(ctx context.Context, k Key, value []byte, ttl time.Duration) error {
	return s.SetMany(ctx, []Entry{{Key: k, Value: value}}, ttl)
}

// mgetChunk and setChunk bound the size of one command or script call, so one call never
// blocks Redis for long; the chunks of one call share a pipeline (one round trip).
const (
	mgetChunk       = 500
	setChunk        = 200
	invalidateChunk = 100
)

// GetMany returns the values of keys in one round trip: result[i] is the value of keys[i],
// nil for a miss.
func (s *Store) GetMany(ctx context.Context, keys []Key) ([][]byte, error) {
	if err := checkKeys(keys...); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, nil
	}
	pipe := s.client.Pipeline()
	var cmds []*redis.SliceCmd
	for start := 0; start < len(keys); start += mgetChunk {
		end := min(start+mgetChunk, len(keys))
		names := make([]string, 0, end-start)
		for _, k := range keys[start:end] {
			names = append(names, s.key(k))
		}
		cmds = append(cmds, pipe.MGet(ctx, names...))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: get many (%d keys): %w", len(keys), err)
	}
	out := make([][]byte, 0, len(keys))
	for _, c := range cmds {
		for _, v := range c.Val() {
			switch v := v.(type) {
			case nil:
				out = append(out, nil)
			case string:
				out = append(out, []byte(v))
			default:
				return nil, fmt.Errorf("redisstore: get many: unexpected reply %T", v)
			}
		}
	}
	return out, nil
}

// SetMany stores every entry for ttl (0: the default) in one round trip. Each chunk of
// entries is written atomically; all input is validated before anything is written.
func (s *Store) SetMany(ctx context.Context, entries []Entry, ttl time.Duration) error {
	ms, err := s.ttlMillis(ttl)
	if err != nil {
		return err
	}
	for i, e := range entries {
		if e.Key.IsZero() {
			return fmt.Errorf("%w: entry %d has the zero Key", ErrInvalid, i)
		}
	}
	var calls []scriptCall
	for start := 0; start < len(entries); start += setChunk {
		end := min(start+setChunk, len(entries))
		c := scriptCall{keys: make([]string, 0, 2*(end-start)), args: make([]any, 0, 1+end-start)}
		c.args = append(c.args, ms)
		for _, e := range entries[start:end] {
			c.keys = append(c.keys, s.key(e.Key), s.index(e.Key.owner))
			c.args = append(c.args, e.Value)
		}
		calls = append(calls, c)
	}
	if _, err := s.run(ctx, setScript, calls); err != nil {
		return fmt.Errorf("redisstore: set (%d keys): %w", len(entries), err)
	}
	return nil
}

// Delete removes keys (and their index entries). It returns how many existed.
func (s *Store) Delete(ctx context.Context, keys ...Key) (int64, error) {
	if err := checkKeys(keys...); err != nil {
		return 0, err
	}
	var calls []scriptCall
	for start := 0; start < len(keys); start += setChunk {
		end := min(start+setChunk, len(keys))
		c := scriptCall{keys: make([]string, 0, 2*(end-start))}
		for _, k := range keys[start:end] {
			c.keys = append(c.keys, s.key(k), s.index(k.owner))
		}
		calls = append(calls, c)
	}
	n, err := s.run(ctx, deleteScript, calls)
	if err != nil {
		return 0, fmt.Errorf("redisstore: delete (%d keys): %w", len(keys), err)
	}
	return n, nil
}

// InvalidateFolders deletes every cached key of the given folders, whatever the role,
// profile and version: the subtree invalidation (the caller computes the subtree). It
// returns how many keys existed. Other folders' keys are untouched.
func (s *Store) InvalidateFolders(ctx context.Context, folderIDs ...string) (int64, error) {
	return s.invalidate(ctx, "folders", folderOwner, folderIDs)
}

// InvalidateVideos deletes every cached key of the given videos (all segments and
// versions).
func (s *Store) InvalidateVideos(ctx context.Context, videoIDs ...string) (int64, error) {
	return s.invalidate(ctx, "videos", videoOwner, videoIDs)
}

// InvalidateRanked deletes every cached ranked feed (all versions) of the given users,
// then announces each user on the ranked-feed channel (SubscribeRanked).
func (s *Store) InvalidateRanked(ctx context.Context, userIDs ...string) (int64, error) {
	n, err := s.invalidate(ctx, "ranked feeds", rankedOwner, userIDs)
	if err != nil {
		return n, err
	}
	return n, s.announceRanked(ctx, userIDs)
}

// InvalidateLibraryRoot deletes every cached library root (all roles, profiles,
// versions).
func (s *Store) InvalidateLibraryRoot(ctx context.Context) (int64, error) {
	return s.invalidateOwners(ctx, "library root", []string{rootOwner})
}

func (s *Store) invalidate(ctx context.Context, what string, owner func(string) string, ids []string) (int64, error) {
	owners := make([]string, 0, len(ids))
	for i, id := range ids {
		if id == "" {
			return 0, fmt.Errorf("%w: invalidate %s: id %d is empty", ErrInvalid, what, i)
		}
		owners = append(owners, owner(id))
	}
	return s.invalidateOwners(ctx, what, owners)
}

func (s *Store) invalidateOwners(ctx context.Context, what string, owners []string) (int64, error) {
	var calls []scriptCall
	for start := 0; start < len(owners); start += invalidateChunk {
		end := min(start+invalidateChunk, len(owners))
		c := scriptCall{keys: make([]string, 0, end-start)}
		for _, o := range owners[start:end] {
			c.keys = append(c.keys, s.index(o))
		}
		calls = append(calls, c)
	}
	n, err := s.run(ctx, invalidateScript, calls)
	if err != nil {
		return 0, fmt.Errorf("redisstore: invalidate %s (%d): %w", what, len(owners), err)
	}
	s.log.Debug("invalidated", zap.String("what", what), zap.Int("owners", len(owners)), zap.Int64("keys", n))
	return n, nil
}

type scriptCall struct {
	keys []string
	args []any
}

// run executes one script call per element of calls in a single pipeline and returns the
// sum of their integer results. If the server lacks the script (NOSCRIPT: new or
// restarted server), it loads it and runs the pipeline once more; every script here is
// idempotent, so running part of it twice is harmless.
func (s *Store) run(ctx context.Context, script *redis.Script, calls []scriptCall) (int64, error) {
	switch len(calls) {
	case 0:
		return 0, nil
	case 1:
		return script.Run(ctx, s.client, calls[0].keys, calls[0].args...).Int64()
	}
	for attempt := 0; ; attempt++ {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.Cmd, len(calls))
		for i, c := range calls {
			cmds[i] = script.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err := script.Load(ctx, s.client).Err(); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		var sum int64
		for _, c := range cmds {
			n, err := c.Int64()
			if err != nil {
				return 0, err
			}
			sum += n
		}
		return sum, nil
	}
}
