package library

import (
	"cmp"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/vidlib/vidlib/entitle"
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

// content_ is the part of a state derived from the tree alone.
type content_ struct {
	folders map[string]*folderNode
	videos  map[string]*videoNode
	roots   []*folderNode
	recent  []*videoNode // playable videos, newest first
}

type folderNode struct {
	ref      FolderRef
	parent   *folderNode
	root     bool
	children []*folderNode // sibling order
	videos   []*videoNode  // placement order
	crumbs   []FolderRef   // ancestors below the roots, root-most first, without the folder
}

type videoNode struct {
	v       tree.Video
	folders []*folderNode // the folders it is placed in (FoldersOf order)
	summary VideoSummary
}

func buildContent(snap *tree.Snapshot) *content_ {
	nf, nv := snap.Len()
	c := &content_{
		folders: make(map[string]*folderNode, nf),
		videos:  make(map[string]*videoNode, nv),
	}
	for _, v := range snap.Videos() {
		c.videos[v.VimeoID] = &videoNode{v: v, summary: VideoSummary{
			ID: v.VimeoID, Title: v.Title, ThumbnailURL: v.ThumbnailURL,
			DurationSeconds: v.DurationSeconds, CreatedAt: v.CreatedAt,
		}}
	}
	for _, f := range snap.Folders() { // parents before children
		n := &folderNode{ref: FolderRef{ID: f.VimeoID, Name: f.Name}}
		if p := c.folders[f.ParentVimeoID]; f.ParentVimeoID != "" && p != nil {
			n.parent = p
			if !p.root {
				n.crumbs = make([]FolderRef, 0, len(p.crumbs)+1)
				n.crumbs = append(append(n.crumbs, p.crumbs...), p.ref)
			}
		} else {
			n.root = true
		}
		c.folders[f.VimeoID] = n
	}
	for _, id := range snap.Roots() {
		if n := c.folders[id]; n != nil {
			c.roots = append(c.roots, n)
		}
	}
	for id, n := range c.folders {
		for _, ch := range snap.Children(id) {
			if cn := c.folders[ch]; cn != nil {
				n.children = append(n.children, cn)
			}
		}
		for _, p := range snap.Contents(id) {
			if vn := c.videos[p.VideoVimeoID]; vn != nil {
				n.videos = append(n.videos, vn)
			}
		}
	}
	for id, vn := range c.videos {
		for _, fid := range snap.FoldersOf(id) {
			if fn := c.folders[fid]; fn != nil {
				vn.folders = append(vn.folders, fn)
			}
		}
		if vn.v.Playable() && len(vn.folders) > 0 {
			c.recent = append(c.recent, vn)
		}
	}
	slices.SortFunc(c.recent, func(a, b *videoNode) int {
		if r := b.v.CreatedAt.Compare(a.v.CreatedAt); r != 0 {
			return r
		}
		return cmp.Compare(a.v.VimeoID, b.v.VimeoID)
	})
	return c
}

func versionString(content, ent int64) string {
	return "c" + strconv.FormatInt(content, 10) + ".e" + strconv.FormatInt(ent, 10)
}
