package library

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/rank"
)

// FeedSource gives a user's stored ranked feed, or rank.ErrNoFeed. The
// content version is the one the Service serves; a source keyed by version
// (store/redisstore) misses when the feed was computed for another, a source
// that keeps the last feed (store/pgstore) ignores it. FeedChain puts them
// in order.
type FeedSource interface {
	RankedFeed(ctx context.Context, userID string, contentVersion int64) (*rank.Feed, error)
}

// FeedChain asks each source in turn and returns the first feed found: the
// Redis cache with PostgreSQL behind it. An error other than rank.ErrNoFeed
// from a source is remembered and the next source is asked; it is returned
// only if no source has a feed.
func FeedChain(sources ...FeedSource) FeedSource { return feedChain(sources) }

type feedChain []FeedSource

func (c feedChain) RankedFeed(ctx context.Context, userID string, version int64) (*rank.Feed, error) {
	var firstErr error
	for _, s := range c {
		if s == nil {
			continue
		}
		f, err := s.RankedFeed(ctx, userID, version)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, rank.ErrNoFeed) && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, rank.ErrNoFeed
}

// FeedVideo is a video of a ranked feed with the reason it is there.
type FeedVideo struct {
	VideoSummary
	Score      float64         `json:"score"`
	Reason     string          `json:"reason"`
	ReasonKind rank.ReasonKind `json:"reason_kind"`
}

// FeedPage is one page of the viewer's ranked feed. ComputedAt is when the
// feed was ranked (zero while none is stored: Videos is then empty).
type FeedPage struct {
	Videos     []FeedVideo `json:"videos"`
	NextCursor string      `json:"next_cursor,omitempty"`
	ComputedAt time.Time   `json:"computed_at,omitzero"`
	Version    string      `json:"version"`
}

// Feed returns a page of the viewer's stored ranked feed (Options.Feeds),
// filtered against the current snapshot and entitlements: a video the viewer
// may no longer see, or that left the library, is skipped at once, and a
// reason never names what the viewer may not see. Nothing is ranked here.
// Without Options.Feeds, or before the viewer's feed is computed, the page
// is empty.
func (s *Service) Feed(ctx context.Context, v Viewer, cursorArg string, limit int) (*FeedPage, error) {
	page := &FeedPage{Videos: []FeedVideo{}}
	m, err := s.feedWalk(ctx, v, cursorArg, limit, func(st *state, sf *storedFeed, view *entitle.View, it *feedItem) {
		r := it.reason().In(view)
		page.Videos = append(page.Videos, FeedVideo{VideoSummary: it.vn.summary(), Score: it.score,
			Reason: r.Text(st.snap, view), ReasonKind: r.Kind})
	})
	if err != nil {
		return nil, err
	}
	page.NextCursor, page.ComputedAt, page.Version = m.next, m.computed, m.st.version
	return page, nil
}

// FeedJSON is Feed encoded (the bytes json.Marshal gives), without
// reflection.
func (s *Service) FeedJSON(ctx context.Context, v Viewer, cursorArg string, limit int) ([]byte, error) {
	return s.AppendFeedJSON(ctx, nil, v, cursorArg, limit)
}

// AppendFeedJSON appends FeedJSON's bytes to b (GET /feed, with a reused
// buffer). On an error b is returned unchanged.
func (s *Service) AppendFeedJSON(ctx context.Context, b []byte, v Viewer, cursorArg string, limit int) ([]byte, error) {
	n := len(b)
	b = append(b, `{"videos":[`...)
	first := true
	m, err := s.feedWalk(ctx, v, cursorArg, limit, func(st *state, sf *storedFeed, view *entitle.View, it *feedItem) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendFeedItem(b, st, sf, view, it)
	})
	if err != nil {
		return b[:n], err
	}
	b = append(b, ']')
	if m.next != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendJSONString(b, m.next)
	}
	b = appendJSONTime(b, `,"computed_at":`, m.computed)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, m.st.version)
	return append(b, '}'), nil
}

// RankedRowTitle is the title of the home's ranked_for_you row.
const RankedRowTitle = "For you"

// AppendRankedRowJSON appends the home's ranked_for_you row, the first n
// videos of the viewer's feed as Feed gives them:
// {"kind":"ranked_for_you","title":"For you","videos":[…]}. When the viewer
// has none to show, b is returned unchanged.
func (s *Service) AppendRankedRowJSON(ctx context.Context, b []byte, v Viewer, n int) ([]byte, error) {
	start := len(b)
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, RowRankedForYou)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, RankedRowTitle)
	b = append(b, `,"videos":[`...)
	count := 0
	_, err := s.feedWalk(ctx, v, "", n, func(st *state, sf *storedFeed, view *entitle.View, it *feedItem) {
		if count > 0 {
			b = append(b, ',')
		}
		count++
		b = appendFeedItem(b, st, sf, view, it)
	})
	if err != nil || count == 0 {
		return b[:start], err
	}
	return append(b, ']', '}'), nil
}

