package entitle

import (
	"hash/maphash"
	"sync"
)

// lru is a bounded map from string keys to values that evicts the least
// recently used entry of a shard when the shard is full: never more than
// one entry at a time, never all at once. Keys are spread over up to 16
// shards (each with its own lock, so concurrent readers of different keys
// rarely wait for each other); the bound is split exactly between them.
type lru[V any] struct {
	seed   maphash.Seed
	shards []lruShard[V]
}

type lruShard[V any] struct {
	mu   sync.Mutex
	max  int
	m    map[string]*lruNode[V]
	head lruNode[V] // sentinel: head.next is the most recently used, head.prev the least
}

type lruNode[V any] struct {
	key        string
	val        V
	prev, next *lruNode[V]
}

// lruShardSize is how many entries a shard holds at least before the cache
// is split further.
const lruShardSize = 64

func newLRU[V any](bound int) *lru[V] {
	n := min(16, max(1, bound/lruShardSize))
	c := &lru[V]{seed: maphash.MakeSeed(), shards: make([]lruShard[V], n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = bound / n
		if i < bound%n {
			s.max++
		}
		s.m = make(map[string]*lruNode[V])
		s.head.next, s.head.prev = &s.head, &s.head
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
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	s.unlink(n)
	s.pushFront(n)
	return n.val, true
}

// add stores val under key unless the key is present already, and returns
// what the cache holds for the key then (the earlier value, if any: two
// callers that computed the same answer at once end up sharing one). When
// the shard is full its least recently used entry is evicted.
func (c *lru[V]) add(key string, val V) V {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.m[key]; ok {
		s.unlink(n)
		s.pushFront(n)
		return n.val
	}
	if len(s.m) >= s.max {
		old := s.head.prev
		s.unlink(old)
		delete(s.m, old.key)
	}
	n := &lruNode[V]{key: key, val: val}
	s.m[key] = n
	s.pushFront(n)
	return val
}

// len returns how many entries the cache holds.
func (c *lru[V]) len() int {
	total := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		total += len(s.m)
		s.mu.Unlock()
	}
	return total
}

// oldestFirst calls fn for every entry, each shard's least recently used
// first, without changing the order. fn must not use the cache.
func (c *lru[V]) oldestFirst(fn func(key string, val V)) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for n := s.head.prev; n != &s.head; n = n.prev {
			fn(n.key, n.val)
		}
		s.mu.Unlock()
	}
}

// clear empties the cache (benchmarks measure cold lookups with it).
func (c *lru[V]) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.head.next, s.head.prev = &s.head, &s.head
		s.mu.Unlock()
	}
}

func (s *lruShard[V]) unlink(n *lruNode[V]) {
	n.prev.next, n.next.prev = n.next, n.prev
}

func (s *lruShard[V]) pushFront(n *lruNode[V]) {
	n.prev, n.next = &s.head, s.head.next
	s.head.next.prev = n
	s.head.next = n
}
