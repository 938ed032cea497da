package library

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/entitle"
)

// current returns the loaded generation or ErrNotReady.
func (s *Service) current() (*state, error) {
	st := s.cur.Load()
	if st == nil {
		return nil, ErrNotReady
	}
	return st, nil
}

func audienceOf(v Viewer) entitle.Audience {
	if v.Anonymous {
		return entitle.Anonymous()
	}
	return entitle.NewAudience(v.UserID, v.Roles, v.Segments)
}

// PublicEnabled reports whether the loaded generation has a rule for the
// "public" subject: only then may a server answer anonymous viewers (who
// see nothing else). False until a generation is loaded.
func (s *Service) PublicEnabled() bool {
	st := s.cur.Load()
	return st != nil && st.idx.HasPublic()
}

func (s *Service) pageSize(limit int) (int, error) {
	switch {
	case limit == 0:
		return s.opts.PageSize, nil
	case limit < 0 || limit > s.opts.MaxPageSize:
		return 0, fmt.Errorf("%w: limit must be between 1 and %d", ErrInvalid, s.opts.MaxPageSize)
	}
	return limit, nil
}

// ---- Home

// Home returns the viewer's start page.
func (s *Service) Home(ctx context.Context, v Viewer) (*Home, error) {
	st, err := s.current()
	if err != nil {
		return nil, err
	}
	return s.home(st, st.idx.Visible(audienceOf(v))), nil
}

// HomeJSON is Home encoded, cached per audience and generation (in process,
// and in Options.Cache under library:root:… for other instances).
func (s *Service) HomeJSON(ctx context.Context, v Viewer) (*Body, error) {
	st, err := s.current()
	if err != nil {
		return nil, err
	}
	aud := audienceOf(v)
	akey := st.idx.CacheKey(aud)
	key := "h|" + akey
	cache := st.cache.Load()
	if b := cache.get(key); b != nil {
		return b, nil
	}
	var ck CacheKey
	if s.opts.Cache != nil {
		ck = CacheKey{Kind: CacheRoot, Role: roleOf(aud), ProfileHash: profileHash(akey, st.ent), Version: st.content}
		if b := s.sharedGet(ctx, ck); b != nil {
			cache.put(key, b)
			return b, nil
		}
	}
	b := newBody(s.homeJSON(st, st.idx.Visible(aud)))
	cache.put(key, b)
	s.sharedSet(ck, b)
	return b, nil
}

