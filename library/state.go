package library

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/vimeoid"
	"github.com/vidlib/vidlib/tree"
)

// state is one immutable generation of what the Service serves: the tree,
// the compiled entitlement index, the per-folder listings in Vimeo order,
// and the cache of encoded answers that belong to this generation (dropped
// with it, so a version change invalidates by construction).
type state struct {
	snap    *tree.Snapshot
	idx     *entitle.Index
	content int64
	ent     int64
	version string // "c<content>.e<entitlement>", in every answer

	*content_ // shared by generations that differ only in their rules

	cache    atomic.Pointer[lru]
	loadedAt time.Time
	buildDur time.Duration
	rules    int
}

// content_ is the part of a state derived from the tree alone. It is built
// eagerly except for the recently-added order, sorted on first use.
type content_ struct {
	folders map[string]*folderNode
	videos  vimeoid.Map[*videoNode] // the root's nodes (see patched): read through key or video
	roots   []*folderNode

	recentOnce sync.Once
	// The playable placed videos, as key nodes (see patched; read them
	// through cur).
	recentList []*videoNode // newest first; see recent
	recentDone atomic.Bool  // recentList is set
	playable   []*videoNode // unordered

	searchOnce  sync.Once
	searchIx    *searchIndex // built on first use; see searchIndex
	searchBuilt atomic.Bool  // searchIx is built
	// searchRoot is, for a patched content, the content built from scratch
	// that it derives from: its search index is an overlay of the root's
	// (searchIndex.overlay). nil for a content built from scratch.
	searchRoot *content_
	// searchFrom is, for a content built from scratch, the content served
	// before it when that one's search index was built (and the Service
	// warms indexes, so this one's is made at once and searchFrom let go):
	// its index is derived from that one's when the documents are the same
	// (searchIndex.derive). See inheritSearch.
	searchFrom *content_
	// searchPrev is, for a patched content that differs from the one
	// before it only in the text of the videos retexted (key nodes), that
	// content when its search index was built and renumbered: this one's
	// is derived from it (searchIndex.retext). Let go once built.
	searchPrev *content_
	retexted   []*videoNode

	// A patched content (patch.go: patchVideos) shares the nodes of the
	// content built from scratch it derives from, its root, and overlays
	// what changed since. The shared structures (folder listings, covers,
	// the playable lists) hold each video's key node: its node in the root
	// (videos), or for a video added since, the first node made for it
	// (added). patched maps a key node to the video's node in this content,
	// or to nil for a video that left the snapshot; lists holds the folders
	// whose listing or covers changed since the root. All three are nil in
	// a content built from scratch. Read video nodes through cur or video,
	// folder listings through list.
	patched map[*videoNode]*videoNode
	added   map[string]*videoNode
	lists   map[*folderNode]*folderList
	// docsMoved is set when a patch since the root changed more than the
	// videos' text: which videos are playable and placed, their creation
	// times, placements or positions (the search index is then renumbered:
	// searchIndex.overlay).
	docsMoved bool
}

// cur is the content's node for vn, a key node (a node of a folder
// listing, a cover, the playable lists): vn itself unless a patch replaced
// it, nil if the video has left the snapshot since.
func (c *content_) cur(vn *videoNode) *videoNode {
	if vn != nil && vn.replaced.Load() {
		if r, ok := c.patched[vn]; ok {
			return r
		}
	}
	return vn
}

// key is the video's key node (see patched), or nil if the content's root
// does not have the video and no patch added it.
func (c *content_) key(id string) *videoNode {
	if vn, ok := c.videos.Get(id); ok {
		return vn
	}
	return c.added[id]
}

// video is the content's node for the video, or nil.
func (c *content_) video(id string) *videoNode { return c.cur(c.key(id)) }

// list is the folder's listing in the content: its own, unless a patch
// listed it anew.
func (c *content_) list(n *folderNode) *folderList {
	if n.relisted.Load() {
		if l := c.lists[n]; l != nil {
			return l
		}
	}
	return &n.folderList
}

// newestFirst orders key nodes by the content's nodes' creation times,
// newest first, then by id (see the function newestFirst).
func (c *content_) newestFirst(a, b *videoNode) int { return newestFirst(c.cur(a), c.cur(b)) }

type folderNode struct {
	ref      FolderRef
	parent   *folderNode
	root     bool
	children []*folderNode // sibling order

	folderList // as the content built from scratch has it; read through content_.list

	pos int32 // position in the generation's entitle.Index (positions depend on the snapshot alone)

	refFrag, summaryFrag, crumbsFrag fragment // encodings, made on first use (encode.go)

	// relisted is set once a patched content lists this folder anew (a
	// hint that spares list a map lookup for every other folder).
	relisted atomic.Bool
}

