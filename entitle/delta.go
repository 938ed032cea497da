package entitle

import (
	"cmp"
	"slices"
)

// levelAt applies one level for the matched subjects m (sorted): undecided when
// no rule there matches, else denyBit, allowBit or teaserBit (resolve's
// order), and the lowest-id matching teaser rule (-1 if none). rules are
// indexes into x.rules, ascending.
func (x *Index) levelAt(m []int32, rules []int32) (uint8, int32) {
	var d uint8
	tease := int32(-1)
	for _, ri := range rules {
		if _, ok := slices.BinarySearch(m, x.ruleSubj[ri]); !ok {
			continue
		}
		switch x.rules[ri].Effect {
		case Allow:
			d |= allowBit
		case Deny:
			d |= denyBit
		case Teaser:
			d |= teaserBit
			if tease < 0 {
				tease = ri
			}
		}
	}
	return resolve(d), tease
}

// folderDecision walks up from folder f (-1: none) to the first level where
// a rule matches m, and returns its outcome and lowest-id matching teaser.
func (x *Index) folderDecision(m []int32, f int32) (uint8, int32) {
	for ; f >= 0; f = x.parent[f] {
		if d, t := x.levelAt(m, x.folderRules[f]); d != undecided {
			return d, t
		}
	}
	return undecided, -1
}

