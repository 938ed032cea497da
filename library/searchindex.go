package library

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// The search index is an inverted index over one content generation, built
// on the first search (or in the background after a content rebuild), never
// on the snapshot's critical path, and shared by every generation with the
// same content: entitlement is applied to the matches at query time, as a
// bit test per match, like every other read.
//
// Documents are the videos (title, tags, description) and the folders below
// the roots (name, and the names of their ancestors as their path). A
// video's folder path is not copied into its postings: a folder that
// matches passes its match on to the videos placed in it.

// Fields, as bits in a posting, and their rank: a match in a higher-ranked
// field always scores above one in a lower-ranked field.
const (
	fieldTitle  = 1 << iota // a video's title, a folder's name
	fieldTags               // a video's Vimeo tags
	fieldDesc               // a video's description
	fieldFolder             // a folder's path: its ancestors' names (for a video, its folder's name and path)
)

func fieldRank(f uint8) uint8 {
	switch f {
	case fieldTitle:
		return 4
	case fieldTags:
		return 3
	case fieldDesc:
		return 2
	}
	return 1
}

// Match qualities: the word itself, a word it begins (the one being typed),
// a word one edit away.
const (
	qualTypo   = 1
	qualPrefix = 2
	qualExact  = 3
)

// score of a match of the given quality in the best of the fields.
func fieldScore(fields, qual uint8) uint8 {
	for _, f := range [...]uint8{fieldTitle, fieldTags, fieldDesc, fieldFolder} {
		if fields&f != 0 {
			return fieldRank(f)*4 + qual
		}
	}
	return 0
}

// posting is a document number and the fields a term occurs in:
// doc<<4 | fields.
type posting uint32

func (p posting) doc() int32    { return int32(p >> 4) }
func (p posting) fields() uint8 { return uint8(p & 0xf) }

type searchIndex struct {
	videos  []*videoNode  // documents 0 … len(videos)-1, newest first
	folders []*folderNode // documents len(videos) …, in tree order
	docOf   map[*videoNode]int32

	terms    []string // sorted
	postings [][]posting
	termID   map[string]int32
	runes    map[rune][]posting // spaceless-script characters (substring candidates)
	alphabet []rune             // the runes of the terms, for one-edit variants

	scratch sync.Pool // *scratch sized for this index
}

func (ix *searchIndex) docs() int { return len(ix.videos) + len(ix.folders) }

// buildSearchIndex indexes the content's playable placed videos and its
// non-root folders.
func buildSearchIndex(c *content_) *searchIndex {
	ix := &searchIndex{runes: map[rune][]posting{}}
	ix.videos = slices.Clone(c.recent()) // newest first: the tie-break among equal scores
	ix.docOf = make(map[*videoNode]int32, len(ix.videos))
	for i, vn := range ix.videos {
		ix.docOf[vn] = int32(i)
	}
	for _, r := range c.roots {
		ix.folders = appendSubtree(ix.folders, r.children)
	}

	ids := map[string]int32{}
	var terms []string
	var posts [][]posting
	var buf []byte
	add := func(doc int32, field uint8, text string) {
		buf = tokenize(text, buf, func(t token) {
			if t.run {
				for _, r := range string(t.text) {
					ix.runes[r] = addPosting(ix.runes[r], doc, field)
				}
				return
			}
			id, ok := ids[string(t.text)]
			if !ok {
				id = int32(len(terms))
				s := string(t.text)
				ids[s] = id
				terms = append(terms, s)
				posts = append(posts, nil)
			}
			posts[id] = addPosting(posts[id], doc, field)
		})
	}
	for i, vn := range ix.videos {
		doc := int32(i)
		add(doc, fieldTitle, vn.v.Title)
		for _, tag := range vn.v.Tags {
			add(doc, fieldTags, tag)
		}
		add(doc, fieldDesc, vn.v.Description)
	}
	for i, fn := range ix.folders {
		doc := int32(len(ix.videos) + i)
		add(doc, fieldTitle, fn.ref.Name)
		for _, c := range fn.crumbs {
			add(doc, fieldFolder, c.Name)
		}
	}

	// Sort the terms, so that the words a prefix begins are a range.
	order := make([]int32, len(terms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(terms[a], terms[b]) })
	ix.terms = make([]string, len(terms))
	ix.postings = make([][]posting, len(terms))
	ix.termID = make(map[string]int32, len(terms))
	seen := map[rune]bool{}
	for i, id := range order {
		ix.terms[i] = terms[id]
		ix.postings[i] = slices.Clip(posts[id])
		ix.termID[terms[id]] = int32(i)
		for _, r := range terms[id] {
			if !seen[r] {
				seen[r] = true
				ix.alphabet = append(ix.alphabet, r)
			}
		}
	}
	slices.Sort(ix.alphabet)
	return ix
}

