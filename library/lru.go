package library

import (
	"container/list"
	"sync"
)

// lru is a bounded cache of encoded answers (by count and bytes), least
// recently used first out. One belongs to each state generation.
type lru struct {
	mu       sync.Mutex
	maxItems int
	maxBytes int
	bytes    int
	ll       *list.List
	items    map[string]*list.Element
}

type lruEntry struct {
	key  string
	body *Body
}

func newLRU(maxItems, maxBytes int) *lru {
	return &lru{maxItems: maxItems, maxBytes: maxBytes, ll: list.New(), items: make(map[string]*list.Element)}
}

func (c *lru) get(key string) *Body {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lruEntry).body
	}
	return nil
}

func (c *lru) put(key string, b *Body) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.bytes -= e.Value.(*lruEntry).body.size()
		e.Value.(*lruEntry).body = b
		c.bytes += b.size()
		c.ll.MoveToFront(e)
	} else {
		c.items[key] = c.ll.PushFront(&lruEntry{key: key, body: b})
		c.bytes += b.size()
	}
	for (len(c.items) > c.maxItems || c.bytes > c.maxBytes) && c.ll.Len() > 1 {
		e := c.ll.Back()
		en := e.Value.(*lruEntry)
		c.ll.Remove(e)
		delete(c.items, en.key)
		c.bytes -= en.body.size()
	}
}
