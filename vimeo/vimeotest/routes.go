package vimeotest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	ctUser   = "application/vnd.vimeo.user+json"
	ctFolder = "application/vnd.vimeo.folder+json"
	ctVideo  = "application/vnd.vimeo.video+json"
	ctItem   = "application/vnd.vimeo.project.item+json"
)

// route dispatches a request already authenticated, counted and past the chaos.
func (s *Server) route(w http.ResponseWriter, r *http.Request, segs []string) {
	uid := strconv.FormatInt(s.acct.userID, 10)
	n := len(segs)
	switch {
	case n >= 1 && segs[0] == "apps":
		s.routeWebhooks(w, r, segs)
		return
	case n == 2 && segs[0] == "videos":
		s.routeVideo(w, r, segs[1])
		return
	case n < 2 || segs[0] != "users":
		s.notFound(w, "page")
		return
	case segs[1] != uid:
		s.writeError(w, apiErr{http.StatusNotFound, 5000, "The requested user couldn't be found.", "No such user exists.", nil})
		return
	}
	rest := segs[2:]
	get := r.Method == http.MethodGet
	switch {
	case len(rest) == 0:
		if !get {
			s.methodNotAllowed(w)
			return
		}
		s.acct.mu.RLock()
		defer s.acct.mu.RUnlock()
		s.writeJSON(w, r, http.StatusOK, ctUser, s.r.user(parseFields(r.URL.Query().Get("fields"))))
	case len(rest) == 1 && (rest[0] == "projects" || rest[0] == "folders"):
		switch r.Method {
		case http.MethodGet:
			s.listFolders(w, r, rest[0] == "projects" && s.opts.TopLevelProjectsOnly)
		case http.MethodPost:
			s.createFolder(w, r)
		default:
			s.methodNotAllowed(w)
		}
	case len(rest) == 2 && rest[0] == "folders" && rest[1] == "root":
		if !get {
			s.methodNotAllowed(w)
			return
		}
		s.listItems(w, r, 0)
	case len(rest) == 1 && rest[0] == "videos":
		if !get {
			s.methodNotAllowed(w)
			return
		}
		s.listUserVideos(w, r)
	case len(rest) >= 2 && (rest[0] == "projects" || rest[0] == "folders"):
		id, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			s.notFound(w, "folder")
			return
		}
		s.routeFolder(w, r, id, rest[2:])
	default:
		s.notFound(w, "page")
	}
}

// folderGate checks that folder id exists and is readable; it writes the error
// otherwise. Call under the account's read lock.
func (s *Server) folderGate(w http.ResponseWriter, id int64) bool {
	if s.acct.folders[id] == nil {
		s.notFound(w, "folder")
		return false
	}
	if s.acct.blockedLocked(id) {
		s.forbidden(w, "folder")
		return false
	}
	return true
}

func (s *Server) routeFolder(w http.ResponseWriter, r *http.Request, id int64, rest []string) {
	switch {
	case len(rest) == 0:
		switch r.Method {
		case http.MethodGet:
			s.acct.mu.RLock()
			defer s.acct.mu.RUnlock()
			if !s.folderGate(w, id) {
				return
			}
			s.writeJSON(w, r, http.StatusOK, ctFolder, s.r.folder(s.acct.folders[id], parseFields(r.URL.Query().Get("fields"))))
		case http.MethodPatch:
			s.patchFolder(w, r, id)
		case http.MethodDelete:
			s.deleteFolder(w, r, id)
		default:
			s.methodNotAllowed(w)
		}
	case len(rest) == 1 && rest[0] == "items":
		if r.Method != http.MethodGet {
			s.methodNotAllowed(w)
			return
		}
		s.listItems(w, r, id)
	case len(rest) == 1 && rest[0] == "videos":
		switch r.Method {
		case http.MethodGet:
			s.listFolderVideos(w, r, id)
		case http.MethodPut, http.MethodDelete:
			s.batchVideos(w, r, id)
		default:
			s.methodNotAllowed(w)
		}
	case len(rest) == 2 && rest[0] == "videos":
		vid, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			s.notFound(w, "video")
			return
		}
		s.putVideo(w, r, id, vid)
	default:
		s.notFound(w, "page")
	}
}

