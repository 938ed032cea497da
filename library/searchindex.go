package library

import (
	"hash/maphash"
	"iter"
	"maps"
	"math/bits"
	"runtime"
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

// scoreTable[fields][qual] is the score of a match of quality qual in the
// best of the fields.
var scoreTable = func() (t [16][4]uint8) {
	for fs := range 16 {
		for q := range 4 {
			for _, f := range [...]uint8{fieldTitle, fieldTags, fieldDesc, fieldFolder} {
				if uint8(fs)&f != 0 {
					t[fs][q] = fieldRank(f)*4 + uint8(q)
					break
				}
			}
		}
	}
	return t
}()

func fieldScore(fields, qual uint8) uint8 { return scoreTable[fields&0xf][qual&3] }

// posting is a document number and the fields a term occurs in:
// doc<<4 | fields.
type posting uint32

func (p posting) doc() int32    { return int32(p >> 4) }
func (p posting) fields() uint8 { return uint8(p & 0xf) }

type searchIndex struct {
	content    *content_     // what it indexes
	videos     []*videoNode  // documents 0 … len(videos)-1, newest first (nodes of the content the index was built for: read through video)
	folders    []*folderNode // documents len(videos) …, in tree order
	folderDocs [][]int32     // per folder document, the documents of the videos placed in it
	pos        []int32       // per document, its node's position in the entitle.Index

	*postingIndex // the documents' terms

	// An index of a patched content (see overlay) shares everything above
	// with the full index it was derived from, except content; one derived
	// for a content built from scratch (see derive) shares the postings.
	// The documents whose text changed since the postings were made have
	// their postings skipped (stale) and their current ones in delta.
	stale []uint64      // bitset over the postings' documents, or nil
	delta *postingIndex // the stale documents' current terms (numbered as videos and folders are), or nil

	// An overlay whose documents moved (a video added, removed, moved,
	// made playable or not, its creation time or position changed) numbers
	// them as an index built for its content would: the postings and
	// folderDocs are the full index's, in its numbering, and renum maps
	// those numbers to this index's (-1: no longer a document);
	// folderOver holds, in this index's numbering, the documents of the
	// folders listed anew. Both nil otherwise.
	renum      []int32
	folderOver map[int32][]int32
	fresh      []int32 // the documents delta holds, ascending (a renumbered index's)

	scratch *sync.Pool // *scratch sized for this index (shared with its overlays)
}

// postingIndex is the inverted index of some documents: each term's
// postings, and for spaceless scripts the postings of characters and pairs.
type postingIndex struct {
	terms     []string  // sorted
	postings  []posting // term i's postings are postings[postStart[i]:postStart[i+1]]
	postStart []uint32
	termID    termTable
	runes     map[rune][]posting    // spaceless-script characters
	bigrams   map[[2]rune][]posting // pairs of neighbours in spaceless-script runs
	runText   map[int32]*[4]string  // per document with runs, per field, its runs joined by NULs
	alphabet  []rune                // the runes of the terms, for one-edit variants
}

// video is document d's node in the index's content (d < len(videos)).
func (ix *searchIndex) video(d int32) *videoNode { return ix.content.cur(ix.videos[d]) }

func (ix *searchIndex) docs() int { return len(ix.videos) + len(ix.folders) }

// buildSearchIndex indexes the content's playable placed videos and its
// non-root folders.
// A search waiting for it uses up to 8 cores; a background build (the
// warmer) half of them, so that it never takes every core from the
// requests being served.
func buildSearchIndex(c *content_, background bool) *searchIndex {
	n := 1
	if len(c.playable)+len(c.folders) >= 20_000 {
		n = min(runtime.GOMAXPROCS(0), 8)
		if background {
			n = max(1, n/2)
		}
	}
	return buildSearchIndexShards(c, n)
}

// buildSearchIndexShards builds the index tokenizing in n shards.
func buildSearchIndexShards(c *content_, n int) *searchIndex {
	ix := &searchIndex{content: c, scratch: new(sync.Pool)}
	ix.videos = c.recent() // newest first: the tie-break among equal scores; shared with the content, read-only
	docOf := make(map[*videoNode]int32, len(ix.videos))
	for i, vn := range ix.videos {
		docOf[vn] = int32(i)
	}
	for _, r := range c.roots {
		ix.folders = appendSubtree(ix.folders, r.children)
	}
	// Positions depend on the snapshot alone (setPositions ran before any
	// search); a dense copy spares a pointer chase per match.
	ix.pos = make([]int32, 0, ix.docs())
	for _, vn := range ix.videos {
		ix.pos = append(ix.pos, vn.pos)
	}
	for _, f := range ix.folders {
		ix.pos = append(ix.pos, f.pos)
	}
	ix.folderDocs = make([][]int32, len(ix.folders))
	for i, f := range ix.folders {
		for _, vn := range c.list(f).videos { // key nodes, as recent holds
			if d, ok := docOf[vn]; ok {
				ix.folderDocs[i] = append(ix.folderDocs[i], d)
			}
		}
	}

	// Tokenize in shards of consecutive documents, side by side, then merge
	// them in order (which keeps every posting list in document order).
	shards := make([]*indexShard, n)
	var wg sync.WaitGroup
	for k := range shards {
		lo, hi := ix.docs()*k/n, ix.docs()*(k+1)/n
		wg.Go(func() { shards[k] = ix.indexDocs(docRange(int32(lo), int32(hi))) })
	}
	wg.Wait()
	ix.postingIndex = mergeShards(shards)
	return ix
}

// docRange is the documents lo … hi-1.
func docRange(lo, hi int32) iter.Seq[int32] {
	return func(yield func(int32) bool) {
		for d := lo; d < hi; d++ {
			if !yield(d) {
				return
			}
		}
	}
}

// mergeShards merges the shards, which index consecutive ranges of
// documents in order, into one postingIndex.
func mergeShards(shards []*indexShard) *postingIndex {
	ids, terms, posts := shards[0].ids, shards[0].terms, shards[0].posts
	px := &postingIndex{runes: shards[0].runes, bigrams: shards[0].bigrams, runText: shards[0].runText}
	for _, sh := range shards[1:] {
		for local, t := range sh.terms {
			id, ok := ids[t]
			if !ok {
				id = int32(len(terms))
				ids[t] = id
				terms = append(terms, t)
				posts = append(posts, nil)
			}
			posts[id] = append(posts[id], sh.posts[local]...)
		}
		for r, ps := range sh.runes {
			px.runes[r] = append(px.runes[r], ps...)
		}
		for k, ps := range sh.bigrams {
			px.bigrams[k] = append(px.bigrams[k], ps...)
		}
		maps.Copy(px.runText, sh.runText)
	}

	// Sort the terms, so that the words a prefix begins are a range.
	order := make([]int32, len(terms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(terms[a], terms[b]) })
	px.terms = make([]string, len(terms))
	total := 0
	for _, ps := range posts {
		total += len(ps)
	}
	px.postings = make([]posting, 0, total)
	px.postStart = make([]uint32, len(terms)+1)
	seen := map[rune]bool{}
	for i, id := range order {
		px.terms[i] = terms[id]
		px.postings = append(px.postings, posts[id]...)
		px.postStart[i+1] = uint32(len(px.postings))
		for _, r := range terms[id] {
			if !seen[r] {
				seen[r] = true
				px.alphabet = append(px.alphabet, r)
			}
		}
	}
	slices.Sort(px.alphabet)
	px.termID = newTermTable(px.terms)
	return px
}

// overlay returns the index of c, a patched content derived from ix's
// (c.searchRoot is ix.content): the postings of the videos patched since
// ix was built (c.patched, c.added) made anew, the others' shared. When
// only the videos' text changed since (library/patch.go: the documents are
// the same, in the same order) it has ix's numbering; else see renumbered.
// Its cost follows the patched videos, and for renumbering a pass over the
// documents, not tokenizing the library.
func (ix *searchIndex) overlay(c *content_) *searchIndex {
	if c.docsMoved {
		if o := ix.renumbered(c); o != nil {
			return o
		}
		return buildSearchIndexShards(c, 1) // unreachable unless c is not derived from ix
	}
	var docs []int32
	for base := range c.patched {
		if d, ok := ix.docOf(base); ok {
			docs = append(docs, d)
		}
	}
	o := *ix
	o.content = c
	o.restale(docs)
	return &o
}

// renumbered returns the index of c (see overlay) numbered as one built for
// c: its videos are c's newest-first order, and ix's postings are read
// through renum. The documents of the videos patched since ix was built,
// and those stale in ix, are stale and tokenized anew into delta. nil if
// c's order does not hold ix's unpatched videos in ix's order (it does
// when c derives from ix).
func (ix *searchIndex) renumbered(c *content_) *searchIndex {
	videos := c.recent()
	nvR, nvN := len(ix.videos), len(videos)
	renum := make([]int32, ix.docs())
	stale := make([]uint64, (ix.docs()+63)/64)
	copy(stale, ix.stale)
	isStale := func(d int) bool { return stale[d>>6]&(1<<(d&63)) != 0 }
	// Walk both orders: an unpatched video keeps its place relative to
	// the others; the documents met in c's order between two of them are
	// patched (or added) videos.
	var fresh []int32                // c's documents to tokenize, in order
	var patchedAt []int              // ix's documents of patched videos, ascending
	newDoc := map[*videoNode]int32{} // c's document of a patched video
	// The patched videos' documents are found by their place in ix's
	// order, not by reading every node (a cache miss each at a million).
	for k := range c.patched {
		if d, ok := ix.docOf(k); ok {
			patchedAt = append(patchedAt, int(d))
			stale[d>>6] |= 1 << (d & 63)
		}
	}
	slices.Sort(patchedAt)
	next := patchedAt // the patched documents still ahead
	j := 0
	for d, k := range ix.videos {
		if len(next) > 0 && next[0] == d {
			next = next[1:]
			continue
		}
		for j < nvN && videos[j] != k {
			newDoc[videos[j]] = int32(j)
			fresh = append(fresh, int32(j))
			j++
		}
		if j == nvN {
			return nil
		}
		renum[d] = int32(j)
		if isStale(d) {
			fresh = append(fresh, int32(j))
		}
		j++
	}
	for ; j < nvN; j++ {
		newDoc[videos[j]] = int32(j)
		fresh = append(fresh, int32(j))
	}
	for _, d := range patchedAt {
		if nd, ok := newDoc[ix.videos[d]]; ok {
			renum[d] = nd
		} else {
			renum[d] = -1
		}
	}
	for i := range ix.folders { // the folders are the same, in the same order
		renum[nvR+i] = int32(nvN + i)
		if isStale(nvR + i) {
			fresh = append(fresh, int32(nvN+i))
		}
	}
	o := &searchIndex{content: c, videos: videos, folders: ix.folders, folderDocs: ix.folderDocs,
		postingIndex: ix.postingIndex, stale: stale, renum: renum, scratch: ix.scratch}
	if nvN != nvR {
		o.scratch = new(sync.Pool) // sized for ix's documents
	}
	// Positions are stable (entitle.Index.WithVideos): an unpatched video's
	// is ix's.
	o.pos = make([]int32, o.docs())
	for d, nd := range renum[:nvR] {
		if nd >= 0 {
			o.pos[nd] = ix.pos[d]
		}
	}
	for k, nd := range newDoc {
		o.pos[nd] = c.cur(k).pos
	}
	copy(o.pos[nvN:], ix.pos[nvR:])
	for i, f := range ix.folders {
		// A folder listed anew only for its covers shares its videos
		// with the root: its list is ix's, through renum.
		if !f.relisted.Load() || c.lists[f] == nil || sameSlice(c.lists[f].videos, f.videos) {
			continue
		}
		if o.folderOver == nil {
			o.folderOver = map[int32][]int32{}
		}
		var docs []int32
		for _, k := range c.list(f).videos {
			if d, ok := o.docOf(k); ok {
				docs = append(docs, d)
			}
		}
		o.folderOver[int32(i)] = docs
	}
	if len(fresh) > 0 {
		slices.Sort(fresh)
		o.fresh = fresh
		o.delta = mergeShards([]*indexShard{o.indexDocs(slices.Values(fresh))})
	}
	return o
}

// retext returns the index of c, a patched content that differs from
// prev's only in the text of the videos keys (key nodes; no video moved,
// no folder listed anew), prev being renumbered: prev's numbering and
// everything it shares with the root's, with those videos' postings in the
// root's made stale and the delta's documents tokenized anew from c. It
// spares the pass over every document a renumbering costs (at a million
// videos, 50 ms and 13 MB for each edit after a move).
func (prev *searchIndex) retext(c *content_, keys []*videoNode) *searchIndex {
	o := *prev
	o.content = c
	o.stale = slices.Clone(prev.stale)
	fresh := slices.Clone(prev.fresh)
	root := c.searchRoot.searchIx
	for _, k := range keys {
		if d, ok := root.docOf(k); ok {
			o.stale[d>>6] |= 1 << (d & 63)
		}
		if d, ok := o.docOf(k); ok {
			if i, found := slices.BinarySearch(fresh, d); !found {
				fresh = slices.Insert(fresh, i, d)
			}
		}
	}
	o.fresh, o.delta = fresh, nil
	if len(fresh) > 0 {
		o.delta = mergeShards([]*indexShard{o.indexDocs(slices.Values(fresh))})
	}
	return &o
}

// restale makes ix.delta the postings of the documents in ix.stale and
// docs (which it adds to stale), tokenized from ix.content.
func (ix *searchIndex) restale(docs []int32) {
	n := (ix.docs() + 63) / 64
	stale := make([]uint64, n)
	copy(stale, ix.stale)
	for _, d := range docs {
		stale[d>>6] |= 1 << (d & 63)
	}
	var all []int32
	for w, word := range stale {
		for word != 0 {
			all = append(all, int32(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	ix.stale, ix.delta = nil, nil
	if len(all) > 0 {
		ix.stale = stale
		ix.delta = mergeShards([]*indexShard{ix.indexDocs(slices.Values(all))})
	}
}

// maxStaleDocs bounds the documents whose text changed that derive takes
// on: each later overlay tokenizes them again.
const maxStaleDocs = 4096

// derive returns the search index of c, a content built from scratch (a
// move, a delete, a folder change…), from prev, the index of the content
// served before it, when both have the same documents in the same order
// (the same playable placed videos and the same folders in the same tree
// order): the postings are prev's, the documents whose text changed since
// (a video's title, tags or description, a folder's name or path) are
// stale and tokenized anew, and the positions and the folders' videos are
// c's. It costs a pass over the documents instead of tokenizing the
// library; false when the documents differ or too many texts changed.
func (prev *searchIndex) derive(c *content_) (*searchIndex, bool) {
	if prev.renum != nil {
		return nil, false // its postings are numbered as another index's documents
	}
	// The videos: prev's, as c's nodes, when each is still playable and
	// placed with the same creation time (then the newest-first order
	// holds, and c's needs no sort) and c has no other.
	if len(c.playable) != len(prev.videos) {
		return nil, false
	}
	videos := make([]*videoNode, len(prev.videos))
	for d := range prev.videos {
		old := prev.video(int32(d)).v
		vn, _ := c.videos.Get(old.VimeoID)
		if vn == nil || !vn.v.Playable() || len(vn.folders) == 0 || !vn.v.CreatedAt.Equal(old.CreatedAt) {
			return nil, false
		}
		videos[d] = vn
	}
	c.recentOnce.Do(func() {
		c.recentList = videos
		c.recentDone.Store(true)
	})
	videos = c.recentList // equal to videos, whoever set it
	var folders []*folderNode
	for _, r := range c.roots {
		folders = appendSubtree(folders, r.children)
	}
	if len(folders) != len(prev.folders) {
		return nil, false
	}
	var changed []int32
	for d, vn := range videos {
		old, v := prev.video(int32(d)).v, vn.v
		if old.Title != v.Title || old.Description != v.Description || !slices.Equal(old.Tags, v.Tags) {
			changed = append(changed, int32(d))
		}
	}
	nv := len(videos)
	var crumbs, oldCrumbs []FolderRef
	for i, f := range folders {
		old := prev.folders[i]
		if old.ref.ID != f.ref.ID {
			return nil, false
		}
		crumbs, oldCrumbs = f.appendCrumbs(crumbs[:0]), old.appendCrumbs(oldCrumbs[:0])
		if old.ref.Name != f.ref.Name || !slices.EqualFunc(crumbs, oldCrumbs, func(a, b FolderRef) bool { return a.Name == b.Name }) {
			changed = append(changed, int32(nv+i))
		}
	}
	if len(changed)+bitCount(prev.stale) > maxStaleDocs {
		return nil, false
	}
	ix := &searchIndex{content: c, videos: videos, folders: folders, postingIndex: prev.postingIndex,
		stale: prev.stale, scratch: prev.scratch}
	ix.pos = make([]int32, 0, ix.docs())
	for _, vn := range videos {
		ix.pos = append(ix.pos, vn.pos)
	}
	for _, f := range folders {
		ix.pos = append(ix.pos, f.pos)
	}
	// A folder's videos are documents of the same numbers as before: its
	// list is prev's unless its placements changed.
	ix.folderDocs = make([][]int32, len(folders))
	for i, f := range folders {
		if samePlaced(prev.content, prev.folders[i], f) {
			ix.folderDocs[i] = prev.folderDocs[i]
			continue
		}
		for _, vn := range f.videos {
			if d, ok := ix.docOf(vn); ok {
				ix.folderDocs[i] = append(ix.folderDocs[i], d)
			}
		}
	}
	ix.restale(changed)
	return ix, true
}

// sameSlice reports whether a and b are the same slice.
func sameSlice(a, b []*videoNode) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// samePlaced reports whether folder nodes a (of content ca) and b hold the
// same videos in the same order.
func samePlaced(ca *content_, a, b *folderNode) bool {
	av := ca.list(a).videos
	if len(av) != len(b.videos) {
		return false
	}
	for i, vn := range av {
		if vn.v.VimeoID != b.videos[i].v.VimeoID {
			return false
		}
	}
	return true
}

func bitCount(b []uint64) int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// docOf finds the document of vn, a key node of the index's content, by its
// place in the newest-first order; false if vn is no document (not
// playable, or placed nowhere).
func (ix *searchIndex) docOf(vn *videoNode) (int32, bool) {
	i, ok := slices.BinarySearchFunc(ix.videos, vn, ix.content.newestFirst)
	if !ok || ix.videos[i] != vn {
		return 0, false
	}
	return int32(i), true
}

// termPostings returns the postings of term id.
func (ix *postingIndex) termPostings(id int32) []posting {
	return ix.postings[ix.postStart[id]:ix.postStart[id+1]]
}

// termTable finds a term's id: an open-addressing hash table of ids into
// the sorted terms, at most three quarters full. At 4 bytes a slot it holds
// a million terms in 8 MB, where a map[string]int32 takes about 50 MB.
type termTable struct {
	seed  maphash.Seed
	slots []int32 // id+1; 0 is empty
}

func newTermTable(terms []string) termTable {
	n := 1
	for n < len(terms)+len(terms)/3+1 {
		n <<= 1
	}
	t := termTable{seed: maphash.MakeSeed(), slots: make([]int32, n)}
	mask := uint64(n - 1)
	for id, s := range terms {
		i := maphash.String(t.seed, s) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = int32(id + 1)
	}
	return t
}

// find returns the id of s among terms (the terms the table was built
// from), and whether it is one.
func (t termTable) find(terms []string, s string) (int32, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := maphash.String(t.seed, s) & mask; ; i = (i + 1) & mask {
		id := t.slots[i]
		if id == 0 {
			return 0, false
		}
		if terms[id-1] == s {
			return id - 1, true
		}
	}
}

// indexShard is the index of a range of documents, before merging.
type indexShard struct {
	ids     map[string]int32 // term → position in terms
	terms   []string
	posts   [][]posting
	runes   map[rune][]posting
	bigrams map[[2]rune][]posting
	runText map[int32]*[4]string
}

// indexDocs tokenizes the documents, in increasing order.
func (ix *searchIndex) indexDocs(docs iter.Seq[int32]) *indexShard {
	sh := &indexShard{ids: map[string]int32{}, runes: map[rune][]posting{},
		bigrams: map[[2]rune][]posting{}, runText: map[int32]*[4]string{}}
	var buf []byte
	var runBuf [4][]byte
	hasRuns := false
	add := func(doc int32, field uint8, text string) {
		buf = tokenize(text, buf, func(t token) {
			if t.run {
				fi := bits.TrailingZeros8(field)
				runBuf[fi] = append(append(runBuf[fi], t.text...), 0)
				hasRuns = true
				prev := rune(-1)
				for _, r := range string(t.text) {
					sh.runes[r] = addPosting(sh.runes[r], doc, field)
					if prev >= 0 {
						k := [2]rune{prev, r}
						sh.bigrams[k] = addPosting(sh.bigrams[k], doc, field)
					}
					prev = r
				}
				return
			}
			id, ok := sh.ids[string(t.text)]
			if !ok {
				id = int32(len(sh.terms))
				s := string(t.text)
				sh.ids[s] = id
				sh.terms = append(sh.terms, s)
				sh.posts = append(sh.posts, nil)
			}
			sh.posts[id] = addPosting(sh.posts[id], doc, field)
		})
	}
	nv := int32(len(ix.videos))
	for doc := range docs {
		if doc < nv {
			v := ix.video(doc).v
			add(doc, fieldTitle, v.Title)
			for _, tag := range v.Tags {
				add(doc, fieldTags, tag)
			}
			add(doc, fieldDesc, v.Description)
		} else {
			f := ix.folders[doc-nv]
			add(doc, fieldTitle, f.ref.Name)
			for _, c := range f.crumbs() {
				add(doc, fieldFolder, c.Name)
			}
		}
		// Keep the document's runs of spaceless script, per field, for the
		// substring checks of longer runs.
		if hasRuns {
			rt := new([4]string)
			for fi := range runBuf {
				rt[fi] = string(runBuf[fi])
				runBuf[fi] = runBuf[fi][:0]
			}
			sh.runText[doc] = rt
			hasRuns = false
		}
	}
	return sh
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

// termMatch is a term a query word matches, and how.
type termMatch struct {
	id   int32
	qual uint8
}

// matchTerms appends the terms w matches, each once with its best quality.
func (ix *postingIndex) matchTerms(out []termMatch, w qword) []termMatch {
	lo, hi := int32(0), int32(0)
	if w.prefix {
		lo, hi = ix.prefixRange(w.text)
		for id := lo; id < hi; id++ {
			q := uint8(qualPrefix)
			if ix.terms[id] == w.text {
				q = qualExact
			}
			out = append(out, termMatch{id, q})
		}
	} else if id, ok := ix.termID.find(ix.terms, w.text); ok {
		lo, hi = id, id+1
		out = append(out, termMatch{id, qualExact})
	}
	if !w.typo {
		return out
	}
	seen := map[int32]bool{}
	note := func(id int32) {
		if (id < lo || id >= hi) && !seen[id] {
			seen[id] = true
			out = append(out, termMatch{id, qualTypo})
		}
	}
	forEachEdit(w.text, ix.alphabet, func(v string) {
		if w.prefix {
			vlo, vhi := ix.prefixRange(v)
			for id := vlo; id < vhi; id++ {
				note(id)
			}
		} else if id, ok := ix.termID.find(ix.terms, v); ok {
			note(id)
		}
	})
	return out
}

// prefixRange is the range of terms that begin with p.
func (ix *postingIndex) prefixRange(p string) (int32, int32) {
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

// scratch is the per-query working memory: dense arrays with a byte or two
// per document, kept zero between queries (only the entries a query
// touched are reset), and lists of the documents touched.
type scratch struct {
	word     []uint8  // this word's best score per document
	total    []uint16 // the sum over the words so far, for the candidates
	fq       []uint8  // this word's best quality per folder, over name and path
	touched  []int32  // documents this word matched
	ftouched []int32  // folders this word matched
	cands    []int32  // documents every word so far matched
	terms    []termMatch
	hits     []hit
	ranked   []hit
}

func newScratch(n, nf int) *scratch {
	return &scratch{word: make([]uint8, n), total: make([]uint16, n), fq: make([]uint8, nf)}
}

func (s *scratch) set(d int32, sc uint8) {
	if s.word[d] == 0 {
		s.touched = append(s.touched, d)
	}
	if sc > s.word[d] {
		s.word[d] = sc
	}
}

func (s *scratch) setFolder(f int32, q uint8) {
	if s.fq[f] == 0 {
		s.ftouched = append(s.ftouched, f)
	}
	if q > s.fq[f] {
		s.fq[f] = q
	}
}

// reset zeroes what the last query left in the dense arrays.
func (s *scratch) reset() {
	for _, d := range s.cands {
		s.total[d] = 0
	}
	s.cands = s.cands[:0]
}

// score leaves in s.cands the documents that match every word and in
// s.total their scores: the sum over the words of the best field and
// quality each matches.
//
// visible says whether the viewer may see a document; a document it hides
// may be scored or not: the caller filters the results.
func (ix *searchIndex) score(ws []qword, s *scratch, visible func(d int32) bool) {
	nv := int32(len(ix.videos))
	for i, w := range ws {
		s.touched, s.ftouched = s.touched[:0], s.ftouched[:0]
		ix.scoreWord(ix.postingIndex, w, s, nv, ix.stale, ix.renum, visible)
		if ix.delta != nil {
			ix.scoreWord(ix.delta, w, s, nv, nil, nil, visible)
		}
		// A matching folder passes the match on to its videos, in their
		// folder field.
		for _, f := range s.ftouched {
			sc := fieldScore(fieldFolder, s.fq[f])
			if docs, ok := ix.folderOver[f]; ok {
				for _, d := range docs {
					s.set(d, sc)
				}
			} else if ix.renum != nil {
				for _, d := range ix.folderDocs[f] {
					if d = ix.renum[d]; d >= 0 {
						s.set(d, sc)
					}
				}
			} else {
				for _, d := range ix.folderDocs[f] {
					s.set(d, sc)
				}
			}
			s.fq[f] = 0
		}
		if i == 0 {
			for _, d := range s.touched {
				s.total[d] = uint16(s.word[d])
			}
			s.cands = append(s.cands[:0], s.touched...)
		} else {
			n := 0
			for _, d := range s.cands {
				if sc := s.word[d]; sc > 0 {
					s.total[d] += uint16(sc)
					s.cands[n] = d
					n++
				} else {
					s.total[d] = 0
				}
			}
			s.cands = s.cands[:n]
		}
		for _, d := range s.touched {
			s.word[d] = 0
		}
		if len(s.cands) == 0 {
			return
		}
	}
}

// scoreWord records in s the documents of px that w matches, and their
// best scores, passing over the documents in stale (a bitset, or nil) and
// numbering the others through renum (nil: as they are). Documents below
// nv are videos, the rest folders.
func (ix *searchIndex) scoreWord(px *postingIndex, w qword, s *scratch, nv int32, stale []uint64, renum []int32, visible func(d int32) bool) {
	if w.run {
		px.scoreRun(w.text, s, nv, stale, renum, visible)
		return
	}
	s.terms = px.matchTerms(s.terms[:0], w)
	for _, m := range s.terms {
		for _, p := range px.termPostings(m.id) {
			d := p.doc()
			if stale != nil && stale[d>>6]&(1<<(d&63)) != 0 {
				continue
			}
			if renum != nil {
				d = renum[d] // a document: the ones that are no longer are stale
			}
			s.set(d, fieldScore(p.fields(), m.qual))
			if d >= nv {
				s.setFolder(d-nv, m.qual)
			}
		}
	}
}

// scoreRun scores a run of spaceless script, matched as a substring: one
// character by its postings, two by their pair's, and a longer run by the
// documents and fields that hold all its pairs, checked for the run itself.
func (ix *postingIndex) scoreRun(run string, s *scratch, nv int32, stale []uint64, renum []int32, visible func(d int32) bool) {
	rs := []rune(run)
	var cands []posting
	switch len(rs) {
	case 0:
		return
	case 1:
		cands = ix.runes[rs[0]]
	default:
		lists := make([][]posting, 0, len(rs)-1)
		for i := 1; i < len(rs); i++ {
			lists = append(lists, ix.bigrams[[2]rune{rs[i-1], rs[i]}])
		}
		slices.SortFunc(lists, func(a, b []posting) int { return len(a) - len(b) })
		cands = lists[0]
		for _, l := range lists[1:] {
			cands = intersect(cands, l)
		}
	}
	for _, p := range cands {
		pd, fs := p.doc(), p.fields()
		if stale != nil && stale[pd>>6]&(1<<(pd&63)) != 0 {
			continue
		}
		d := pd
		if renum != nil {
			d = renum[pd]
		}
		if len(rs) > 2 { // every pair is there; is the run?
			if !visible(d) {
				continue // checking is dear: only for what the viewer may see
			}
			var ok uint8
			if rt := ix.runText[pd]; rt != nil {
				for fi, text := range rt {
					if f := uint8(1) << fi; fs&f != 0 && strings.Contains(text, run) {
						ok |= f
					}
				}
			}
			fs = ok
		}
		if fs == 0 {
			continue
		}
		s.set(d, fieldScore(fs, qualExact))
		if d >= nv {
			s.setFolder(d-nv, qualExact)
		}
	}
}

// intersect returns the documents in both lists, with the fields both
// name; the lists are in document order.
func intersect(a, b []posting) []posting {
	var out []posting
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch da, db := a[i].doc(), b[j].doc(); {
		case da < db:
			i++
		case da > db:
			j++
		default:
			if fs := a[i].fields() & b[j].fields(); fs != 0 {
				out = append(out, posting(da)<<4|posting(fs))
			}
			i++
			j++
		}
	}
	return out
}

// hit is a scored document.
type hit struct {
	doc   int32
	score uint16
}

// rankHits orders hits by score, best first, and by document number among
// equal scores (newest video first, then folders in tree order): a counting
// sort into out, since scores are small. hits must be in document order.
func rankHits(hits, out []hit) []hit {
	top := uint16(0)
	for _, h := range hits {
		top = max(top, h.score)
	}
	var start [1 << 10]int
	if int(top)+2 > len(start) {
		return slices.Clone(hits) // unreachable: scores are at most 19 per word
	}
	for _, h := range hits {
		start[int(top-h.score)+1]++
	}
	for i := 1; i < int(top)+2; i++ {
		start[i] += start[i-1]
	}
	out = slices.Grow(out[:0], len(hits))[:len(hits)]
	for _, h := range hits { // in document order: the sort is stable
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
	na, nb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	if na < nb-1 || (!prefix && na > nb+1) {
		return false
	}
	var abuf, bbuf [64]rune
	ra, rb := appendRunes(abuf[:0], a), appendRunes(bbuf[:0], b)
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

func appendRunes(rs []rune, s string) []rune {
	for _, r := range s {
		rs = append(rs, r)
	}
	return rs
}
