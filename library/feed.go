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

	"go.uber.org/zap"

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

// AudienceRecorder keeps the roles and segments each user is served with
// (store/pgstore: user_audiences), for the ranking pipeline, which ranks
// users offline: roles from identity-provider groups and segments from
// token claims exist only in tokens.
type AudienceRecorder interface {
	RecordAudience(ctx context.Context, userID string, roles []string, segments map[string]string) error
}

// noteAudience records the viewer's audience when it differs from the one
// this process last recorded for the user, in the background (a failure is
// logged and retried on the user's next request).
func (s *Service) noteAudience(v Viewer) {
	if s.opts.Audiences == nil || v.UserID == "" {
		return
	}
	key := audienceOf(v).Key()
	if prev, ok := s.audiences.Load(v.UserID); ok && prev.(string) == key {
		return
	}
	s.audiences.Store(v.UserID, key)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.opts.Audiences.RecordAudience(ctx, v.UserID, v.Roles, v.Segments); err != nil {
			s.audiences.Delete(v.UserID)
			s.log.Warn("audience not recorded", zap.String("user_id", v.UserID), zap.Error(err))
		}
	}()
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
	fp, err := s.feed(ctx, v, cursorArg, limit)
	if err != nil {
		return nil, err
	}
	page := &FeedPage{Videos: make([]FeedVideo, len(fp.nodes)), NextCursor: fp.next, ComputedAt: fp.computed, Version: fp.st.version}
	for i, vn := range fp.nodes {
		page.Videos[i] = FeedVideo{VideoSummary: vn.summary(), Score: fp.items[i].Score, Reason: fp.reasons[i].Text(fp.st.snap, fp.view),
			ReasonKind: fp.reasons[i].Kind}
	}
	return page, nil
}

// FeedJSON is Feed encoded (the bytes json.Marshal gives), without
// reflection: GET /feed.
func (s *Service) FeedJSON(ctx context.Context, v Viewer, cursorArg string, limit int) ([]byte, error) {
	fp, err := s.feed(ctx, v, cursorArg, limit)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 128+512*len(fp.nodes))
	b = append(b, `{"videos":[`...)
	for i, vn := range fp.nodes {
		if i > 0 {
			b = append(b, ',')
		}
		sum := vn.summaryJSON()
		b = append(b, sum[:len(sum)-1]...)
		b = append(b, `,"score":`...)
		b = appendJSONFloat(b, fp.items[i].Score)
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, fp.reasons[i].Text(fp.st.snap, fp.view))
		b = append(b, `,"reason_kind":`...)
		b = appendJSONString(b, string(fp.reasons[i].Kind))
		b = append(b, '}')
	}
	b = append(b, ']')
	if fp.next != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendJSONString(b, fp.next)
	}
	b = appendJSONTime(b, `,"computed_at":`, fp.computed)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, fp.st.version)
	return append(b, '}'), nil
}

// feedPage is one filtered page of a stored feed, before encoding.
type feedPage struct {
	st       *state
	view     *entitle.View
	nodes    []*videoNode
	items    []rank.Item
	reasons  []rank.Reason // as the viewer may be told them (rank.Reason.In)
	next     string
	computed time.Time
}

func (s *Service) feed(ctx context.Context, v Viewer, cursorArg string, limit int) (*feedPage, error) {
	st, err := s.current()
	if err != nil {
		return nil, err
	}
	limit, err = s.pageSize(limit)
	if err != nil {
		return nil, err
	}
	cur, err := decodeFeedCursor(cursorArg)
	if err != nil {
		return nil, err
	}
	s.noteAudience(v)
	fp := &feedPage{st: st}
	if s.opts.Feeds == nil || v.UserID == "" {
		return fp, nil
	}
	f, err := s.opts.Feeds.RankedFeed(ctx, v.UserID, st.content)
	if errors.Is(err, rank.ErrNoFeed) {
		return fp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("library: feed: %w", err)
	}
	fp.computed = f.ComputedAt
	start := 0
	if cursorArg != "" {
		if gen := feedGen(f); gen != 0 && cur.gen == gen && cur.next <= len(f.Items) {
			start = cur.next
		} else { // the feed was recomputed: continue after the last video if it is still there
			for i, it := range f.Items {
				if it.VideoID == cur.last {
					start = i + 1
					break
				}
			}
		}
	}
	fp.view = st.idx.Visible(audienceOf(v))
	n := min(limit, len(f.Items))
	fp.nodes, fp.items, fp.reasons = make([]*videoNode, 0, n), make([]rank.Item, 0, n), make([]rank.Reason, 0, n)
	i := start
	for ; i < len(f.Items) && len(fp.nodes) < limit; i++ {
		it := f.Items[i]
		vn := st.videos[it.VideoID]
		if vn == nil || !fp.view.VideoAt(vn.pos) {
			continue
		}
		fp.nodes = append(fp.nodes, vn)
		fp.items = append(fp.items, it)
		fp.reasons = append(fp.reasons, it.Reason.In(fp.view))
	}
	if i < len(f.Items) && len(fp.nodes) > 0 {
		fp.next = feedCursor{gen: feedGen(f), next: i, last: fp.nodes[len(fp.nodes)-1].v.VimeoID}.encode()
	}
	return fp, nil
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