// listFolders serves the flat folder list: every folder the token can see,
// nested ones included (or top-level only).
func (s *Server) listFolders(w http.ResponseWriter, r *http.Request, topOnly bool) {
	q := r.URL.Query()
	sortBy, dir := q.Get("sort"), q.Get("direction")
	if !validSorts["projects"][sortBy] || (dir != "" && dir != "asc" && dir != "desc") {
		s.writeError(w, apiErr{http.StatusBadRequest, 2201, "You have provided an invalid parameter.", "Invalid sort or direction.", nil})
		return
	}
	query := strings.ToLower(q.Get("query"))
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	var es []entry
	for _, f := range s.acct.folders {
		if s.acct.hiddenLocked(f.ID) || (topOnly && f.ParentID != 0) {
			continue
		}
		if query != "" && !strings.Contains(strings.ToLower(f.Name), query) {
			continue
		}
		es = append(es, s.acct.entryOfFolder(f))
	}
	if sortBy == "" || sortBy == "default" {
		sortBy = "date"
	}
	sortEntries(es, sortBy, dir)
	fs := parseFields(q.Get("fields"))
	s.collection(w, r, ctFolder, len(es), 0, func(start, end int) []any {
		out := make([]any, 0, end-start)
		for _, e := range es[start:end] {
			out = append(out, s.r.folder(s.acct.folders[e.id], fs))
		}
		return out
	})
}

// listItems serves /items of folder id (0: /folders/root).
func (s *Server) listItems(w http.ResponseWriter, r *http.Request, id int64) {
	q := r.URL.Query()
	sortBy, dir, filt := q.Get("sort"), q.Get("direction"), q.Get("filter")
	if !validSorts["items"][sortBy] || (dir != "" && dir != "asc" && dir != "desc") ||
		(filt != "" && filt != "folder" && filt != "video" && filt != "live_event") {
		s.writeError(w, apiErr{http.StatusBadRequest, 2201, "You have provided an invalid parameter.", "Invalid sort, direction or filter.", nil})
		return
	}
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	if id != 0 && !s.folderGate(w, id) {
		return
	}
	var es []entry
	if filt != "live_event" {
		es = s.acct.childrenLocked(id, filt, sortBy, dir)
	}
	fs := parseFields(q.Get("fields"))
	s.collection(w, r, ctItem, len(es), 0, func(start, end int) []any {
		out := make([]any, 0, end-start)
		for _, e := range es[start:end] {
			out = append(out, s.r.item(e, fs))
		}
		return out
	})
}

// listFolderVideos serves a folder's videos, with include_subfolders=true the
// whole readable subtree's.
func (s *Server) listFolderVideos(w http.ResponseWriter, r *http.Request, id int64) {
	q := r.URL.Query()
	sortBy, dir := q.Get("sort"), q.Get("direction")
	if !validSorts["items"][sortBy] || (dir != "" && dir != "asc" && dir != "desc") {
		s.writeError(w, apiErr{http.StatusBadRequest, 2201, "You have provided an invalid parameter.", "Invalid sort or direction.", nil})
		return
	}
	deep := q.Get("include_subfolders") == "true"
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	if !s.folderGate(w, id) {
		return
	}
	var es []entry
	var collect func(f int64)
	collect = func(f int64) {
		for v := range s.acct.vids[f] {
			es = append(es, s.acct.entryOfVideo(s.acct.videos[v]))
		}
		if deep {
			for c := range s.acct.subs[f] {
				if !s.acct.folders[c].Revoked {
					collect(c)
				}
			}
		}
	}
	collect(id)
	if sortBy == "" || sortBy == "default" {
		sortBy = "date"
	}
	sortEntries(es, sortBy, dir)
	fs := parseFields(q.Get("fields"))
	s.collection(w, r, ctVideo, len(es), 0, func(start, end int) []any {
		out := make([]any, 0, end-start)
		for _, e := range es[start:end] {
			out = append(out, s.r.video(s.acct.videos[e.id], fs, s.opts.ParentKeyInLists))
		}
		return out
	})
}

