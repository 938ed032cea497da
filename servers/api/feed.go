package api

import (
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/library"
)

// rankedRowSize is how many videos the home's ranked_for_you row holds.
const rankedRowSize = 20

// feed is GET /feed: a page of the viewer's stored ranked feed, with
// reasons, filtered against the current snapshot (library.Service.Feed).
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	q := r.URL.Query()
	limit := 0
	if ls := q.Get("limit"); ls != "" {
		n, err := strconv.Atoi(ls)
		if err != nil || n <= 0 {
			writeError(w, r, http.StatusBadRequest, "invalid_argument", "limit must be a positive integer")
			return
		}
		limit = n
	}
	js, err := s.lib.FeedJSON(r.Context(), v, q.Get("cursor"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheNone)
	h.Set("Content-Length", strconv.Itoa(len(js)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(js)
}

// rankedRow is the home's ranked_for_you row as JSON, nil when the viewer
// has no stored feed.
func (s *Server) rankedRow(r *http.Request, v library.Viewer) []byte {
	page, err := s.lib.Feed(r.Context(), v, "", rankedRowSize)
	if err != nil {
		s.log.Warn("ranked row unavailable", zap.Error(err))
		return nil
	}
	if len(page.Videos) == 0 {
		return nil
	}
	row := struct {
		Kind   string              `json:"kind"`
		Title  string              `json:"title"`
		Videos []library.FeedVideo `json:"videos"`
	}{library.RowRankedForYou, "For you", page.Videos}
	js, err := jsonMarshal(row)
	if err != nil {
		return nil
	}
	return js
}