// appendSubtree appends the folders and their subtrees, depth first in
// sibling order.
func appendSubtree(out []*folderNode, fs []*folderNode) []*folderNode {
	for _, f := range fs {
		out = append(out, f)
		out = appendSubtree(out, f.children)
	}
	return out
}

// addPosting records that doc has the term in field; documents are added in
// order, so a repeat is the last posting.
func addPosting(ps []posting, doc int32, field uint8) []posting {
	if n := len(ps); n > 0 && ps[n-1].doc() == doc {
		ps[n-1] |= posting(field)
		return ps
	}
	return append(ps, posting(doc)<<4|posting(field))
}

// ---- queries

// qword is one word of a query.
type qword struct {
	text   string // folded; for a run, as written
	run    bool   // spaceless script: matched by substring
	prefix bool   // the word being typed: words it begins match too
	typo   bool   // long enough for one edit
}

// Limits on a query.
const (
	maxQueryBytes = 256
	maxQueryWords = 12
	minPrefixLen  = 2 // a single typed letter matches only itself
	minTypoLen    = 5 // words of five or more letters tolerate one edit
)

// parseQuery cuts q into words. The last word is a prefix unless q ends
// with a space (the user finished typing it).
func parseQuery(q string) []qword {
	var ws []qword
	tokenize(q, nil, func(t token) {
		if len(ws) < maxQueryWords {
			ws = append(ws, qword{text: string(t.text), run: t.run})
		}
	})
	for i := range ws {
		n := utf8.RuneCountInString(ws[i].text)
		ws[i].typo = !ws[i].run && n >= minTypoLen
	}
	if n := len(ws); n > 0 && !ws[n-1].run {
		last := q[len(q)-1]
		ws[n-1].prefix = last != ' ' && last != '\t' && utf8.RuneCountInString(ws[n-1].text) >= minPrefixLen
	}
	return ws
}

// matchTerms returns the terms w matches, each with its best quality.
func (ix *searchIndex) matchTerms(w qword) map[int32]uint8 {
	out := map[int32]uint8{}
	note := func(id int32, q uint8) {
		if out[id] < q {
			out[id] = q
		}
	}
	if id, ok := ix.termID[w.text]; ok {
		note(id, qualExact)
	}
	if w.prefix {
		lo, hi := ix.prefixRange(w.text)
		for id := lo; id < hi; id++ {
			note(id, qualPrefix)
		}
	}
	if w.typo {
		forEachEdit(w.text, ix.alphabet, func(v string) {
			if w.prefix {
				lo, hi := ix.prefixRange(v)
				for id := lo; id < hi; id++ {
					note(id, qualTypo)
				}
			} else if id, ok := ix.termID[v]; ok {
				note(id, qualTypo)
			}
		})
	}
	return out
}

// prefixRange is the range of terms that begin with p.
func (ix *searchIndex) prefixRange(p string) (int32, int32) {
	lo := sort.SearchStrings(ix.terms, p)
	hi := lo
	for hi < len(ix.terms) && strings.HasPrefix(ix.terms[hi], p) {
		hi++
	}
	return int32(lo), int32(hi)
}

// forEachEdit calls fn with every string one edit away from s (deletion,
// transposition of neighbours, substitution or insertion of a rune of the
// alphabet). Repeats are possible.
func forEachEdit(s string, alphabet []rune, fn func(string)) {
	rs := []rune(s)
	b := make([]rune, 0, len(rs)+1)
	for i := range rs {
		fn(string(append(append(b[:0], rs[:i]...), rs[i+1:]...)))
		if i+1 < len(rs) && rs[i] != rs[i+1] {
			b = append(append(b[:0], rs[:i]...), rs[i+1], rs[i])
			fn(string(append(b, rs[i+2:]...)))
		}
		for _, a := range alphabet {
			if a != rs[i] {
				b = append(append(b[:0], rs[:i]...), a)
				fn(string(append(b, rs[i+1:]...)))
			}
		}
	}
	for i := 0; i <= len(rs); i++ {
		for _, a := range alphabet {
			b = append(append(b[:0], rs[:i]...), a)
			fn(string(append(b, rs[i:]...)))
		}
	}
}

// docText calls fn with each field text of a document.
func (ix *searchIndex) docText(doc int32, fn func(field uint8, text string)) {
	if int(doc) < len(ix.videos) {
		v := ix.videos[doc].v
		fn(fieldTitle, v.Title)
		for _, t := range v.Tags {
			fn(fieldTags, t)
		}
		fn(fieldDesc, v.Description)
		return
	}
	f := ix.folders[int(doc)-len(ix.videos)]
	fn(fieldTitle, f.ref.Name)
	for _, c := range f.crumbs {
		fn(fieldFolder, c.Name)
	}
}