func (s *Server) lastModified(t time.Time) string {
	if s.opts.LastModifiedEpoch {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return t.UTC().Format(http.TimeFormat)
}

func parseIMS(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// listUserVideos serves /users/{uid}/videos with If-Modified-Since → 304.
func (s *Server) listUserVideos(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sortBy, dir := q.Get("sort"), q.Get("direction")
	if !validSorts["videos"][sortBy] || (dir != "" && dir != "asc" && dir != "desc") {
		s.writeError(w, apiErr{http.StatusBadRequest, 2201, "You have provided an invalid parameter.", "Invalid sort or direction.", nil})
		return
	}
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	lm := s.acct.lastVideo
	w.Header().Set("Last-Modified", s.lastModified(lm))
	if ims, ok := parseIMS(r.Header.Get("If-Modified-Since")); ok && !lm.After(ims) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var es []entry
	for _, v := range s.acct.videos {
		if v.FolderID != 0 && s.acct.blockedLocked(v.FolderID) {
			continue
		}
		if q.Get("filter") == "playable" && v.Status != "available" {
			continue
		}
		es = append(es, s.acct.entryOfVideo(v))
	}
	if sortBy == "" || sortBy == "default" {
		sortBy = "date"
	}
	sortEntries(es, sortBy, dir)
	forcePage := 0
	if cu := q.Get("containing_uri"); cu != "" {
		id, _ := strconv.ParseInt(strings.SplitN(strings.TrimPrefix(cu, "/videos/"), ":", 2)[0], 10, 64)
		_, perPage, ok := s.pageParams(w, q)
		if !ok {
			return
		}
		for i, e := range es {
			if e.id == id {
				forcePage = i/perPage + 1
			}
		}
	}
	fs := parseFields(q.Get("fields"))
	s.collection(w, r, ctVideo, len(es), forcePage, func(start, end int) []any {
		out := make([]any, 0, end-start)
		for _, e := range es[start:end] {
			out = append(out, s.r.video(s.acct.videos[e.id], fs, s.opts.ParentKeyInLists))
		}
		return out
	})
}

// routeVideo serves GET and DELETE /videos/{id} and /videos/{id}:{hash}.
func (s *Server) routeVideo(w http.ResponseWriter, r *http.Request, ref string) {
	idStr, hash, _ := strings.Cut(ref, ":")
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		s.notFound(w, "video")
		return
	}
	if r.Method == http.MethodDelete {
		if err := s.acct.DeleteVideo(id); err != nil {
			s.notFound(w, "video")
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet {
		s.methodNotAllowed(w)
		return
	}
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	v := s.acct.videos[id]
	if v == nil || (hash != "" && hash != v.Hash) {
		s.notFound(w, "video")
		return
	}
	if v.FolderID != 0 && s.acct.blockedLocked(v.FolderID) {
		s.forbidden(w, "video")
		return
	}
	s.writeJSON(w, r, http.StatusOK, ctVideo, s.r.video(v, parseFields(r.URL.Query().Get("fields")), true))
}

// ----- mutation routes -----

func (s *Server) folderIDFromURI(uri string) (int64, bool) {
	i := strings.LastIndex(uri, "/projects/")
	if i < 0 {
		i = strings.LastIndex(uri, "/folders/")
		if i < 0 {
			return 0, false
		}
		uri = uri[i+len("/folders/"):]
	} else {
		uri = uri[i+len("/projects/"):]
	}
	id, err := strconv.ParseInt(strings.Trim(uri, "/"), 10, 64)
	return id, err == nil
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	name := body["name"]
	if strings.TrimSpace(name) == "" {
		s.writeError(w, invalidParam("name", "The parameter \"name\" is required."))
		return
	}
	var parent int64
	if p := body["parent_folder_uri"]; p != "" {
		id, ok := s.folderIDFromURI(p)
		if !ok {
			s.writeError(w, invalidParam("parent_folder_uri", "The parent folder URI is invalid."))
			return
		}
		parent = id
	}
	if parent != 0 {
		s.acct.mu.RLock()
		ok := s.folderGate(w, parent)
		s.acct.mu.RUnlock()
		if !ok {
			return
		}
	}
	id, err := s.acct.CreateFolder(parent, name)
	if err != nil {
		s.writeError(w, invalidParam("parent_folder_uri", err.Error()))
		return
	}
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	s.writeJSON(w, r, http.StatusCreated, ctFolder, s.r.folder(s.acct.folders[id], nil))
}

func (s *Server) patchFolder(w http.ResponseWriter, r *http.Request, id int64) {
	s.acct.mu.RLock()
	ok := s.folderGate(w, id)
	s.acct.mu.RUnlock()
	if !ok {
		return
	}
	body := readBody(r)
	if name, has := body["name"]; has {
		if strings.TrimSpace(name) == "" {
			s.writeError(w, invalidParam("name", "The parameter \"name\" cannot be empty."))
			return
		}
		if err := s.acct.RenameFolder(id, name); err != nil {
			s.notFound(w, "folder")
			return
		}
	}
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	s.writeJSON(w, r, http.StatusOK, ctFolder, s.r.folder(s.acct.folders[id], nil))
}

func (s *Server) deleteFolder(w http.ResponseWriter, r *http.Request, id int64) {
	s.acct.mu.RLock()
	ok := s.folderGate(w, id)
	s.acct.mu.RUnlock()
	if !ok {
		return
	}
	if err := s.acct.DeleteFolder(id, r.URL.Query().Get("should_delete_clips") == "true"); err != nil {
		s.notFound(w, "folder")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) putVideo(w http.ResponseWriter, r *http.Request, folderID, videoID int64) {
	if r.Method != http.MethodPut && r.Method != http.MethodDelete {
		s.methodNotAllowed(w)
		return
	}
	s.acct.mu.RLock()
	ok := s.folderGate(w, folderID)
	v := s.acct.videos[videoID]
	s.acct.mu.RUnlock()
	if !ok {
		return
	}
	if v == nil || (r.Method == http.MethodDelete && v.FolderID != folderID) {
		s.notFound(w, "video")
		return
	}
	target := folderID
	if r.Method == http.MethodDelete {
		target = 0
	}
	if err := s.acct.MoveVideo(videoID, target); err != nil {
		s.notFound(w, "video")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// batchVideos serves PUT|DELETE /projects/{pid}/videos?uris=/videos/1,/videos/2.
func (s *Server) batchVideos(w http.ResponseWriter, r *http.Request, folderID int64) {
	uris := strings.Split(r.URL.Query().Get("uris"), ",")
	var ids []int64
	for _, u := range uris {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		id, err := strconv.ParseInt(strings.SplitN(strings.TrimPrefix(u, "/videos/"), ":", 2)[0], 10, 64)
		if err != nil {
			s.writeError(w, invalidParam("uris", "Invalid video URI "+u+"."))
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		s.writeError(w, invalidParam("uris", "The parameter \"uris\" is required."))
		return
	}
	s.acct.mu.RLock()
	ok := s.folderGate(w, folderID)
	missing := false
	for _, id := range ids {
		if s.acct.videos[id] == nil {
			missing = true
		}
	}
	s.acct.mu.RUnlock()
	if !ok {
		return
	}
	if missing {
		s.notFound(w, "video")
		return
	}
	deleteClips := r.URL.Query().Get("should_delete_clips") == "true"
	for _, id := range ids {
		var err error
		switch {
		case r.Method == http.MethodPut:
			err = s.acct.MoveVideo(id, folderID)
		case deleteClips:
			err = s.acct.DeleteVideo(id)
		default:
			err = s.acct.MoveVideo(id, 0)
		}
		if err != nil {
			s.notFound(w, "video")
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
