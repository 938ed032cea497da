package entitle

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/vidlib/vidlib/internal/vimeoid"
	"github.com/vidlib/vidlib/tree"
)

// layout is everything an Index derives from its snapshot alone (and the
// AllowPasswordVideos option): dense positions of folders and candidate
// videos, the tree's shape and the placements. It is immutable once built and
// shared by every Index derived from one with WithRules, and by their Views,
// so a View never keeps an Index (or its rules and cache) alive.
type layout struct {
	allowPwd bool

	folderIDs []string // parents before children
	folderIdx vimeoid.Map[int32]
	parent    []int32 // -1 for a top-level folder
	live      []bool  // neither the folder nor an ancestor is soft-deleted

	videoIDs []string // the candidates: playable, with a live placement; in folder preorder (see newLayout)
	videoIdx vimeoid.Map[int32]
	// videoOver, in a layout patched by withVideos, overrides videoIdx for
	// the videos patched since the layout was built whole: a position, or
	// -1-slot for a video that is no longer a candidate (its slot stays
	// its own, unused). Read positions through videoPos.
	videoOver   map[string]int32
	byID        []int32 // the candidates' positions in the order of their ids
	placeStart  []int32 // video i's placements are placeFolder[placeStart[i]:placeStart[i+1]]
	placeFolder []int32

	// Depth-first preorder of the folders: folder f's subtree is the folders
	// preorder[pre[f]:preEnd[f]], a contiguous range.
	preorder    []int32
	pre, preEnd []int32
	placedUpTo  []int // placements in the folders preorder[:p], for p in 0…len(preorder)

	aux auxOnce // inverse maps: children and videos per folder, sections (access.go)

	decisions sync.Pool // *decisions sized for the layout: Index.compute's scratch
}

// decisions is Index.compute's scratch, a decision per folder and per
// candidate video (at a million videos a megabyte a view, kept for the next
// view rather than left to the collector), zero between uses.
type decisions struct{ folders, videos []uint8 }

func newLayout(snap *tree.Snapshot, allowPwd bool) (*layout, error) {
	nf, nv := snap.Len()
	if nf >= math.MaxInt32 || nv >= math.MaxInt32 {
		return nil, fmt.Errorf("%w: snapshot too large", ErrInvalid)
	}
	x := &layout{allowPwd: allowPwd}

	// Folders, parents before children; a folder is live when neither it nor an
	// ancestor is soft-deleted.
	x.folderIDs = snap.FolderIDs()
	x.folderIdx = vimeoid.New[int32](len(x.folderIDs))
	x.parent = make([]int32, len(x.folderIDs))
	live := make([]bool, len(x.folderIDs))
	x.live = live
	for i, id := range x.folderIDs {
		f := snap.Folder(id)
		x.folderIdx.Put(id, int32(i))
		x.parent[i] = -1
		live[i] = !f.Deleted()
		if f.ParentVimeoID != "" {
			p, _ := x.folderIdx.Get(f.ParentVimeoID) // parents come first
			x.parent[i] = p
			live[i] = live[i] && live[p]
		}
	}

	// The depth-first preorder of the folders.
	childStart, child := csr(len(x.folderIDs), func(emit func(from, to int32)) {
		for i, p := range x.parent {
			if p >= 0 {
				emit(p, int32(i))
			}
		}
	})
	x.preorder = make([]int32, 0, len(x.folderIDs))
	x.pre = make([]int32, len(x.folderIDs))
	x.preEnd = make([]int32, len(x.folderIDs))
	stack := make([]int32, 0, 64)
	for root := range x.folderIDs {
		if x.parent[root] >= 0 {
			continue
		}
		stack = append(stack[:0], int32(root))
		for len(stack) > 0 {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x.pre[f] = int32(len(x.preorder))
			x.preorder = append(x.preorder, f)
			kids := child[childStart[f]:childStart[f+1]]
			for i := len(kids) - 1; i >= 0; i-- { // first child on top
				stack = append(stack, kids[i])
			}
		}
	}
	// A subtree ends where the next folder that is not a descendant starts:
	// walking the preorder backwards, each folder's end is the largest end of
	// its children, or its own position + 1.
	for p := len(x.preorder) - 1; p >= 0; p-- {
		f := x.preorder[p]
		end := int32(p + 1)
		for _, c := range child[childStart[f]:childStart[f+1]] {
			end = max(end, x.preEnd[c])
		}
		x.preEnd[f] = end
	}

	// Candidate videos: playable, embeddable for app users (Vimeo privacy),
	// with at least one placement in a live folder. They are numbered in
	// the order the folder preorder lists them (each at its first live
	// placement), so that what a rule on a folder decides is a range of
	// positions and a View's sets are a few runs (view.go).
	x.videoIDs = make([]string, 0, nv)
	x.videoIdx = vimeoid.New[int32](nv)
	for _, f := range x.preorder {
		if !live[f] {
			continue
		}
		for p := range snap.AllContents(x.folderIDs[f]) {
			id := p.VideoVimeoID
			if _, done := x.videoIdx.Get(id); done {
				continue
			}
			if v := snap.Video(id); !v.Playable() || v.EmbedBlock(x.allowPwd) != "" {
				continue
			}
			x.videoIdx.Put(id, int32(len(x.videoIDs)))
			x.videoIDs = append(x.videoIDs, id)
		}
	}
	x.videoIDs = slices.Clip(x.videoIDs)
	x.placeStart = make([]int32, 0, len(x.videoIDs)+1)
	for _, id := range x.videoIDs {
		x.placeStart = append(x.placeStart, int32(len(x.placeFolder)))
		for _, f := range snap.FoldersOf(id) {
			if fi, _ := x.folderIdx.Get(f); live[fi] {
				x.placeFolder = append(x.placeFolder, fi)
			}
		}
	}
	x.placeStart = append(x.placeStart, int32(len(x.placeFolder)))
	x.byID = make([]int32, 0, len(x.videoIDs))
	for _, id := range snap.VideoIDs() {
		if i, ok := x.videoPos(id); ok {
			x.byID = append(x.byID, i)
		}
	}

	aux := x.auxiliary()
	x.placedUpTo = make([]int, len(x.preorder)+1)
	for p, f := range x.preorder {
		x.placedUpTo[p+1] = x.placedUpTo[p] + int(aux.vidStart[f+1]-aux.vidStart[f])
	}
	return x, nil
}

// videoPos returns the video's position, if it is a candidate.
func (x *layout) videoPos(id string) (int32, bool) {
	if x.videoOver != nil {
		if p, ok := x.videoOver[id]; ok {
			return p, p >= 0
		}
	}
	return x.videoIdx.Get(id)
}

// subtree returns the folders of f's subtree, f first, parents before
// children.
func (x *layout) subtree(f int32) []int32 { return x.preorder[x.pre[f]:x.preEnd[f]] }

// placedIn returns how many placements the subtree of f holds.
func (x *layout) placedIn(f int32) int { return x.placedUpTo[x.preEnd[f]] - x.placedUpTo[x.pre[f]] }

// contains reports whether folder g is in folder f's subtree.
func (x *layout) contains(f, g int32) bool { return x.pre[f] <= x.pre[g] && x.pre[g] < x.preEnd[f] }