// appendFeedItem appends the item's FeedVideo object, with its reason as
// the viewer may be told it. When the viewer may see what the reason names,
// the words do not depend on the viewer and the item's kept encoding is
// used.
func appendFeedItem(b []byte, st *state, sf *storedFeed, view *entitle.View, it *feedItem) []byte {
	if sf.kept && (it.rv == nil || view.VideoAt(it.rv.pos)) && (it.rf == nil || view.FolderAt(it.rf.pos)) {
		return append(b, it.frag.get(func(b []byte) []byte { return encodeFeedItem(b, st, view, it) })...)
	}
	return encodeFeedItem(b, st, view, it)
}

func encodeFeedItem(b []byte, st *state, view *entitle.View, it *feedItem) []byte {
	sum := it.vn.summaryJSON()
	b = append(b, sum[:len(sum)-1]...)
	b = append(b, `,"score":`...)
	b = appendJSONFloat(b, it.score)
	r := it.reason().In(view)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, r.Text(st.snap, view))
	b = append(b, `,"reason_kind":`...)
	b = appendJSONString(b, string(r.Kind))
	return append(b, '}')
}

// feedMeta is what a page of a feed says besides its videos.
type feedMeta struct {
	st       *state
	next     string
	computed time.Time
}

// feedWalk calls each for the videos of one page of the viewer's stored
// feed that the viewer may see now, in order.
func (s *Service) feedWalk(ctx context.Context, v Viewer, cursorArg string, limit int,
	each func(st *state, sf *storedFeed, view *entitle.View, it *feedItem)) (feedMeta, error) {
	st, err := s.current()
	if err != nil {
		return feedMeta{}, err
	}
	limit, err = s.pageSize(limit)
	if err != nil {
		return feedMeta{}, err
	}
	cur, err := decodeFeedCursor(cursorArg)
	if err != nil {
		return feedMeta{}, err
	}
	m := feedMeta{st: st}
	sf, err := s.storedFeed(ctx, st, v.UserID)
	if err != nil {
		return feedMeta{}, fmt.Errorf("library: feed: %w", err)
	}
	if sf == nil {
		return m, nil
	}
	m.computed = sf.computed
	start := 0
	if cursorArg != "" {
		if sf.gen != 0 && cur.gen == sf.gen && cur.next <= len(sf.items) {
			start = cur.next
		} else { // the feed was recomputed: continue after the last video if it is still there
			for i := range sf.items {
				if vn := sf.items[i].vn; vn != nil && vn.v.VimeoID == cur.last {
					start = i + 1
					break
				}
			}
		}
	}
	view := st.idx.Visible(audienceOf(v))
	served := 0
	var last *videoNode
	i := start
	for ; i < len(sf.items) && served < limit; i++ {
		it := &sf.items[i]
		if it.vn == nil || !view.VideoAt(it.vn.pos) {
			continue
		}
		each(st, sf, view, it)
		served++
		last = it.vn
	}
	if i < len(sf.items) && last != nil {
		m.next = feedCursor{gen: sf.gen, next: i, last: last.v.VimeoID}.encode()
	}
	return m, nil
}

// appendJSONFloat appends f as encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // clean up e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// feedGen identifies a feed's computation; 0 when unknown (a cached feed),
// and then a cursor continues after the last video it served.
func feedGen(f *rank.Feed) int64 {
	if f.ComputedAt.IsZero() {
		return 0
	}
	return f.ComputedAt.UnixNano()
}

// feedCursor: the feed generation (its ComputedAt), the next index in it and
// the last video served (to continue in a recomputed feed).
type feedCursor struct {
	gen  int64
	next int
	last string
}

func (c feedCursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.gen, 10) + "." + strconv.Itoa(c.next) + "." + c.last))
}

func decodeFeedCursor(s string) (feedCursor, error) {
	if s == "" {
		return feedCursor{}, nil
	}
	bad := fmt.Errorf("%w: malformed cursor", ErrInvalid)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return feedCursor{}, bad
	}
	p := strings.SplitN(string(b), ".", 3)
	if len(p) != 3 {
		return feedCursor{}, bad
	}
	gen, err1 := strconv.ParseInt(p[0], 10, 64)
	next, err2 := strconv.Atoi(p[1])
	if err1 != nil || err2 != nil || next < 0 || p[2] == "" {
		return feedCursor{}, bad
	}
	return feedCursor{gen: gen, next: next, last: p[2]}, nil
}