// folderList is what a folder lists: the parts of a folder node that a
// change of videos alone changes.
type folderList struct {
	videos   []*videoNode // placement order (key nodes)
	covers   []*videoNode // cover candidates: its first CoverCandidates playable videos with thumbnails, then its subfolders' (key nodes)
	coverPos []int32      // the candidates' index positions (a dense scan; see content_.cover)
}

type videoNode struct {
	v       *tree.Video    // points into the generation's snapshot; read-only
	folders []*folderNode  // the folders it is placed in (FoldersOf order: by id)
	home    [1]*folderNode // backs folders for the usual single placement

	summaryFrag fragment // the VideoSummary encoding, made on first use (encode.go)
	coverFrag   fragment // the Cover encoding, made on first use (encode.go)

	pos int32 // position in the entitle.Index, -1 if no audience can see it

	// replaced is set once a patched content replaces this node (a hint
	// that spares cur a map lookup for every other node).
	replaced atomic.Bool
}

func (vn *videoNode) summary() VideoSummary {
	return VideoSummary{
		ID: vn.v.VimeoID, Title: vn.v.Title, ThumbnailURL: vn.v.ThumbnailURL, Thumbnails: vn.thumbnails(),
		DurationSeconds: vn.v.DurationSeconds, CreatedAt: vn.v.CreatedAt,
	}
}

// listedSummary is the video's summary as the view lists it (locked or not).
func listedSummary(vn *videoNode, view *entitle.View) VideoSummary {
	sum := vn.summary()
	if reason, ok := view.LockedAt(vn.pos); ok {
		sum.Locked, sum.LockReason = true, string(reason)
	}
	return sum
}

// thumbnails is the video's Thumbnails, never nil.
func (vn *videoNode) thumbnails() []Thumbnail {
	out := make([]Thumbnail, len(vn.v.Pictures))
	for i, p := range vn.v.Pictures {
		out[i] = Thumbnail{Width: p.Width, Height: p.Height, URL: p.URL}
	}
	return out
}

// crumbs are the folder's ancestors below the roots, root-most first,
// without the folder; nil for a root or a root's child. They are walked up
// the parents on use rather than kept per folder (at 100,000 folders ten
// levels deep a copy per folder took 22 MB).
func (n *folderNode) crumbs() []FolderRef { return n.appendCrumbs(nil) }

// appendCrumbs appends the folder's crumbs to dst.
func (n *folderNode) appendCrumbs(dst []FolderRef) []FolderRef {
	d := 0
	for p := n.parent; p != nil && !p.root; p = p.parent {
		d++
	}
	if d == 0 {
		return dst
	}
	dst = slices.Grow(dst, d)[:len(dst)+d]
	i := len(dst)
	for p := n.parent; p != nil && !p.root; p = p.parent {
		i--
		dst[i] = p.ref
	}
	return dst
}

// hasCrumbs reports whether crumbs is not empty.
func (n *folderNode) hasCrumbs() bool { return n.parent != nil && !n.parent.root }

// cover is the folder's Cover for the view: the content's node of its first
// candidate the view shows, or nil.
func (c *content_) cover(n *folderNode, view *entitle.View) *videoNode {
	l := c.list(n)
	for i, pos := range l.coverPos {
		if view.VideoAt(pos) {
			return c.cur(l.covers[i])
		}
	}
	return nil
}

// buildContent derives the listings from the snapshot. Nodes are allocated
// in two slabs and the snapshot is read without copies: at 100,000 videos
// this is the bulk of a content rebuild after the store read.
func buildContent(snap *tree.Snapshot) *content_ {
	nf, nv := snap.Len()
	c := &content_{
		folders: make(map[string]*folderNode, nf),
		videos:  vimeoid.New[*videoNode](nv),
	}
	vslab := make([]videoNode, 0, nv)
	for v := range snap.AllVideos() {
		vslab = append(vslab, videoNode{v: v})
		vn := &vslab[len(vslab)-1]
		vn.folders = vn.home[:0:1]
		c.videos.Put(v.VimeoID, vn)
	}
	fslab := make([]folderNode, 0, nf)
	order := make([]*folderNode, 0, nf)
	for f := range snap.AllFolders() { // parents before children
		fslab = append(fslab, folderNode{ref: FolderRef{ID: f.VimeoID, Name: f.Name}})
		n := &fslab[len(fslab)-1]
		if p := c.folders[f.ParentVimeoID]; f.ParentVimeoID != "" && p != nil {
			n.parent = p
			p.children = append(p.children, n) // parents are visited in sibling order
		} else {
			n.root = true
		}
		c.folders[f.VimeoID] = n
		order = append(order, n)
	}
	for id := range snap.AllRoots() {
		if n := c.folders[id]; n != nil {
			c.roots = append(c.roots, n)
		}
	}
	multi := false
	for _, n := range order {
		for p := range snap.AllContents(n.ref.ID) {
			if vn, _ := c.videos.Get(p.VideoVimeoID); vn != nil {
				if n.videos == nil {
					n.videos = make([]*videoNode, 0, snap.ContentsLen(n.ref.ID))
				}
				n.videos = append(n.videos, vn)
				if len(vn.folders) > 0 {
					multi = true
				}
				vn.folders = append(vn.folders, n)
			}
		}
	}
	// Cover candidates, children before parents: the folder's own playable
	// videos with thumbnails, then its subfolders' candidates, in order.
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		for _, vn := range n.videos {
			if len(n.covers) == CoverCandidates {
				break
			}
			if vn.v.Playable() && len(vn.v.Pictures) > 0 {
				n.covers = append(n.covers, vn)
			}
		}
		for _, c := range n.children {
			k := min(len(c.covers), CoverCandidates-len(n.covers))
			n.covers = append(n.covers, c.covers[:k]...)
		}
	}
	for i := range vslab {
		vn := &vslab[i]
		if multi && len(vn.folders) > 1 {
			slices.SortFunc(vn.folders, func(a, b *folderNode) int { return cmp.Compare(a.ref.ID, b.ref.ID) })
		}
		if vn.v.Playable() && len(vn.folders) > 0 {
			c.playable = append(c.playable, vn)
		}
	}
	return c
}

