package library

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	return entitle.NewAudience(v.UserID, v.Roles, v.Segments)
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
	ck := CacheKey{Kind: CacheRoot, Role: roleOf(aud), ProfileHash: profileHash(akey, st.ent), Version: st.content}
	if b := s.sharedGet(ctx, ck); b != nil {
		cache.put(key, b)
		return b, nil
	}
	b, err := encode(s.home(st, st.idx.Visible(aud)))
	if err != nil {
		return nil, err
	}
	cache.put(key, b)
	s.sharedSet(ck, b)
	return b, nil
}

func (s *Service) home(st *state, view *entitle.View) *Home {
	h := &Home{Folders: []FolderSummary{}, Videos: []VideoSummary{}, Rows: []Row{}, Version: st.version}
	for _, r := range st.roots {
		for _, c := range r.children {
			if view.Folder(c.ref.ID) {
				h.Folders = append(h.Folders, summarize(c, view))
			}
		}
		for _, vn := range r.videos {
			if view.Video(vn.v.VimeoID) {
				h.Videos = append(h.Videos, vn.summary())
			}
		}
	}
	if n := s.opts.RecentlyAdded; n > 0 {
		row := Row{Kind: RowRecentlyAdded, Title: "Recently added", Videos: make([]VideoSummary, 0, n)}
		for _, vn := range st.recent() {
			if len(row.Videos) == n {
				break
			}
			if view.Video(vn.v.VimeoID) {
				row.Videos = append(row.Videos, vn.summary())
			}
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

func summarize(n *folderNode, view *entitle.View) FolderSummary {
	fs := FolderSummary{ID: n.ref.ID, Name: n.ref.Name}
	for _, c := range n.children {
		if view.Folder(c.ref.ID) {
			fs.FolderCount++
		}
	}
	for _, vn := range n.videos {
		if view.Video(vn.v.VimeoID) {
			fs.VideoCount++
		}
	}
	return fs
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
	if !view.Folder(folderID) {
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
	if !view.Folder(folderID) {
		return nil, fmt.Errorf("%w: folder %s", ErrNotFound, folderID)
	}
	akey := st.idx.CacheKey(aud)
	lim := strconv.Itoa(limit)
	key := "f|" + folderID + "|" + cursor + "|" + lim + "|" + akey
	cache := st.cache.Load()
	if b := cache.get(key); b != nil {
		return b, nil
	}
	ck := CacheKey{Kind: CacheFolder, ID: folderID, Role: roleOf(aud),
		ProfileHash: profileHash(akey, st.ent, cursor, lim), Version: st.content}
	if b := s.sharedGet(ctx, ck); b != nil {
		cache.put(key, b)
		return b, nil
	}
	b, err := encode(folderPage(st, n, view, cur, limit))
	if err != nil {
		return nil, err
	}
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

func folderPage(st *state, n *folderNode, view *entitle.View, cur cursor, limit int) *FolderPage {
	p := &FolderPage{
		Folder: n.ref, Breadcrumb: n.crumbs, Folders: []FolderSummary{}, Videos: []VideoSummary{},
		Version: st.version,
	}
	if p.Breadcrumb == nil {
		p.Breadcrumb = []FolderRef{}
	}
	fs := make([]*folderNode, 0, len(n.children))
	for _, c := range n.children {
		if view.Folder(c.ref.ID) {
			fs = append(fs, c)
		}
	}
	vs := make([]*videoNode, 0, len(n.videos))
	for _, vn := range n.videos {
		if view.Video(vn.v.VimeoID) {
			vs = append(vs, vn)
		}
	}
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
	off = min(off, total)
	end := min(off+limit, total)
	for i := off; i < end; i++ {
		if i < len(fs) {
			p.Folders = append(p.Folders, summarize(fs[i], view))
		} else {
			p.Videos = append(p.Videos, vs[i-len(fs)].summary())
		}
	}
	if end < total {
		p.NextCursor = cursor{offset: end, last: item(end - 1)}.encode()
	}
	return p
}

// ---- Video

// Video returns a video's detail after checking that the viewer may see it
// (ErrNotFound otherwise, and for unknown ids; ErrInvalid for malformed ids).
func (s *Service) Video(ctx context.Context, v Viewer, videoID string) (*VideoDetail, error) {
	st, vn, view, err := s.checkVideo(v, videoID)
	if err != nil {
		return nil, err
	}
	return videoDetail(st, vn, visibleFolder(vn, view)), nil
}

// VideoJSON is Video encoded. The access check runs on every call; the
// encoding is cached per video and generation.
func (s *Service) VideoJSON(ctx context.Context, v Viewer, videoID string) (*Body, error) {
	st, vn, view, err := s.checkVideo(v, videoID)
	if err != nil {
		return nil, err
	}
	f := visibleFolder(vn, view)
	key := "v|" + videoID + "|"
	if f != nil {
		key += f.ref.ID
	}
	cache := st.cache.Load()
	if b := cache.get(key); b != nil {
		return b, nil
	}
	b, err := encode(videoDetail(st, vn, f))
	if err != nil {
		return nil, err
	}
	cache.put(key, b)
	return b, nil
}

func (s *Service) checkVideo(v Viewer, videoID string) (*state, *videoNode, *entitle.View, error) {
	if !ValidID(videoID) {
		return nil, nil, nil, fmt.Errorf("%w: malformed video id", ErrInvalid)
	}
	st, err := s.current()
	if err != nil {
		return nil, nil, nil, err
	}
	view := st.idx.Visible(audienceOf(v))
	vn := st.videos[videoID]
	if vn == nil || !view.Video(videoID) {
		return nil, nil, nil, fmt.Errorf("%w: video %s", ErrNotFound, videoID)
	}
	return st, vn, view, nil
}

// visibleFolder is the first folder the video is placed in that the viewer
// may see (with one placement per video, its folder).
func visibleFolder(vn *videoNode, view *entitle.View) *folderNode {
	for _, f := range vn.folders {
		if view.Folder(f.ref.ID) {
			return f
		}
	}
	return nil
}

func videoDetail(st *state, vn *videoNode, f *folderNode) *VideoDetail {
	d := &VideoDetail{
		ID: vn.v.VimeoID, Title: vn.v.Title, Description: vn.v.Description, ThumbnailURL: vn.v.ThumbnailURL,
		DurationSeconds: vn.v.DurationSeconds, CreatedAt: vn.v.CreatedAt, ModifiedAt: vn.v.ModifiedAt,
		Breadcrumb: []FolderRef{}, Version: st.version,
	}
	if f != nil {
		ref := f.ref
		d.Folder = &ref
		d.Breadcrumb = append(d.Breadcrumb, f.crumbs...)
		if !f.root {
			d.Breadcrumb = append(d.Breadcrumb, f.ref)
		}
	}
	return d
}

// ---- Playback

// Playback returns the player embed of a video after the same access check
// as Video. With Options.Auditor set, the decision is recorded; an allowed
// playback whose record fails is refused with ErrUnavailable.
func (s *Service) Playback(ctx context.Context, v Viewer, videoID string) (*Playback, error) {
	_, vn, _, err := s.checkVideo(v, videoID)
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
	st, vn, _, err := s.checkVideo(v, videoID)
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
	if s.opts.Auditor == nil || !ValidID(videoID) || (checkErr != nil && !isNotFound(checkErr)) {
		return nil
	}
	rec := AccessRecord{Action: "playback", UserID: v.UserID, VideoID: videoID, Allowed: checkErr == nil, Time: s.opts.Now()}
	if err := s.opts.Auditor.RecordAccess(ctx, rec); err != nil {
		if rec.Allowed {
			return fmt.Errorf("%w: audit playback: %w", ErrUnavailable, err)
		}
		s.log.Warn("audit of a denied playback failed", zap.String("video_id", videoID), zap.Error(err))
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

func profileHash(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = fmt.Fprint(h, p, "\x00")
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
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
