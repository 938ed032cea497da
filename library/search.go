package library

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"html"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vidlib/vidlib/entitle"
)

// Result types of Search.
const (
	HitVideo  = "video"
	HitFolder = "folder"
)

// Highlight fields of Search.
const (
	FieldTitle       = "title"       // a video's title
	FieldTags        = "tags"        // a video's Vimeo tags, comma-separated
	FieldDescription = "description" // a window of a video's description
	FieldName        = "name"        // a folder's name
	FieldPath        = "path"        // the folder path: a video's folder and its ancestors, a folder's ancestors
)

// SearchPage is one page of search results: the videos and folders the
// viewer may see that match every word of the query, best first. Counts
// are of those visible matches only (in the scope, when one is given).
type SearchPage struct {
	Query      string       `json:"query"`
	Counts     SearchCounts `json:"counts"`
	Results    []SearchHit  `json:"results"`
	NextCursor string       `json:"next_cursor,omitempty"`
	Version    string       `json:"version"`
}

// SearchCounts are the numbers of visible matches.
type SearchCounts struct {
	Videos  int `json:"videos"`
	Folders int `json:"folders"`
}

// SearchHit is one result: a video or a folder, where it is (the visible
// folder path below the root: for a video its folder and that folder's
// ancestors, for a folder its ancestors), and the matched fields with the
// matches marked.
type SearchHit struct {
	Type       string         `json:"type"`
	Video      *VideoSummary  `json:"video,omitempty"`
	Folder     *FolderSummary `json:"folder,omitempty"`
	Breadcrumb []FolderRef    `json:"breadcrumb"`
	Highlights []Highlight    `json:"highlights"`
}

// Highlight is a matched field: Snippet is HTML (the text escaped, each
// match in <mark>…</mark>), the whole field or, for a description, a window
// around its first match, cut at "…".
type Highlight struct {
	Field   string `json:"field"`
	Snippet string `json:"snippet"`
}

// SearchQuery is what Search looks for.
type SearchQuery struct {
	Q        string // the text typed; required
	FolderID string // optional scope: only what is inside this folder
	Cursor   string // from the previous page's NextCursor
	Limit    int    // 0 means Options.PageSize
}

// Search finds what the viewer may see among video titles, Vimeo tags,
// descriptions and folder names and paths. Every word of the query must
// match (the last one as a prefix while it is being typed, long words with
// one typo allowed); results are ranked by where the words match (title,
// then tags, description, folder path) and how (exactly, as a prefix, with a
// typo), then newest first. It never calls Vimeo and answers only from the
// loaded generation; the index is built on a generation's first search.
//
// Errors: ErrInvalid for an empty or too long query, a malformed scope,
// cursor or limit; ErrNotFound for a scope folder the viewer may not see.
func (s *Service) Search(ctx context.Context, v Viewer, q SearchQuery) (*SearchPage, error) {
	if strings.TrimSpace(q.Q) == "" {
		return nil, fmt.Errorf("%w: q is required", ErrInvalid)
	}
	if len(q.Q) > maxQueryBytes {
		return nil, fmt.Errorf("%w: q is longer than %d bytes", ErrInvalid, maxQueryBytes)
	}
	if !utf8.ValidString(q.Q) {
		return nil, fmt.Errorf("%w: q is not UTF-8", ErrInvalid)
	}
	if q.FolderID != "" && !ValidID(q.FolderID) {
		return nil, fmt.Errorf("%w: malformed folder id", ErrInvalid)
	}
	limit, err := s.pageSize(q.Limit)
	if err != nil {
		return nil, err
	}
	words := parseQuery(q.Q)
	bind := searchBinding(words, q.FolderID)
	off, err := decodeSearchCursor(q.Cursor, bind)
	if err != nil {
		return nil, err
	}
	st, err := s.current()
	if err != nil {
		return nil, err
	}
	view := st.idx.Visible(audienceOf(v))
	var scope *folderNode
	if q.FolderID != "" {
		scope = st.folders[q.FolderID]
		if scope == nil || !view.FolderAt(scope.pos) {
			return nil, fmt.Errorf("%w: folder %s", ErrNotFound, q.FolderID)
		}
	}
	page := &SearchPage{Query: q.Q, Results: []SearchHit{}, Version: st.version}
	if len(words) == 0 {
		return page, nil // only punctuation: nothing matches
	}

	ix := st.searchIndex()
	sc, _ := ix.scratch.Get().(*scratch)
	if sc == nil {
		sc = newScratch(ix.docs(), len(ix.folders))
	}
	defer ix.scratch.Put(sc)
	nv := int32(len(ix.videos))
	ix.score(words, sc, func(d int32) bool {
		if d < nv {
			return view.VideoAt(ix.pos[d])
		}
		return view.FolderAt(ix.pos[d])
	})
	// Visit the matches in document order (the tie-break): sort a few,
	// or sweep the dense scores for many.
	if len(sc.cands)*8 < ix.docs() {
		slices.Sort(sc.cands)
	} else {
		sc.cands = sc.cands[:0]
		for d, t := range sc.total {
			if t != 0 {
				sc.cands = append(sc.cands, int32(d))
			}
		}
	}
	hits := sc.hits[:0]
	for _, d32 := range sc.cands {
		d := int(d32)
		if d < int(nv) {
			if !view.VideoAt(ix.pos[d]) || (scope != nil && !videoWithin(ix.video(d32), scope)) {
				continue
			}
			page.Counts.Videos++
		} else {
			if !view.FolderAt(ix.pos[d]) || (scope != nil && !strictlyWithin(ix.folders[d-int(nv)], scope)) {
				continue
			}
			page.Counts.Folders++
		}
		hits = append(hits, hit{doc: d32, score: sc.total[d]})
	}
	sc.reset()
	sc.hits = hits
	hits = rankHits(hits, sc.ranked)
	sc.ranked = hits
	off = min(off, len(hits))
	end := min(off+limit, len(hits))
	for _, h := range hits[off:end] {
		page.Results = append(page.Results, ix.describe(h.doc, words, view))
	}
	if end < len(hits) {
		page.NextCursor = encodeSearchCursor(end, bind)
	}
	return page, nil
}

