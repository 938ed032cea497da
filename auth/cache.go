package auth

import (
	"container/list"
	"crypto/rsa"
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"
)

// tokenKey is the key of a raw token in the verification and principal
// caches: its SHA-256, so that the caches hold no bearer tokens and a
// collision is out of reach.
func tokenKey(raw string) [32]byte {
	// Hash the string's bytes in place: a token is about a kilobyte, and this
	// runs on every request. Sum256 neither keeps nor changes its input.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
}

// tokenCache remembers successful verifications: Verifier.Verify reuses one
// for the same raw token instead of checking the signature and parsing the
// claims again. Only successes are stored, so tokens an attacker can make
// (forgeries, garbage) never enter it; its size is bounded, and the oldest
// entries (the ones that expire first) make room. Safe for concurrent use.
type tokenCache struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	byKey map[[32]byte]*list.Element // of *cacheEntry
	order list.List                  // oldest first
}

// cacheEntry is one verified token and what its reuse must re-check: the
// time, and that the key that signed it is still the issuer's.
type cacheEntry struct {
	key   [32]byte
	tok   *Token
	iv    *issuerVerifier
	kid   string
	pub   *rsa.PublicKey
	until time.Time // min(verified + ttl, exp + skew)
}

func newTokenCache(ttl time.Duration, maxEntries int) *tokenCache {
	return &tokenCache{ttl: ttl, max: maxEntries, byKey: make(map[[32]byte]*list.Element)}
}

func (c *tokenCache) get(key [32]byte) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		return el.Value.(*cacheEntry)
	}
	return nil
}

// remove drops e, unless it was replaced meanwhile.
func (c *tokenCache) remove(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; ok && el.Value == e {
		c.order.Remove(el)
		delete(c.byKey, e.key)
	}
}

// put stores e (replacing an entry of the same token), first dropping the
// oldest entries while the cache is full or they are past their time.
func (c *tokenCache) put(e *cacheEntry, now time.Time) {
	if !now.Before(e.until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; ok {
		c.order.Remove(el)
		delete(c.byKey, e.key)
	}
	for c.order.Len() > 0 {
		front := c.order.Front()
		old := front.Value.(*cacheEntry)
		if c.order.Len() < c.max && now.Before(old.until) {
			break
		}
		c.order.Remove(front)
		delete(c.byKey, old.key)
	}
	c.byKey[e.key] = c.order.PushBack(e)
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}
