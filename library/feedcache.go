package library

import (
	"container/list"
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/vidlib/vidlib/rank"
)

// FeedChanges announces the users whose stored feed changed (Redis pub/sub
// in production: servers/api.RedisFeedChanges adapts store/redisstore).
// Subscribe returns a channel of user ids, closed when ctx is done or stop is
// called; an empty id says that any user's feed may have changed (changes
// were missed, e.g. while reconnecting).
type FeedChanges interface {
	Subscribe(ctx context.Context) (changes <-chan string, stop func())
}

// storedFeed is a user's stored feed as the Service serves it: read from
// Options.Feeds once, resolved against one content generation (videos and
// the folders and videos its reasons name are nodes of that generation), and
// kept in the feed cache until the feed changes, the content generation
// changes, or it is FeedMaxAge old. It is never changed once made, except for
// the items' encodings, made on first use.
type storedFeed struct {
	// ct is the generation the nodes belong to, held weakly: a feed left in
	// the cache by an older generation (it is never served) must not keep
	// that generation's lists and search index alive; under a stream of
	// patched generations that kept tens of them.
	ct       weak.Pointer[content_]
	version  int64     // the content version it was read for
	read     time.Time // when it was read from Options.Feeds
	computed time.Time // Feed.ComputedAt
	gen      int64     // feedGen
	items    []feedItem
	kept     bool // in the feed cache: worth keeping the items' encodings
}

// feedItem is one ranked video, resolved. An item whose video is not in the
// generation's tree keeps its place (cursors count places) and is never
// served.
type feedItem struct {
	vn    *videoNode // nil: not in the tree
	score float64
	// The reason, resolved: kind, the video and folder it names (nil when it
	// names none, or one the tree does not hold: no viewer could be told of
	// it) and the audience label. A "because you watched" reason whose video
	// is not in the tree is already the ReasonForYou it would be shown as.
	kind     rank.ReasonKind
	rv       *videoNode
	rf       *folderNode
	audience string

	// frag is the item's FeedVideo encoding for a viewer who may see what
	// its reason names (then the words do not depend on the viewer), made on
	// first use.
	frag fragment
}

// reason is the item's reason as stored (ids, not nodes).
func (it *feedItem) reason() rank.Reason {
	r := rank.Reason{Kind: it.kind, Audience: it.audience}
	if it.rv != nil {
		r.VideoID = it.rv.v.VimeoID
	}
	if it.rf != nil {
		r.FolderID = it.rf.ref.ID
	}
	return r
}

// newStoredFeed resolves f against the generation ct. Strings that would
// keep the source's buffers alive (reason kinds and audience labels decoded
// from one Redis value) are copied.
func newStoredFeed(ct *content_, version int64, f *rank.Feed, read time.Time) *storedFeed {
	sf := &storedFeed{ct: weak.Make(ct), version: version, read: read}
	if f == nil {
		return sf
	}
	sf.computed, sf.gen = f.ComputedAt, feedGen(f)
	sf.items = make([]feedItem, len(f.Items))
	audience := ""
	for i, it := range f.Items {
		fi := &sf.items[i]
		fi.vn = ct.video(it.VideoID)
		fi.score = it.Score
		r := it.Reason
		fi.kind = internKind(r.Kind)
		switch r.Kind {
		case "":
			fi.kind = rank.ReasonForYou
			continue
		case rank.ReasonWatched:
			if fi.rv = ct.video(r.VideoID); fi.rv == nil {
				fi.kind = rank.ReasonForYou
				continue
			}
		}
		if r.FolderID != "" {
			fi.rf = ct.folders[r.FolderID]
		}
		if r.Audience != "" {
			if r.Audience != audience {
				audience = strings.Clone(r.Audience)
			}
			fi.audience = audience
		}
	}
	return sf
}

var reasonKinds = []rank.ReasonKind{rank.ReasonContinue, rank.ReasonWatched, rank.ReasonPopular, rank.ReasonNew,
	rank.ReasonCompletion, rank.ReasonForYou}

func internKind(k rank.ReasonKind) rank.ReasonKind {
	for _, c := range reasonKinds {
		if c == k {
			return c
		}
	}
	return rank.ReasonKind(strings.Clone(string(k)))
}

// feedCache keeps the stored feeds of the users served last (least recently
// served out first, one at a time: it is never emptied at once). A feed is
// dropped when FeedChanges announces its user; a read that began before the
// announcement is served but not kept, so an old feed never outlives the
// announcement of the new one. Users whose feed is empty (none computed
// yet) cost a couple of hundred bytes instead of kilobytes, so they are
// kept apart, in a list of their own bounded at emptyPerFeed times the
// users with feeds: a service whose users mostly have no feed yet (a new
// deployment, a process without a ranking pipeline) then reads each one
// once per FeedMaxAge instead of on almost every home page once its users
// outnumber MaxCachedFeeds. Safe for concurrent use.
type feedCache struct {
	max    int // users with a feed
	maxAge time.Duration

	mu     sync.Mutex
	ll     list.List                // of *feedCacheEntry with items, most recently served first
	empty  list.List                // of *feedCacheEntry without items, most recently served first
	byUser map[string]*list.Element // user id → element (of ll or empty)
	reads  map[string]*feedRead     // reads in flight, by user
	// epoch counts the announcements that any feed may have changed; a
	// feed kept in an earlier epoch is read again on its next use.
	epoch uint64
}