// SearchJSON is Search encoded. Search answers are not cached: queries
// vary too much to repeat, and each is answered from the index (see
// BenchmarkSearch for its cost).
func (s *Service) SearchJSON(ctx context.Context, v Viewer, q SearchQuery) (*Body, error) {
	p, err := s.Search(ctx, v, q)
	if err != nil {
		return nil, err
	}
	return encode(p)
}

// videoWithin reports whether the video is placed in scope or below it.
func videoWithin(vn *videoNode, scope *folderNode) bool {
	for _, f := range vn.folders {
		for n := f; n != nil; n = n.parent {
			if n == scope {
				return true
			}
		}
	}
	return false
}

// strictlyWithin reports whether f is below scope.
func strictlyWithin(f, scope *folderNode) bool {
	for n := f.parent; n != nil; n = n.parent {
		if n == scope {
			return true
		}
	}
	return false
}

// describe makes the result of a document the view shows.
func (ix *searchIndex) describe(doc int32, words []qword, view *entitle.View) SearchHit {
	if int(doc) < len(ix.videos) {
		vn := ix.video(doc)
		sum := vn.summary()
		h := SearchHit{Type: HitVideo, Video: &sum, Breadcrumb: []FolderRef{}, Highlights: []Highlight{}}
		var f *folderNode
		for _, pf := range vn.folders {
			if view.FolderAt(pf.pos) {
				f = pf
				break
			}
		}
		if f != nil {
			h.Breadcrumb = f.appendCrumbs(h.Breadcrumb)
			if !f.root {
				h.Breadcrumb = append(h.Breadcrumb, f.ref)
			}
		}
		h.Highlights = appendHighlight(h.Highlights, FieldTitle, vn.v.Title, words, false)
		if len(vn.v.Tags) > 0 {
			h.Highlights = appendHighlight(h.Highlights, FieldTags, strings.Join(vn.v.Tags, ", "), words, false)
		}
		h.Highlights = appendHighlight(h.Highlights, FieldDescription, vn.v.Description, words, true)
		h.Highlights = appendHighlight(h.Highlights, FieldPath, pathText(h.Breadcrumb), words, false)
		return h
	}
	fn := ix.folders[int(doc)-len(ix.videos)]
	sum := summarize(ix.content, fn, view)
	h := SearchHit{Type: HitFolder, Folder: &sum, Breadcrumb: fn.appendCrumbs([]FolderRef{}), Highlights: []Highlight{}}
	h.Highlights = appendHighlight(h.Highlights, FieldName, fn.ref.Name, words, false)
	h.Highlights = appendHighlight(h.Highlights, FieldPath, pathText(h.Breadcrumb), words, false)
	return h
}