// homeJSON is json.Marshal(s.home(…)), made from fragments.
func (s *Service) homeJSON(st *state, view *entitle.View) []byte {
	b := make([]byte, 0, 4096)
	b = append(b, `{"folders":[`...)
	sep := false
	for _, r := range st.roots {
		for _, c := range r.children {
			if view.FolderAt(c.pos) {
				b = appendSep(b, &sep)
				b = appendVisibleSummary(b, st.content_, c, view)
			}
		}
	}
	b = append(b, `],"videos":[`...)
	sep = false
	for _, r := range st.roots {
		for _, vn := range st.list(r).videos {
			if vn = st.cur(vn); view.ListedAt(vn.pos) {
				b = appendSep(b, &sep)
				b = appendListed(b, vn, view)
			}
		}
	}
	b = append(b, `],"rows":[`...)
	if n := s.opts.RecentlyAdded; n > 0 {
		b = append(b, `{"kind":"`+RowRecentlyAdded+`","title":"Recently added","videos":[`...)
		sep, count := false, 0
		for _, vn := range st.recent() {
			if count == n {
				break
			}
			if vn = st.cur(vn); view.ListedAt(vn.pos) {
				b = appendSep(b, &sep)
				b = appendListed(b, vn, view)
				count++
			}
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"version":`...)
	b = appendJSONString(b, st.version)
	return append(b, '}')
}

// appendSep appends a comma before every element but the first.
func appendSep(b []byte, sep *bool) []byte {
	if *sep {
		b = append(b, ',')
	}
	*sep = true
	return b
}

func (s *Service) home(st *state, view *entitle.View) *Home {
	h := &Home{Folders: []FolderSummary{}, Videos: []VideoSummary{}, Rows: []Row{}, Version: st.version}
	for _, r := range st.roots {
		for _, c := range r.children {
			if view.FolderAt(c.pos) {
				h.Folders = append(h.Folders, summarize(st.content_, c, view))
			}
		}
		for _, vn := range st.list(r).videos {
			if vn = st.cur(vn); view.ListedAt(vn.pos) {
				h.Videos = append(h.Videos, listedSummary(vn, view))
			}
		}
	}
	if n := s.opts.RecentlyAdded; n > 0 {
		row := Row{Kind: RowRecentlyAdded, Title: "Recently added", Videos: make([]VideoSummary, 0, n)}
		for _, vn := range st.recent() {
			if len(row.Videos) == n {
				break
			}
			if vn = st.cur(vn); view.ListedAt(vn.pos) {
				row.Videos = append(row.Videos, listedSummary(vn, view))
			}
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

func summarize(c *content_, n *folderNode, view *entitle.View) FolderSummary {
	folders, videos := visibleCounts(c, n, view)
	fs := FolderSummary{ID: n.ref.ID, Name: n.ref.Name, FolderCount: folders, VideoCount: videos}
	if vn := c.cover(n, view); vn != nil {
		fs.Cover = &Cover{VideoID: vn.v.VimeoID, Thumbnails: vn.thumbnails()}
	}
	return fs
}

// visibleCounts counts what the view shows directly inside the folder
// (locked videos included: they are listed).
func visibleCounts(c *content_, n *folderNode, view *entitle.View) (folders, videos int) {
	for _, f := range n.children {
		if view.FolderAt(f.pos) {
			folders++
		}
	}
	for _, vn := range c.list(n).videos {
		if view.ListedAt(c.cur(vn).pos) {
			videos++
		}
	}
	return folders, videos
}

// ---- Folder

// Folder returns one page of a folder the viewer may see: ErrNotFound for a
// folder that does not exist or that they may not see, ErrInvalid for a
// malformed id, cursor or limit (0 means Options.PageSize).
func (s *Service) Folder(ctx context.Context, v Viewer, folderID, cursor string, limit int) (*FolderPage, error) {
	st, n, cur, limit, err := s.folderArgs(folderID, cursor, limit)
	if err != nil {
		return nil, err
	}
	view := st.idx.Visible(audienceOf(v))
	if !view.FolderAt(n.pos) {
		return nil, fmt.Errorf("%w: folder %s", ErrNotFound, folderID)
	}
	return folderPage(st, n, view, cur, limit), nil
}

// FolderJSON is Folder encoded, cached per folder, audience, page and
// generation (in process, and in Options.Cache under folder:{id}:…).
func (s *Service) FolderJSON(ctx context.Context, v Viewer, folderID, cursor string, limit int) (*Body, error) {
	st, n, cur, limit, err := s.folderArgs(folderID, cursor, limit)
	if err != nil {
		return nil, err
	}
	aud := audienceOf(v)
	view := st.idx.Visible(aud)
	if !view.FolderAt(n.pos) {
		return nil, fmt.Errorf("%w: folder %s", ErrNotFound, folderID)
	}
	akey := st.idx.CacheKey(aud)
	lim := strconv.Itoa(limit)
	key := "f|" + folderID + "|" + cursor + "|" + lim + "|" + akey
	cache := st.cache.Load()
	if b := cache.get(key); b != nil {
		return b, nil
	}
	var ck CacheKey
	if s.opts.Cache != nil {
		ck = CacheKey{Kind: CacheFolder, ID: folderID, Role: roleOf(aud),
			ProfileHash: profileHash(akey, st.ent, cursor, lim), Version: st.content}
		if b := s.sharedGet(ctx, ck); b != nil {
			cache.put(key, b)
			return b, nil
		}
	}
	b := newBody(folderPageJSON(st, n, view, cur, limit))
	cache.put(key, b)
	s.sharedSet(ck, b)
	return b, nil
}

func (s *Service) folderArgs(folderID, cursorArg string, limit int) (*state, *folderNode, cursor, int, error) {
	var c cursor
	if !ValidID(folderID) {
		return nil, nil, c, 0, fmt.Errorf("%w: malformed folder id", ErrInvalid)
	}
	c, err := decodeCursor(cursorArg)
	if err != nil {
		return nil, nil, c, 0, err
	}
	limit, err = s.pageSize(limit)
	if err != nil {
		return nil, nil, c, 0, err
	}
	st, err := s.current()
	if err != nil {
		return nil, nil, c, 0, err
	}
	n := st.folders[folderID]
	if n == nil {
		return nil, nil, c, 0, fmt.Errorf("%w: folder %s", ErrNotFound, folderID)
	}
	return st, n, c, limit, nil
}

// listing is the part of a folder page that the view decides: the visible
// subfolders and videos, and the range of them on the page.
type listing struct {
	folders    []*folderNode
	videos     []*videoNode
	off, end   int
	nextCursor string
}

func listFolder(c *content_, n *folderNode, view *entitle.View, cur cursor, limit int) listing {
	var l listing
	l.folders = make([]*folderNode, 0, len(n.children))
	for _, c := range n.children {
		if view.FolderAt(c.pos) {
			l.folders = append(l.folders, c)
		}
	}
	placed := c.list(n).videos
	l.videos = make([]*videoNode, 0, len(placed))
	for _, vn := range placed {
		if vn = c.cur(vn); view.ListedAt(vn.pos) {
			l.videos = append(l.videos, vn)
		}
	}
	fs, vs := l.folders, l.videos
	total := len(fs) + len(vs)
	item := func(i int) string {
		if i < len(fs) {
			return "f" + fs[i].ref.ID
		}
		return "v" + vs[i-len(fs)].v.VimeoID
	}
	off := cur.offset
	if off > 0 && (off > total || item(off-1) != cur.last) {
		for i := range total { // the listing moved: continue after the last item if it is still here
			if item(i) == cur.last {
				off = i + 1
				break
			}
		}
	}
	l.off = min(off, total)
	l.end = min(l.off+limit, total)
	if l.end < total {
		l.nextCursor = cursor{offset: l.end, last: item(l.end - 1)}.encode()
	}
	return l
}

func folderPage(st *state, n *folderNode, view *entitle.View, cur cursor, limit int) *FolderPage {
	p := &FolderPage{
		Folder: n.ref, Breadcrumb: n.crumbs(), Folders: []FolderSummary{}, Videos: []VideoSummary{},
		Version: st.version,
	}
	if p.Breadcrumb == nil {
		p.Breadcrumb = []FolderRef{}
	}
	l := listFolder(st.content_, n, view, cur, limit)
	for i := l.off; i < l.end; i++ {
		if i < len(l.folders) {
			p.Folders = append(p.Folders, summarize(st.content_, l.folders[i], view))
		} else {
			p.Videos = append(p.Videos, listedSummary(l.videos[i-len(l.folders)], view))
		}
	}
	p.NextCursor = l.nextCursor
	return p
}

// folderPageJSON is json.Marshal(folderPage(…)), made from fragments.
func folderPageJSON(st *state, n *folderNode, view *entitle.View, cur cursor, limit int) []byte {
	l := listFolder(st.content_, n, view, cur, limit)
	b := make([]byte, 0, 256+160*(l.end-l.off))
	b = append(b, `{"folder":`...)
	b = append(b, n.refJSON()...)
	b = append(b, `,"breadcrumb":`...)
	b = append(b, n.crumbsJSON()...)
	b = append(b, `,"folders":[`...)
	vstart := max(l.off, len(l.folders))
	for i := l.off; i < min(l.end, len(l.folders)); i++ {
		if i > l.off {
			b = append(b, ',')
		}
		b = appendVisibleSummary(b, st.content_, l.folders[i], view)
	}
	b = append(b, `],"videos":[`...)
	for i := vstart; i < l.end; i++ {
		if i > vstart {
			b = append(b, ',')
		}
		b = appendListed(b, l.videos[i-len(l.folders)], view)
	}
	b = append(b, ']')
	if l.nextCursor != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendJSONString(b, l.nextCursor)
	}
	b = append(b, `,"version":`...)
	b = appendJSONString(b, st.version)
	return append(b, '}')
}

// appendVisibleSummary appends summarize(c, n, view) encoded.
func appendVisibleSummary(b []byte, c *content_, n *folderNode, view *entitle.View) []byte {
	folders, videos := visibleCounts(c, n, view)
	return appendSummary(b, n, folders, videos, c.cover(n, view))
}

// ---- Video

// Video returns a video's detail after checking that the viewer may see it
// (ErrNotFound otherwise, and for unknown ids; ErrInvalid for malformed ids).
// A video a teaser lists has a detail, Locked with its reason.
func (s *Service) Video(ctx context.Context, v Viewer, videoID string) (*VideoDetail, error) {
	st, vn, view, err := s.checkVideo(v, videoID, false)
	if err != nil {
		return nil, err
	}
	d := videoDetail(st, vn, visibleFolder(vn, view))
	if reason, ok := view.LockedAt(vn.pos); ok {
		d.Locked, d.LockReason = true, string(reason)
	}
	return d, nil
}

// VideoJSON is Video encoded. The access check runs on every call; the
// encoding is cached per video, folder, lock and generation.
func (s *Service) VideoJSON(ctx context.Context, v Viewer, videoID string) (*Body, error) {
	st, vn, view, err := s.checkVideo(v, videoID, false)
	if err != nil {
		return nil, err
	}
	f := visibleFolder(vn, view)
	key := "v|" + videoID + "|"
	if f != nil {
		key += f.ref.ID
	}
	reason, locked := view.LockedAt(vn.pos)
	if locked {
		key += "|" + string(reason)
	}
	cache := st.cache.Load()
	if b := cache.get(key); b != nil {
		return b, nil
	}
	js := videoDetailJSON(st, vn, f)
	if locked {
		js = appendLock(js[:len(js)-1], reason)
	}
	b := newBody(js)
	cache.put(key, b)
	return b, nil
}

// checkVideo finds a video the viewer may see: listed (locked or not) for a
// detail, watchable for playback (a locked one is then a *LockedError).
func (s *Service) checkVideo(v Viewer, videoID string, play bool) (*state, *videoNode, *entitle.View, error) {
	if !ValidID(videoID) {
		return nil, nil, nil, fmt.Errorf("%w: malformed video id", ErrInvalid)
	}
	st, err := s.current()
	if err != nil {
		return nil, nil, nil, err
	}
	view := st.idx.Visible(audienceOf(v))
	vn := st.video(videoID)
	switch {
	case vn == nil || !view.ListedAt(vn.pos):
		return nil, nil, nil, fmt.Errorf("%w: video %s", ErrNotFound, videoID)
	case play && !view.VideoAt(vn.pos):
		reason, _ := view.LockedAt(vn.pos)
		return nil, nil, nil, &LockedError{VideoID: videoID, Reason: string(reason)}
	}
	return st, vn, view, nil
}

// visibleFolder is the first folder the video is placed in that the viewer
// may see (with one placement per video, its folder).
func visibleFolder(vn *videoNode, view *entitle.View) *folderNode {
	for _, f := range vn.folders {
		if view.FolderAt(f.pos) {
			return f
		}
	}
	return nil
}

func videoDetail(st *state, vn *videoNode, f *folderNode) *VideoDetail {
	d := &VideoDetail{
		ID: vn.v.VimeoID, Title: vn.v.Title, Description: vn.v.Description, ThumbnailURL: vn.v.ThumbnailURL,
		Thumbnails: vn.thumbnails(), DurationSeconds: vn.v.DurationSeconds, CreatedAt: vn.v.CreatedAt, ModifiedAt: vn.v.ModifiedAt,
		Breadcrumb: []FolderRef{}, Version: st.version,
	}
	if f != nil {
		ref := f.ref
		d.Folder = &ref
		d.Breadcrumb = f.appendCrumbs(d.Breadcrumb)
		if !f.root {
			d.Breadcrumb = append(d.Breadcrumb, f.ref)
		}
	}
	return d
}

// videoDetailJSON is json.Marshal(videoDetail(…)), made from fragments.
func videoDetailJSON(st *state, vn *videoNode, f *folderNode) []byte {
	v := vn.v
	b := appendVideoFields(make([]byte, 0, 512+len(v.Description)), v, true)
	b = appendJSONTime(b, `,"modified_at":`, v.ModifiedAt)
	if f == nil {
		b = append(b, `,"breadcrumb":[]`...)
	} else {
		b = append(b, `,"folder":`...)
		b = append(b, f.refJSON()...)
		b = append(b, `,"breadcrumb":`...)
		crumbs := f.crumbsJSON()
		if f.root {
			b = append(b, crumbs...)
		} else { // the folder's own crumbs, then the folder
			if f.hasCrumbs() {
				b = append(b, crumbs[:len(crumbs)-1]...)
				b = append(b, ',')
			} else {
				b = append(b, '[')
			}
			b = append(b, f.refJSON()...)
			b = append(b, ']')
		}
	}
	b = append(b, `,"version":`...)
	b = appendJSONString(b, st.version)
	return append(b, '}')
}

// ---- Playback

// Playback returns the player embed of a video after the same access check
// as Video; a video a teaser lists locked is refused with a *LockedError
// (ErrLocked). With Options.Auditor set, the decision is recorded; an allowed
// playback whose record fails is refused with ErrUnavailable.
func (s *Service) Playback(ctx context.Context, v Viewer, videoID string) (*Playback, error) {
	_, vn, _, err := s.checkVideo(v, videoID, true)
	if aerr := s.auditPlayback(ctx, v, videoID, err); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	return playback(vn), nil
}

// PlaybackJSON is Playback encoded.
func (s *Service) PlaybackJSON(ctx context.Context, v Viewer, videoID string) (*Body, error) {
	st, vn, _, err := s.checkVideo(v, videoID, true)
	if aerr := s.auditPlayback(ctx, v, videoID, err); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	key := "p|" + videoID
	cache := st.cache.Load()
	if b := cache.get(key); b != nil {
		return b, nil
	}
	b, err := encode(playback(vn))
	if err != nil {
		return nil, err
	}
	cache.put(key, b)
	return b, nil
}

func (s *Service) auditPlayback(ctx context.Context, v Viewer, videoID string, checkErr error) error {
	return s.auditAccess(ctx, "playback", v, videoID, checkErr)
}

// auditAccess records an access decision with Options.Auditor.
func (s *Service) auditAccess(ctx context.Context, action string, v Viewer, videoID string, checkErr error) error {
	if s.opts.Auditor == nil || !ValidID(videoID) || (checkErr != nil && !isNotFound(checkErr) && !errors.Is(checkErr, ErrLocked)) {
		return nil
	}
	rec := AccessRecord{Action: action, UserID: v.UserID, VideoID: videoID, Allowed: checkErr == nil, Time: s.opts.Now()}
	if err := s.opts.Auditor.RecordAccess(ctx, rec); err != nil {
		if rec.Allowed {
			return fmt.Errorf("%w: audit %s: %w", ErrUnavailable, action, err)
		}
		s.log.Warn("audit of a denied access failed", zap.String("action", action), zap.String("video_id", videoID), zap.Error(err))
	}
	return nil
}

func playback(vn *videoNode) *Playback {
	u := "https://player.vimeo.com/video/" + vn.v.VimeoID
	if vn.v.EmbedKey != "" {
		u += "?h=" + url.QueryEscape(vn.v.EmbedKey)
	}
	embed := `<iframe src="` + html.EscapeString(u) + `" width="640" height="360" frameborder="0"` +
		` allow="autoplay; fullscreen; picture-in-picture" allowfullscreen title="` + html.EscapeString(vn.v.Title) + `"></iframe>`
	return &Playback{VideoID: vn.v.VimeoID, EmbedURL: u, EmbedHTML: embed}
}

// ---- Me

// Me returns the viewer as the backend sees them. It needs no generation.
func (s *Service) Me(_ context.Context, v Viewer) (*Me, error) {
	m := &Me{User: MeUser{ID: v.UserID, Email: v.Email, Name: v.Name}, Roles: v.Roles, Segments: v.Segments}
	if m.Roles == nil {
		m.Roles = []string{}
	}
	if m.Segments == nil {
		m.Segments = map[string]string{}
	}
	return m, nil
}

// MeJSON is Me encoded.
func (s *Service) MeJSON(ctx context.Context, v Viewer) (*Body, error) {
	m, _ := s.Me(ctx, v)
	return encode(m)
}

// ---- shared cache

func roleOf(a entitle.Audience) string {
	r := a.Roles()
	if len(r) == 0 {
		return "-"
	}
	return strings.Join(r, "+")
}

// profileHash hashes the audience key, the entitlement version and, for
// folder pages, the cursor and page size, each followed by a NUL.
func profileHash(akey string, ent int64, page ...string) string {
	buf := make([]byte, 0, 128)
	buf = append(append(buf, akey...), 0)
	buf = append(strconv.AppendInt(buf, ent, 10), 0)
	for _, p := range page {
		buf = append(append(buf, p...), 0)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}

func (s *Service) sharedGet(ctx context.Context, k CacheKey) *Body {
	if s.opts.Cache == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.CacheTimeout)
	defer cancel()
	js, err := s.opts.Cache.Get(ctx, k)
	if err != nil {
		s.log.Debug("shared cache get failed", zap.Error(err))
		return nil
	}
	if len(js) == 0 {
		return nil
	}
	return newBody(js)
}

// sharedSet writes behind, never delaying the answer; when too many writes
// are in flight the entry is skipped.
func (s *Service) sharedSet(k CacheKey, b *Body) {
	if s.opts.Cache == nil {
		return
	}
	select {
	case s.setSem <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-s.setSem }()
		ctx, cancel := context.WithTimeout(context.Background(), 4*s.opts.CacheTimeout)
		defer cancel()
		if err := s.opts.Cache.Set(ctx, k, b.JSON); err != nil {
			s.log.Debug("shared cache set failed", zap.Error(err))
		}
	}()
}
