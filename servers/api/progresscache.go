package api

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/vidlib/vidlib/analytics"
)

// DefaultProgressCacheRows bounds the progress rows one API instance keeps
// (AnalyticsOptions.ProgressCacheRows): about 25 MB.
const DefaultProgressCacheRows = 100_000

// ProgressVersions is a per-user version of resume state shared by every API
// instance and the analytics consumer (store/redisstore). Whoever writes a
// user's progress (the consumer after its transaction, the API after a
// dismissal) bumps the user's version; an API instance that read the version
// before it read the progress may serve its copy for as long as the version
// is unchanged.
type ProgressVersions interface {
	ProgressVersion(ctx context.Context, userID string) (string, error)
	BumpProgress(ctx context.Context, userIDs ...string) error
}

// progressCache keeps users' unfinished videos (the rows continue watching
// and resume positions are made of) by the version they were read under, up
// to max rows (a user without any counts one). When full, arbitrary entries
// make room for a new one.
type progressCache struct {
	mu   sync.Mutex
	max  int
	rows int
	m    map[string]*progressEntry
	// down is set while the versions are unreachable (logged once per outage).
	down atomic.Bool
}

// progressEntry is a user's unfinished videos; read-only once made.
type progressEntry struct {
	version  string
	rows     []analytics.Progress
	ids      []string // the rows' video ids
	complete bool     // rows are all the user's unfinished videos
}

func newProgressEntry(version string, rows []analytics.Progress, complete bool) *progressEntry {
	return &progressEntry{version: version, rows: rows, ids: videoIDsOf(rows), complete: complete}
}

func videoIDsOf(ps []analytics.Progress) []string {
	ids := make([]string, len(ps))
	for i := range ps {
		ids[i] = ps[i].VideoID
	}
	return ids
}

func newProgressCache(max int) *progressCache {
	return &progressCache{max: max, m: make(map[string]*progressEntry)}
}

func (c *progressCache) get(user string) *progressEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[user]
}

func (e *progressEntry) size() int { return max(1, len(e.rows)) }

func (c *progressCache) put(user string, e *progressEntry) {
	if e.size() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(user)
	for k := range c.m {
		if c.rows+e.size() <= c.max {
			break
		}
		c.remove(k)
	}
	c.m[user] = e
	c.rows += e.size()
}

func (c *progressCache) remove(user string) {
	if old, ok := c.m[user]; ok {
		c.rows -= old.size()
		delete(c.m, user)
	}
}

func (c *progressCache) drop(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(user)
}

// clear forgets every entry: while the versions are unreachable, bumps may
// be missed, so nothing kept before can be trusted after.
func (c *progressCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
	c.rows = 0
}

func (c *progressCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