// userView computes the view of the matched subjects m, which include the
// user subject user, from base, the view of m without it. Only the user's
// rules differ between the two, so only these answers can differ: the videos
// placed in the subtrees of the folders the user's rules name, the videos
// they name, and the visibility of the folders of those subtrees, of the
// named videos' placements and of their ancestors. userView recomputes
// exactly those, in time proportional to the subtrees (and, for each
// ancestor, its direct videos and children), and keeps the answers that
// differ from base.
func (x *Index) userView(base *View, m []int32, user int32) *View {
	// The outermost folders the user's rules name; their subtrees are
	// disjoint ranges of the preorder.
	var roots, named []int32
	for _, r := range x.bySubject[user] {
		if r.folder {
			roots = append(roots, r.target)
		} else {
			named = append(named, r.target)
		}
	}
	slices.SortFunc(roots, func(a, b int32) int { return cmp.Compare(x.pre[a], x.pre[b]) })
	outer := roots[:0]
	for _, f := range roots {
		if len(outer) == 0 || !x.contains(outer[len(outer)-1], f) {
			outer = append(outer, f)
		}
	}
	roots = outer
	// off[i] is where roots[i]'s subtree starts in dec, tease and vis.
	off := make([]int32, len(roots)+1)
	for i, f := range roots {
		off[i+1] = off[i] + x.preEnd[f] - x.pre[f]
	}
	n := off[len(roots)]
	dec := make([]uint8, n)   // folder decision under m
	tease := make([]int32, n) // its lowest-id teaser, when dec is teaserBit
	vis := make([]bool, n)    // folder visibility under m
	// slot returns f's index into dec, tease and vis, or -1 outside the roots' subtrees.
	slot := func(f int32) int32 {
		i, _ := slices.BinarySearchFunc(roots, x.pre[f], func(r, p int32) int { return cmp.Compare(x.pre[r], p) })
		if i < len(roots) && roots[i] == f {
			return off[i]
		}
		if i--; i >= 0 && x.contains(roots[i], f) {
			return off[i] + x.pre[f] - x.pre[roots[i]]
		}
		return -1
	}
	// Folder decisions flow down each subtree from the root's inherited one.
	for i, root := range roots {
		start := x.pre[root]
		for p := start; p < x.preEnd[root]; p++ {
			f, k := x.preorder[p], off[i]+p-start
			d, t := x.levelAt(m, x.folderRules[f])
			if d == undecided {
				if f == root {
					d, t = x.folderDecision(m, x.parent[f])
				} else {
					q := off[i] + x.pre[x.parent[f]] - start
					d, t = dec[q], tease[q]
				}
			}
			dec[k], tease[k] = d, t
		}
	}
	decisionAt := func(f int32) (uint8, int32) {
		if k := slot(f); k >= 0 {
			return dec[k], tease[k]
		}
		return x.folderDecision(m, f)
	}
	// placed reports whether video vi's placement in folder f, whose decision
	// is fd, lists it (lighting the folder and its ancestors).
	placed := func(vi int32, fd uint8) bool {
		if d, _ := x.levelAt(m, x.videoRules[vi]); d != undecided {
			return d != denyBit
		}
		return fd == allowBit || fd == teaserBit
	}

	// Videos: every one placed in the subtrees, and the named ones.
	aux := x.auxiliary()
	videos := slices.Clone(named)
	for _, root := range roots {
		for _, f := range x.subtree(root) {
			videos = append(videos, aux.vid[aux.vidStart[f]:aux.vidStart[f+1]]...)
		}
	}
	slices.Sort(videos)
	videos = slices.Compact(videos)
	v := &View{lay: x.layout, base: base, nv: base.nv, nf: base.nf, nl: base.nl}
	for _, vi := range videos {
		now, was := x.videoAnswer(m, vi, decisionAt), base.answer(vi)
		if now == was {
			continue
		}
		v.vpos = append(v.vpos, vi)
		v.vstate = append(v.vstate, now)
		v.nv += b2i(now == vWatch) - b2i(was == vWatch)
		v.nl += b2i(now >= vLocked) - b2i(was >= vLocked)
	}

	// Folders inside the subtrees, children before parents.
	for i, root := range roots {
		start := x.pre[root]
		for p := x.preEnd[root] - 1; p >= start; p-- {
			f, k := x.preorder[p], off[i]+p-start
			if !vis[k] {
				for _, vi := range aux.vid[aux.vidStart[f]:aux.vidStart[f+1]] {
					if placed(vi, dec[k]) {
						vis[k] = true
						break
					}
				}
			}
			if vis[k] && f != root {
				vis[off[i]+x.pre[x.parent[f]]-start] = true
			}
			if vis[k] != hasBit(base.folders, f) {
				v.fpos = append(v.fpos, f)
			}
		}
	}
	// Folders outside them whose visibility may change: the named videos'
	// placements outside the subtrees, and the ancestors of those and of the
	// roots; children before parents (descending preorder).
	var dirty []int32
	seen := map[int32]bool{}
	up := func(f int32) {
		for ; f >= 0 && !seen[f]; f = x.parent[f] {
			seen[f] = true
			dirty = append(dirty, f)
		}
	}
	for _, root := range roots {
		up(x.parent[root])
	}
	for _, vi := range named {
		for _, f := range x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]] {
			if slot(f) < 0 {
				up(f)
			}
		}
	}
	slices.SortFunc(dirty, func(a, b int32) int { return cmp.Compare(x.pre[b], x.pre[a]) })
	outside := make(map[int32]bool, len(dirty)) // dirty folder → visible under m
	childVisible := func(c int32) bool {
		if k := slot(c); k >= 0 {
			return vis[k]
		}
		if visible, ok := outside[c]; ok {
			return visible
		}
		return hasBit(base.folders, c)
	}
	for _, f := range dirty {
		visible := false
		if direct := aux.vid[aux.vidStart[f]:aux.vidStart[f+1]]; len(direct) > 0 {
			fd, _ := x.folderDecision(m, f)
			for _, vi := range direct {
				if placed(vi, fd) {
					visible = true
					break
				}
			}
		}
		if !visible {
			for _, c := range aux.child[aux.childStart[f]:aux.childStart[f+1]] {
				if childVisible(c) {
					visible = true
					break
				}
			}
		}
		outside[f] = visible
		if visible != hasBit(base.folders, f) {
			v.fpos = append(v.fpos, f)
		}
	}
	slices.Sort(v.fpos)
	for _, f := range v.fpos {
		if hasBit(base.folders, f) {
			v.nf--
		} else {
			v.nf++
		}
	}
	// A delta bigger than a whole view is stored as a whole view.
	if v.bytes() > base.bytes() {
		return v.whole()
	}
	return v
}

// videoAnswer evaluates §5 for candidate video vi under the matched subjects
// m, given its placements' folder decisions: a matching video rule decides for
// every placement; otherwise it may be watched if some placement allows it,
// else it is locked by the first placement a teaser locks.
func (x *Index) videoAnswer(m []int32, vi int32, decisionAt func(f int32) (uint8, int32)) uint8 {
	if d, t := x.levelAt(m, x.videoRules[vi]); d != undecided {
		switch d {
		case denyBit:
			return vHidden
		case allowBit:
			return vWatch
		}
		return vLocked + x.ruleLock[t]
	}
	answer := vHidden
	for _, f := range x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]] {
		switch d, t := decisionAt(f); d {
		case allowBit:
			return vWatch
		case teaserBit:
			if answer == vHidden {
				answer = vLocked + x.ruleLock[t]
			}
		}
	}
	return answer
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