// emptyPerFeed is how many users without a feed the cache keeps per user
// with one it may keep.
const emptyPerFeed = 16

type feedCacheEntry struct {
	user  string
	feed  *storedFeed
	epoch uint64
}

// feedRead is the reads of one user's feed in flight; changed is set when
// the user's feed changes meanwhile.
type feedRead struct {
	n       int
	changed bool
}

func newFeedCache(maxUsers int, maxAge time.Duration) *feedCache {
	return &feedCache{max: maxUsers, maxAge: maxAge, byUser: map[string]*list.Element{}, reads: map[string]*feedRead{}}
}

// listOf is the list an entry for f belongs in.
func (c *feedCache) listOf(f *storedFeed) *list.List {
	if len(f.items) == 0 {
		return &c.empty
	}
	return &c.ll
}

// remove drops the element e (of the list l) and its user.
func (c *feedCache) remove(l *list.List, e *list.Element) {
	l.Remove(e)
	delete(c.byUser, e.Value.(*feedCacheEntry).user)
}

// get returns the user's cached feed if it was read for this generation and
// is fresh.
func (c *feedCache) get(user string, ct *content_, version int64, now time.Time) *storedFeed {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byUser[user]
	if !ok {
		return nil
	}
	en := e.Value.(*feedCacheEntry)
	f := en.feed
	if f.ct != weak.Make(ct) || f.version != version || now.Sub(f.read) >= c.maxAge || en.epoch != c.epoch {
		return nil
	}
	c.listOf(f).MoveToFront(e)
	return f
}

// begin registers a read of the user's feed; end with done.
func (c *feedCache) begin(user string) *feedRead {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reads[user]
	if r == nil {
		r = &feedRead{}
		c.reads[user] = r
	}
	r.n++
	return r
}

// done ends a read begun with begin and keeps f, unless the user's feed
// changed while it was read (f is nil when the read failed).
func (c *feedCache) done(user string, r *feedRead, f *storedFeed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.n--; r.n == 0 && c.reads[user] == r {
		delete(c.reads, user)
	}
	if f == nil || r.changed {
		return
	}
	if e, ok := c.byUser[user]; ok {
		c.remove(c.listOf(e.Value.(*feedCacheEntry).feed), e)
	}
	l := c.listOf(f)
	c.byUser[user] = l.PushFront(&feedCacheEntry{user: user, feed: f, epoch: c.epoch})
	bound := c.max
	if l == &c.empty {
		bound = emptyPerFeed * c.max
	}
	for l.Len() > bound {
		c.remove(l, l.Back())
	}
}

// changed drops the user's feed; "" marks every cached feed to be read
// again on its next use.
func (c *feedCache) changed(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if user == "" {
		c.epoch++
		for _, r := range c.reads {
			r.changed = true
		}
		return
	}
	if e, ok := c.byUser[user]; ok {
		c.remove(c.listOf(e.Value.(*feedCacheEntry).feed), e)
	}
	if r := c.reads[user]; r != nil {
		r.changed = true
	}
}

// followFeedChanges applies Options.FeedChanges to the feed cache until ctx
// is done (Run).
func (s *Service) followFeedChanges(ctx context.Context) (stop func()) {
	if s.feeds == nil || s.opts.FeedChanges == nil {
		return func() {}
	}
	ch, stopSub := s.opts.FeedChanges.Subscribe(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for user := range ch {
			s.feeds.changed(user)
		}
		if ctx.Err() == nil {
			s.log.Warn("feed change subscription closed; cached feeds are read again after FeedMaxAge")
		}
	}()
	return func() {
		stopSub()
		<-done
	}
}

// storedFeed returns the viewer's stored feed for the generation st: from
// the feed cache, or read from Options.Feeds (nil, nil without a source or
// user; an empty feed when the user has none yet).
func (s *Service) storedFeed(ctx context.Context, st *state, userID string) (*storedFeed, error) {
	if s.opts.Feeds == nil || userID == "" {
		return nil, nil
	}
	now := s.opts.Now()
	if s.feeds != nil {
		if f := s.feeds.get(userID, st.content_, st.content, now); f != nil {
			return f, nil
		}
	}
	var r *feedRead
	if s.feeds != nil {
		r = s.feeds.begin(userID)
	}
	f, err := s.opts.Feeds.RankedFeed(ctx, userID, st.content)
	var sf *storedFeed
	switch {
	case err == nil:
		sf = newStoredFeed(st.content_, st.content, f, now)
	case errors.Is(err, rank.ErrNoFeed):
		sf, err = newStoredFeed(st.content_, st.content, nil, now), nil
	}
	if r != nil {
		if sf != nil {
			sf.kept = true
		}
		s.feeds.done(userID, r, sf)
	}
	return sf, err
}
