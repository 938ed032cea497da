package entitle

import (
	"cmp"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// lru is a bounded map from string keys to values that evicts the least
// recently used entry of a shard when the shard is full: one entry at a
// time, never all at once. It is bounded by entries and by the sizes of
// its values (size; a value counts in full in every entry that holds it).
// Keys are spread over up to 16 shards, each with its own lock and its
// share of both bounds (the shares of the entry bound add up to it
// exactly). A lookup takes the shard's read lock and stamps the entry with
// the shard's use counter, so concurrent readers do not wait for each other
// and touch no other entry; adding to a full shard looks for the entry with
// the oldest stamp (a scan of the shard, paid only when a view was not
// cached and has just been computed, which costs far more).
type lru[V any] struct {
	seed   maphash.Seed
	size   func(V) int64
	shards []lruShard[V]
}

type lruShard[V any] struct {
	mu       sync.RWMutex
	max      int
	maxBytes int64
	bytes    int64 // the sizes of the values held
	m        map[string]*lruEntry[V]
	clock    atomic.Uint64 // the last stamp given
}

type lruEntry[V any] struct {
	val  V
	size int64
	used atomic.Uint64 // stamp of the last use
}

// lruShardSize is how many entries a shard holds at least before the cache
// is split further.
const lruShardSize = 64

// newLRU returns a cache of at most bound entries whose values' sizes add up
// to at most about maxBytes (a shard keeps at least one entry, however
// large).
func newLRU[V any](bound int, maxBytes int64, size func(V) int64) *lru[V] {
	n := min(16, max(1, bound/lruShardSize))
	c := &lru[V]{seed: maphash.MakeSeed(), size: size, shards: make([]lruShard[V], n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = bound / n
		if i < bound%n {
			s.max++
		}
		s.maxBytes = maxBytes / int64(n)
		s.m = make(map[string]*lruEntry[V])
	}
	return c
}

func (c *lru[V]) shard(key string) *lruShard[V] {
	if len(c.shards) == 1 {
		return &c.shards[0]
	}
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// get returns the key's value and marks it most recently used.
func (c *lru[V]) get(key string) (V, bool) {
	s := c.shard(key)
	s.mu.RLock()
	e, ok := s.m[key]
	if ok {
		e.used.Store(s.clock.Add(1))
	}
	s.mu.RUnlock()
	if !ok {
		var zero V
		return zero, false
	}
	return e.val, true
}

// add stores val under key unless the key is present already, and returns
// what the cache holds for the key then (the earlier value, if any: two
// callers that computed the same answer at once end up sharing one). When
// the shard is full its least recently used entry is evicted.
func (c *lru[V]) add(key string, val V) V {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		e.used.Store(s.clock.Add(1))
		return e.val
	}
	size := c.size(val)
	for len(s.m) > 0 && (len(s.m) >= s.max || s.bytes+size > s.maxBytes) {
		var oldest string
		var stamp uint64
		first := true
		for k, e := range s.m {
			if u := e.used.Load(); first || u < stamp {
				oldest, stamp, first = k, u, false
			}
		}
		s.bytes -= s.m[oldest].size
		delete(s.m, oldest)
	}
	e := &lruEntry[V]{val: val, size: size}
	e.used.Store(s.clock.Add(1))
	s.m[key] = e
	s.bytes += size
	return val
}

// len returns how many entries the cache holds.
func (c *lru[V]) len() int {
	total := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		total += len(s.m)
		s.mu.RUnlock()
	}
	return total
}

// oldestFirst calls fn for every entry, each shard's least recently used
// first, without marking them used. fn must not use the cache.
func (c *lru[V]) oldestFirst(fn func(key string, val V)) {
	type item struct {
		key  string
		val  V
		used uint64
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		items := make([]item, 0, len(s.m))
		for k, e := range s.m {
			items = append(items, item{k, e.val, e.used.Load()})
		}
		s.mu.RUnlock()
		slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.used, b.used) })
		for _, it := range items {
			fn(it.key, it.val)
		}
	}
}

// clear empties the cache (benchmarks measure cold lookups with it).
func (c *lru[V]) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.bytes = 0
		s.mu.Unlock()
	}
}

// filtered returns a cache with c's bounds, shard layout and seed that
// holds the entries of c for which keep is true, with their use stamps (so
// their recency carries over). keep is called with the shard's read lock
// held; it must not use the cache.
func (c *lru[V]) filtered(keep func(key string, val V) bool) *lru[V] {
	out := &lru[V]{seed: c.seed, size: c.size, shards: make([]lruShard[V], len(c.shards))}
	for i := range c.shards {
		s, o := &c.shards[i], &out.shards[i]
		s.mu.RLock()
		o.max, o.maxBytes = s.max, s.maxBytes
		o.m = make(map[string]*lruEntry[V], len(s.m))
		for k, e := range s.m {
			if !keep(k, e.val) {
				continue
			}
			n := &lruEntry[V]{val: e.val, size: e.size}
			n.used.Store(e.used.Load())
			o.m[k] = n
			o.bytes += e.size
		}
		o.clock.Store(s.clock.Load())
		s.mu.RUnlock()
	}
	return out
}