// scratch is the per-query working memory, one byte or two per document.
type scratch struct {
	word  []uint8  // this word's best score per document
	total []uint16 // the sum over the words so far; 0: some word did not match
	fq    []uint8  // this word's best quality per folder, over name and path
}

func newScratch(n, nf int) *scratch {
	return &scratch{word: make([]uint8, n), total: make([]uint16, n), fq: make([]uint8, nf)}
}

// score fills s.total with each document's score for the query: the sum
// over its words of the best field and quality each matches, 0 for a
// document that misses a word.
func (ix *searchIndex) score(ws []qword, s *scratch) {
	nv := int32(len(ix.videos))
	for i, w := range ws {
		clear(s.word)
		clear(s.fq)
		if w.run {
			ix.scoreRun(w.text, s)
		} else {
			for id, q := range ix.matchTerms(w) {
				for _, p := range ix.postings[id] {
					d, fs := p.doc(), p.fields()
					if sc := fieldScore(fs, q); sc > s.word[d] {
						s.word[d] = sc
					}
					if d >= nv && s.fq[d-nv] < q {
						s.fq[d-nv] = q
					}
				}
			}
		}
		// A matching folder passes the match on to its videos, in their
		// folder field.
		for fi, q := range s.fq {
			if q == 0 {
				continue
			}
			sc := fieldScore(fieldFolder, q)
			for _, vn := range ix.folders[fi].videos {
				if d, ok := ix.docOf[vn]; ok && sc > s.word[d] {
					s.word[d] = sc
				}
			}
		}
		if i == 0 {
			for d, sc := range s.word {
				s.total[d] = uint16(sc)
			}
			continue
		}
		for d, sc := range s.word {
			if sc == 0 {
				s.total[d] = 0
			} else if s.total[d] != 0 {
				s.total[d] += uint16(sc)
			}
		}
	}
}

// scoreRun scores a run of spaceless script: the documents that hold every
// character of it are candidates, and those whose field contains the run
// match (exactly).
func (ix *searchIndex) scoreRun(run string, s *scratch) {
	var cands []posting
	first := true
	for _, r := range run {
		ps := ix.runes[r]
		if first || len(ps) < len(cands) {
			cands, first = ps, false
		}
	}
	nv := int32(len(ix.videos))
	for _, p := range cands {
		d := p.doc()
		var fs uint8
		ix.docText(d, func(field uint8, text string) {
			if fs&field == 0 && strings.Contains(text, run) {
				fs |= field
			}
		})
		if fs == 0 {
			continue
		}
		s.word[d] = fieldScore(fs, qualExact)
		if d >= nv {
			s.fq[d-nv] = qualExact
		}
	}
}

// hit is a scored document.
type hit struct {
	doc   int32
	score uint16
}

// rankHits orders hits by score, best first, and by document number among
// equal scores (newest video first, then folders in tree order): a counting
// sort, since scores are small.
func rankHits(hits []hit) []hit {
	if len(hits) < 2 {
		return hits
	}
	top := uint16(0)
	for _, h := range hits {
		top = max(top, h.score)
	}
	start := make([]int, int(top)+2)
	for _, h := range hits {
		start[int(top-h.score)+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]hit, len(hits))
	for _, h := range hits { // hits come in document order: the sort is stable
		k := int(top - h.score)
		out[start[k]] = h
		start[k]++
	}
	return out
}

// wordMatches reports how a word of a text (folded) matches a query word:
// its quality, or 0.
func wordMatches(word string, w qword) uint8 {
	switch {
	case word == w.text:
		return qualExact
	case w.prefix && strings.HasPrefix(word, w.text):
		return qualPrefix
	case w.typo && withinOneEdit(word, w.text, w.prefix):
		return qualTypo
	}
	return 0
}

// withinOneEdit reports whether a is at most one edit (insertion, deletion,
// substitution, transposition of neighbours) from b, or, with prefix, from a
// word that begins with b.
func withinOneEdit(a, b string, prefix bool) bool {
	ra, rb := []rune(a), []rune(b)
	if prefix {
		for n := len(rb) - 1; n <= len(rb)+1; n++ {
			if n >= 1 && n <= len(ra) && oneEdit(ra[:n], rb) {
				return true
			}
		}
		return false
	}
	return oneEdit(ra, rb)
}

func oneEdit(a, b []rune) bool {
	if d := len(a) - len(b); d < -1 || d > 1 {
		return false
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	switch {
	case len(a) == len(b):
		if i == len(a) {
			return true
		}
		if slices.Equal(a[i+1:], b[i+1:]) {
			return true // substitution
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && slices.Equal(a[i+2:], b[i+2:])
	case len(a) > len(b):
		return slices.Equal(a[i+1:], b[i:])
	default:
		return slices.Equal(a[i:], b[i+1:])
	}
}
