package api

import (
	"net/http"
	"strconv"
	"sync"

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
	limit, ok := pageLimit(w, r)
	if !ok {
		return
	}
	buf := feedBuffers.Get().(*[]byte)
	defer feedBuffers.Put(buf)
	js, err := s.lib.AppendFeedJSON(r.Context(), (*buf)[:0], v, q.Get("cursor"), limit)
	*buf = js[:0] // keep the grown buffer
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	h["Content-Length"] = []string{strconv.Itoa(len(js))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(js)
}

// feedBuffers are the encoding buffers of GET /feed: a page is written
// from one and the buffer is reused, so a request allocates no body.
var feedBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// Header values shared by every feed answer (net/http only reads them).
var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{cacheNone}
)

// rankedRow is the home's ranked_for_you row as JSON, nil when the viewer
// has no stored feed.
func (s *Server) rankedRow(r *http.Request, v library.Viewer) []byte {
	row, err := s.lib.AppendRankedRowJSON(r.Context(), nil, v, rankedRowSize)
	if err != nil {
		s.log.Warn("ranked row unavailable", zap.Error(err))
		return nil
	}
	return row
}