// pathText is a breadcrumb as one line.
func pathText(refs []FolderRef) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	return strings.Join(names, " / ")
}

// appendHighlight appends the field's highlight when a query word matches
// in it. A window keeps about 160 bytes around the first match.
func appendHighlight(hs []Highlight, field, text string, words []qword, window bool) []Highlight {
	spans := matchSpans(text, words)
	if len(spans) == 0 {
		return hs
	}
	from, to := 0, len(text)
	if window && len(text) > snippetBytes {
		from = wordStart(text, max(0, spans[0][0]-snippetBytes/4))
		to = wordEnd(text, min(len(text), from+snippetBytes))
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	at := from
	for _, sp := range spans {
		if sp[0] < at || sp[1] > to {
			continue
		}
		b.WriteString(html.EscapeString(text[at:sp[0]]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[sp[0]:sp[1]]))
		b.WriteString("</mark>")
		at = sp[1]
	}
	b.WriteString(html.EscapeString(text[at:to]))
	if to < len(text) {
		b.WriteString("…")
	}
	return append(hs, Highlight{Field: field, Snippet: b.String()})
}

const snippetBytes = 160

// wordStart moves i back to the start of the word it is in (a rune
// boundary in any case).
func wordStart(s string, i int) int {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	for j := i; j > 0 && j > i-24; {
		r, n := utf8.DecodeLastRuneInString(s[:j])
		if !isWordRune(r) {
			return j
		}
		j -= n
	}
	return i
}

// wordEnd moves i forward to the end of the word it is in.
func wordEnd(s string, i int) int {
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	for j := i; j < len(s) && j < i+24; {
		r, n := utf8.DecodeRuneInString(s[j:])
		if !isWordRune(r) {
			return j
		}
		j += n
	}
	return i
}

// matchSpans returns the byte ranges of text that match a query word, in
// order and without overlaps.
func matchSpans(text string, words []qword) [][2]int {
	var spans [][2]int
	tokenize(text, nil, func(t token) {
		if t.run {
			run := string(t.text)
			for _, w := range words {
				if !w.run {
					continue
				}
				for i := 0; ; {
					k := strings.Index(run[i:], w.text)
					if k < 0 {
						break
					}
					spans = append(spans, [2]int{t.start + i + k, t.start + i + k + len(w.text)})
					i += k + len(w.text)
				}
			}
			return
		}
		word := string(t.text)
		for _, w := range words {
			if !w.run && wordMatches(word, w) > 0 {
				spans = append(spans, [2]int{t.start, t.end})
				return
			}
		}
	})
	// Runs may yield spans out of order or overlapping: sort and merge.
	sortSpans(spans)
	out := spans[:0]
	for _, sp := range spans {
		if n := len(out); n > 0 && sp[0] < out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], sp[1])
			continue
		}
		out = append(out, sp)
	}
	return out
}

func sortSpans(spans [][2]int) {
	for i := 1; i < len(spans); i++ { // insertion sort: a handful of spans
		for j := i; j > 0 && spans[j][0] < spans[j-1][0]; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
}

// ---- cursors

// A search cursor is base64url of "s1|<offset>|<binding>", where the
// binding hashes the query's words and the scope, so that a cursor is only
// good for the search that made it. If the library changed between pages,
// the next page starts at the offset in the new ranking.
const searchCursorFormat = "s1"

func searchBinding(words []qword, scope string) string {
	h := fnv.New64a()
	for _, w := range words {
		h.Write([]byte(w.text))
		if w.prefix {
			h.Write([]byte{1})
		}
		h.Write([]byte{0})
	}
	h.Write([]byte(scope))
	return strconv.FormatUint(h.Sum64(), 36)
}

func encodeSearchCursor(off int, bind string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(searchCursorFormat + "|" + strconv.Itoa(off) + "|" + bind))
}

func decodeSearchCursor(s, bind string) (int, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 128 {
		return 0, fmt.Errorf("%w: cursor too long", ErrInvalid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != searchCursorFormat {
		return 0, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off <= 0 || off > 1<<30 || encodeSearchCursor(off, parts[2]) != s {
		return 0, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	if parts[2] != bind {
		return 0, fmt.Errorf("%w: the cursor belongs to another search", ErrInvalid)
	}
	return off, nil
}
