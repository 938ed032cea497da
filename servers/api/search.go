package api

import (
	"net/http"

	"github.com/vidlib/vidlib/library"
)

// search is GET /search?q=…[&folder=…][&cursor=…][&limit=…]: the viewer's
// entitled videos and folders that match q, best first, with highlighted
// snippets (library.Service.Search). A folder the viewer may not see is a
// 404, as for GET /folders/{id}.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	q := r.URL.Query()
	sq := library.SearchQuery{Q: q.Get("q"), FolderID: q.Get("folder"), Cursor: q.Get("cursor")}
	limit, ok := pageLimit(w, r)
	if !ok {
		return
	}
	sq.Limit = limit
	b, err := s.lib.SearchJSON(r.Context(), v, sq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeBody(w, r, b, cachePrivate)
}