// setPositions records each node's position in an Index built from the same
// snapshot, so that visibility checks are a bit test instead of a map
// lookup. Positions depend on the snapshot alone (entitle.Index.FolderPos),
// so they hold for every generation that shares this content.
func (c *content_) setPositions(idx positions) {
	for id, n := range c.folders {
		n.pos = idx.FolderPos(id)
	}
	for vn := range c.videos.Values() {
		vn.pos = idx.VideoPos(vn.v.VimeoID)
	}
	for _, n := range c.folders {
		if len(n.covers) > 0 {
			n.coverPos = make([]int32, len(n.covers))
			for i, vn := range n.covers {
				n.coverPos[i] = vn.pos
			}
		}
	}
}

// positions is what the listings read from an entitle.Index: the dense
// positions of folders and videos.
type positions interface {
	FolderPos(folderID string) int32
	VideoPos(videoID string) int32
}

var _ positions = (*entitle.Index)(nil)

// recent returns the playable placed videos (key nodes), newest first,
// sorting them on first use (a rebuild does not pay for it until a home
// page is asked for).
func (c *content_) recent() []*videoNode {
	c.recentOnce.Do(func() {
		r := slices.Clone(c.playable)
		slices.SortFunc(r, c.newestFirst)
		c.recentList = r
		c.recentDone.Store(true)
	})
	return c.recentList
}

// inheritSearch notes, in c (built from scratch, not yet published), the
// content whose search index c's may be derived from: prev's, else that of
// the content prev was patched from, whichever is built (and not
// renumbered: searchIndex.derive cannot take that one).
func (c *content_) inheritSearch(prev *content_) {
	switch {
	case prev == nil:
	case prev.searchBuilt.Load() && prev.searchIx.renum == nil:
		c.searchFrom = prev
	case prev.searchRoot != nil && prev.searchRoot.searchBuilt.Load():
		c.searchFrom = prev.searchRoot
	}
}

// newestFirst orders video nodes by creation time, newest first, then by
// id: the recently-added order and the search index's document order.
func newestFirst(a, b *videoNode) int {
	if r := b.v.CreatedAt.Compare(a.v.CreatedAt); r != 0 {
		return r
	}
	return cmp.Compare(a.v.VimeoID, b.v.VimeoID)
}

// searchIndex returns the content's search index, building it on first use.
func (c *content_) searchIndex() *searchIndex { return c.searchIndexBuilt(false) }

// searchIndexBuilt returns the content's search index, building it (in the
// background: see buildSearchIndex) if no one has. A patched content's index
// is an overlay of its root's, built (or waited for) first: a stream of
// metadata edits re-tokenizes the edited videos, not the library.
func (c *content_) searchIndexBuilt(background bool) *searchIndex {
	c.searchOnce.Do(func() {
		if c.searchRoot != nil {
			if p := c.searchPrev; p != nil && p.searchIx.renum != nil {
				c.searchIx = p.searchIx.retext(c, c.retexted)
			} else {
				c.searchIx = c.searchRoot.searchIndexBuilt(background).overlay(c)
			}
			c.searchPrev, c.retexted = nil, nil
		} else {
			if from := c.searchFrom; from != nil {
				c.searchFrom = nil
				c.searchIx, _ = from.searchIx.derive(c)
			}
			if c.searchIx == nil {
				c.searchIx = buildSearchIndex(c, background)
			}
		}
		c.searchBuilt.Store(true)
	})
	return c.searchIx
}

func versionString(content, ent int64) string {
	return "c" + strconv.FormatInt(content, 10) + ".e" + strconv.FormatInt(ent, 10)
}
