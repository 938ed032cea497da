package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/library"
)

// Limits of the progress routes.
const (
	defaultProgressLimit = 20
	maxProgressLimit     = 100
	// continueCandidates bounds the progress rows read to fill one continue
	// watching answer: rows of videos the user may no longer see, or that
	// the resume rules leave out, are skipped at serve time.
	continueCandidates = 200
)

// ProgressVideo is a video with the viewer's progress on it.
type ProgressVideo struct {
	library.VideoSummary
	PositionSeconds float64   `json:"position_seconds"`
	ProgressRatio   float64   `json:"progress_ratio"`
	Completed       bool      `json:"completed"`
	LastWatchedAt   time.Time `json:"last_watched_at"`
}

// ProgressPage is GET /me/continue-watching and GET /me/history.
type ProgressPage struct {
	Videos     []ProgressVideo `json:"videos"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// pageLimit reads the optional ?limit= of a page, a positive integer (0
// when it is absent: the library's default); a bad one is answered 400 and
// ok is false.
func pageLimit(w http.ResponseWriter, r *http.Request) (limit int, ok bool) {
	ls := r.URL.Query().Get("limit")
	if ls == "" {
		return 0, true
	}
	n, err := strconv.Atoi(ls)
	if err != nil || n <= 0 {
		writeError(w, r, http.StatusBadRequest, "invalid_argument", "limit must be a positive integer")
		return 0, false
	}
	return n, true
}

func (s *Server) limitParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	ls := r.URL.Query().Get("limit")
	if ls == "" {
		return defaultProgressLimit, true
	}
	n, err := strconv.Atoi(ls)
	if err != nil || n <= 0 || n > maxProgressLimit {
		writeError(w, r, http.StatusBadRequest, "invalid_argument", "limit must be an integer from 1 to 100")
		return 0, false
	}
	return n, true
}

// visibleProgress turns progress rows into videos the viewer may see now
// (the current snapshot and entitlements decide), at most limit, keeping
// keep's (nil: all). ids are the rows' video ids.
func (s *Server) visibleProgress(ctx context.Context, v library.Viewer, ps []analytics.Progress, ids []string, limit int, keep func(analytics.Progress, float64) bool) ([]ProgressVideo, error) {
	out := []ProgressVideo{}
	if len(ps) == 0 || limit <= 0 {
		return out, nil
	}
	err := s.lib.VisibleVideos(ctx, v, ids, func(i int, d library.VideoSummary) bool {
		p := &ps[i]
		dur := float64(d.DurationSeconds)
		if keep != nil && !keep(*p, dur) {
			return true
		}
		ratio := p.Ratio
		if dur > 0 {
			ratio = min(1, p.Position/dur)
		}
		out = append(out, ProgressVideo{VideoSummary: d,
			PositionSeconds: p.Position, ProgressRatio: ratio, Completed: p.Completed, LastWatchedAt: p.LastEventAt})
		return len(out) < limit
	})
	return out, err
}

// unfinished returns the user's unfinished videos, up to continueCandidates
// of them, and whether that is all of them (an entry, not kept when made
// without a cache): from this instance's copy when
// the user's progress version has not changed since it was read, else from
// the ProgressStore (and kept). When the versions cannot be read the store
// answers and every copy is forgotten (bumps made meanwhile may be missed).
func (s *Server) unfinished(ctx context.Context, userID string) (*progressEntry, error) {
	a := &s.opts.Analytics
	c := s.progress
	var version string
	if c != nil {
		var err error
		if version, err = a.ProgressVersions.ProgressVersion(ctx, userID); err != nil {
			c.clear()
			if !c.down.Swap(true) {
				s.log.Warn("progress versions unreachable: progress is read from the store on every request", zap.Error(err))
			}
			c = nil
		} else {
			if c.down.Swap(false) {
				s.log.Info("progress versions reachable again")
			}
			if e := c.get(userID); e != nil && e.version == version {
				return e, nil
			}
		}
	}
	rows, err := a.Progress.Unfinished(ctx, userID, continueCandidates)
	if err != nil {
		return nil, err
	}
	e := newProgressEntry(version, rows, len(rows) < continueCandidates)
	if c != nil {
		c.put(userID, e)
	}
	return e, nil
}

// continueWatching is the viewer's continue-watching row.
func (s *Server) continueWatching(ctx context.Context, v library.Viewer, limit int) ([]ProgressVideo, error) {
	a := &s.opts.Analytics
	e, err := s.unfinished(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	return s.visibleProgress(ctx, v, e.rows, e.ids, limit, func(p analytics.Progress, dur float64) bool {
		return p.InProgress(dur, a.Rules)
	})
}

func (s *Server) getContinueWatching(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	limit, ok := s.limitParam(w, r)
	if !ok {
		return
	}
	vids, err := s.continueWatching(r.Context(), v, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ProgressPage{Videos: vids})
}

func (s *Server) dismissContinueWatching(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	id := chi.URLParam(r, "video_id")
	if _, err := s.lib.Video(r.Context(), v, id); err != nil {
		s.fail(w, r, err)
		return
	}
	a := &s.opts.Analytics
	err := a.Progress.DismissContinueWatching(r.Context(), v.UserID, id, a.Now())
	if errors.Is(err, analytics.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "not_found", "no such object")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.progress != nil {
		// Every instance's copy is stale now. Until the bump succeeds the
		// dismissal is stored but may not show elsewhere: the client is told
		// to retry (a dismissal is idempotent).
		s.progress.drop(v.UserID)
		if err := a.ProgressVersions.BumpProgress(r.Context(), v.UserID); err != nil {
			s.fail(w, r, fmt.Errorf("%w: bump progress version: %w", library.ErrUnavailable, err))
			return
		}
	}
	w.Header().Set("Cache-Control", cacheNone)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	limit, ok := s.limitParam(w, r)
	if !ok {
		return
	}
	var before time.Time
	var beforeVideo string
	if c := r.URL.Query().Get("cursor"); c != "" {
		var err error
		if before, beforeVideo, err = decodeHistoryCursor(c); err != nil {
			writeError(w, r, http.StatusBadRequest, "invalid_argument", "malformed cursor")
			return
		}
	}
	ps, err := s.opts.Analytics.Progress.History(r.Context(), v.UserID, before, beforeVideo, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vids, err := s.visibleProgress(r.Context(), v, ps, videoIDsOf(ps), limit, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := ProgressPage{Videos: vids}
	if len(ps) == limit {
		last := ps[len(ps)-1]
		page.NextCursor = encodeHistoryCursor(last.LastEventAt, last.VideoID)
	}
	writeJSON(w, http.StatusOK, page)
}

func encodeHistoryCursor(t time.Time, video string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + video))
}

func decodeHistoryCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, video, ok := strings.Cut(string(b), "|")
	if !ok || video == "" {
		return time.Time{}, "", errors.New("malformed cursor")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	return t, video, err
}

// withPersonal returns b with per-user JSON spliced in: fields added before
// the object's closing brace, or rows (comma-separated) added first in "rows":[. The entity
// tag changes with the added bytes.
func withPersonal(b *library.Body, fields, row []byte) *library.Body {
	js := b.JSON
	if len(row) > 0 {
		i := bytes.Index(js, []byte(`"rows":[`))
		if i >= 0 {
			i += len(`"rows":[`)
			var nb []byte
			nb = append(nb, js[:i]...)
			nb = append(nb, row...)
			if js[i] != ']' {
				nb = append(nb, ',')
			}
			js = append(nb, js[i:]...)
		}
	}
	if len(fields) > 0 {
		if i := bytes.LastIndexByte(js, '}'); i > 0 {
			var nb []byte
			nb = append(nb, js[:i]...)
			nb = append(nb, ',')
			nb = append(nb, fields...)
			js = append(nb, js[i:]...)
		}
	}
	if len(js) == len(b.JSON) {
		return b
	}
	h := fnv.New64a()
	_, _ = h.Write(fields)
	_, _ = h.Write(row)
	return &library.Body{JSON: js, ETag: strings.TrimSuffix(b.ETag, `"`) + "-" + strconv.FormatUint(h.Sum64(), 16) + `"`}
}

// continueRow is the home's continue_watching row as JSON, nil when
// analytics is off or nothing is in progress.
func (s *Server) continueRow(r *http.Request, v library.Viewer) []byte {
	if s.opts.Analytics.Progress == nil {
		return nil
	}
	vids, err := s.continueWatching(r.Context(), v, defaultProgressLimit)
	if err != nil {
		s.log.Warn("continue watching row unavailable", zap.Error(err))
		return nil
	}
	if len(vids) == 0 {
		return nil
	}
	row := struct {
		Kind   string          `json:"kind"`
		Title  string          `json:"title"`
		Videos []ProgressVideo `json:"videos"`
	}{library.RowContinueWatching, "Continue watching", vids}
	js, err := jsonMarshal(row)
	if err != nil {
		return nil
	}
	return js
}

// personalVideo adds the resume position to the video detail body.
func (s *Server) personalVideo(r *http.Request, v library.Viewer, videoID string, b *library.Body) *library.Body {
	if s.opts.Analytics.Progress == nil {
		return b
	}
	at := s.resumeAt(r.Context(), v, videoID)
	return withPersonal(b, []byte(`"resume_position_seconds":`+strconv.FormatFloat(at, 'f', -1, 64)), nil)
}
