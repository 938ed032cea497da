package entitle

import (
	"cmp"
	"math/bits"
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

// folderLevel is levelAt for folder f's rules, found by subject.
func (x *Index) folderLevel(m []int32, f int32) (uint8, int32) {
	rules := x.folderBySubject[f]
	if len(rules) == 0 {
		return undecided, -1
	}
	var d uint8
	tease := int32(-1)
	for _, s := range m {
		i, _ := slices.BinarySearchFunc(rules, s, func(ri, s int32) int { return cmp.Compare(x.ruleSubj[ri], s) })
		for ; i < len(rules) && x.ruleSubj[rules[i]] == s; i++ {
			switch ri := rules[i]; x.rules[ri].Effect {
			case Allow:
				d |= allowBit
			case Deny:
				d |= denyBit
			case Teaser:
				d |= teaserBit
				if tease < 0 || ri < tease {
					tease = ri
				}
			}
		}
	}
	return resolve(d), tease
}

// folderDecision walks up from folder f (-1: none) to the first level where
// a rule matches m, and returns its outcome and lowest-id matching teaser.
func (x *Index) folderDecision(m []int32, f int32) (uint8, int32) {
	for ; f >= 0; f = x.parent[f] {
		if d, t := x.folderLevel(m, f); d != undecided {
			return d, t
		}
	}
	return undecided, -1
}

// defaultDeltaShare: when the subtrees of a user's rules hold more than
// 1/defaultDeltaShare of the library's placements, the user's view is
// computed whole (one pass over the library is then cheaper than the delta's
// work per video) and then stored as a delta over base if that is smaller.
// (Index.deltaShare; tests change it to exercise both ways.)
const defaultDeltaShare = 4

// userView computes the view of the matched subjects m, which include the
// user subject user, from base, the view of m without it. Only the user's
// rules differ between the two, so only these answers can differ: the videos
// placed in the subtrees of the folders the user's rules name, the videos
// they name, and the visibility of the folders of those subtrees, of the
// named videos' placements and of their ancestors. userView recomputes
// exactly those, in time proportional to the subtrees (and, for each
// ancestor, its direct videos and children), and keeps the answers that
// differ from base. When the subtrees hold more than 1/deltaShare of the
// placements it computes the whole view instead (see defaultDeltaShare).
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
	placements := 0
	for _, f := range roots {
		if len(outer) == 0 || !x.contains(outer[len(outer)-1], f) {
			outer = append(outer, f)
			placements += x.placedIn(f)
		}
	}
	roots = outer
	if x.deltaShare*placements > len(x.placeFolder) {
		return deltaOf(base, x.compute(m))
	}
	// off[i] is where roots[i]'s subtree starts in dec, tease and vis.
	off := make([]int32, len(roots)+1)
	for i, f := range roots {
		off[i+1] = off[i] + x.preEnd[f] - x.pre[f]
	}
	n := off[len(roots)]
	dec := make([]uint8, n)   // folder decision under m
	tease := make([]int32, n) // its lowest-id matching teaser + 1 (0: none)
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
	// The matching rules on the subtrees' folders and on videos.
	type effects struct {
		bits  uint8
		tease int32 // lowest-id teaser + 1 (0: none)
	}
	vrules := map[int32]effects{}
	for _, s := range m {
		for _, r := range x.bySubject[s] {
			if r.folder {
				if k := slot(r.target); k >= 0 {
					dec[k] |= r.effect
					if r.effect == teaserBit && (tease[k] == 0 || r.rule+1 < tease[k]) {
						tease[k] = r.rule + 1
					}
				}
				continue
			}
			e := vrules[r.target]
			e.bits |= r.effect
			if r.effect == teaserBit && (e.tease == 0 || r.rule+1 < e.tease) {
				e.tease = r.rule + 1
			}
			vrules[r.target] = e
		}
	}
	// videoLevel is video vi's own decision under m (undecided when no
	// matching rule names it) and its lowest-id teaser.
	videoLevel := func(vi int32) (uint8, int32) {
		if e, ok := vrules[vi]; ok {
			return resolve(e.bits), e.tease - 1
		}
		return undecided, -1
	}
	// Folder decisions flow down each subtree from the root's inherited one.
	for i, root := range roots {
		start := x.pre[root]
		for p := start; p < x.preEnd[root]; p++ {
			f, k := x.preorder[p], off[i]+p-start
			switch {
			case dec[k] != undecided:
				dec[k] = resolve(dec[k])
			case f == root:
				d, t := x.folderDecision(m, x.parent[f])
				dec[k], tease[k] = d, t+1
			default:
				q := off[i] + x.pre[x.parent[f]] - start
				dec[k], tease[k] = dec[q], tease[q]
			}
		}
	}

	type override struct {
		pos   int32
		state uint8
	}
	var changed []override
	v := &View{lay: x.layout, base: base, nv: base.nv, nf: base.nf, nl: base.nl}
	record := func(vi int32, now uint8) {
		if was := base.answer(vi); now != was {
			changed = append(changed, override{vi, now})
			v.nv += b2i(now == vWatch) - b2i(was == vWatch)
			v.nl += b2i(now >= vLocked) - b2i(was >= vLocked)
		}
	}
	// Videos placed in several folders are answered once, at the end, with
	// the named ones outside the subtrees.
	several := map[int32]bool{}
	aux := x.auxiliary()
	// The subtrees' folders, children before parents: their videos' answers
	// and their visibility.
	for i, root := range roots {
		start := x.pre[root]
		for p := x.preEnd[root] - 1; p >= start; p-- {
			f, k := x.preorder[p], off[i]+p-start
			fd := dec[k]
			for _, vi := range aux.vid[aux.vidStart[f]:aux.vidStart[f+1]] {
				d, t := videoLevel(vi)
				if d == undecided {
					d, t = fd, tease[k]-1
				}
				if d == allowBit || d == teaserBit {
					vis[k] = true
				}
				if x.placeStart[vi+1]-x.placeStart[vi] > 1 {
					several[vi] = true
				} else {
					record(vi, answerOf(d, t, x.ruleLock))
				}
			}
			if vis[k] && f != root {
				vis[off[i]+x.pre[x.parent[f]]-start] = true
			}
			if vis[k] != base.folderAt(f) {
				v.fpos = append(v.fpos, f)
			}
		}
	}
	decisionAt := func(f int32) (uint8, int32) {
		if k := slot(f); k >= 0 {
			return dec[k], tease[k] - 1
		}
		return x.folderDecision(m, f)
	}
	for _, vi := range named {
		if !slices.ContainsFunc(x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]], func(f int32) bool { return slot(f) >= 0 }) {
			several[vi] = true // not answered above
		}
	}
	for vi := range several {
		record(vi, x.videoAnswer(m, vi, decisionAt))
	}

	// Folders outside the subtrees whose visibility may change: the named
	// videos' placements outside them, and the ancestors of those and of the
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
		return base.folderAt(c)
	}
	for _, f := range dirty {
		visible := false
		if direct := aux.vid[aux.vidStart[f]:aux.vidStart[f+1]]; len(direct) > 0 {
			fd, _ := x.folderDecision(m, f)
			for _, vi := range direct {
				d, _ := videoLevel(vi)
				if d == undecided {
					d = fd
				}
				if d == allowBit || d == teaserBit {
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
		if visible != base.folderAt(f) {
			v.fpos = append(v.fpos, f)
		}
	}

	slices.Sort(v.fpos)
	for _, f := range v.fpos {
		if base.folderAt(f) {
			v.nf--
		} else {
			v.nf++
		}
	}
	slices.SortFunc(changed, func(a, b override) int { return cmp.Compare(a.pos, b.pos) })
	v.vpos = make([]int32, len(changed))
	v.vstate = make([]uint8, len(changed))
	for i, o := range changed {
		v.vpos[i], v.vstate[i] = o.pos, o.state
	}
	switch {
	case len(v.vpos) == 0 && len(v.fpos) == 0:
		return base // the user's rules change nothing: share the base
	case v.bytes() > base.bytes():
		return v.whole() // a delta bigger than a whole view is stored whole
	}
	return v
}

// answerOf is a video's answer from the decision d of the level that
// decides it, with t its lowest-id matching teaser.
func answerOf(d uint8, t int32, ruleLock []uint8) uint8 {
	switch d {
	case allowBit:
		return vWatch
	case teaserBit:
		return vLocked + ruleLock[t]
	}
	return vHidden
}

// deltaOf returns w (a whole view of the same layout) as a delta over base
// when that is smaller, else w.
func deltaOf(base, w *View) *View {
	v := &View{lay: w.lay, base: base, nv: w.nv, nf: w.nf, nl: w.nl}
	limit := w.bytes()
	wb, bb := w.bits(), base.bits()
	word := func(bits [][]uint64, r, i int) uint64 {
		if r < len(bits) && bits[r] != nil {
			return bits[r][i]
		}
		return 0
	}
	for i := range wb.videos {
		d := (wb.videos[i] ^ bb.videos[i]) | (wb.listed[i] ^ bb.listed[i])
		for r := range LockReasons {
			d |= (word(wb.locked, r, i) ^ word(bb.locked, r, i))
		}
		for ; d != 0; d &= d - 1 {
			pos := int32(i*64 + bits.TrailingZeros64(d))
			v.vpos = append(v.vpos, pos)
			v.vstate = append(v.vstate, w.answer(pos))
		}
		if 5*len(v.vpos) > limit {
			return w
		}
	}
	for i := range wb.folders {
		for d := wb.folders[i] ^ bb.folders[i]; d != 0; d &= d - 1 {
			v.fpos = append(v.fpos, int32(i*64+bits.TrailingZeros64(d)))
		}
	}
	switch {
	case len(v.vpos) == 0 && len(v.fpos) == 0:
		return base
	case v.bytes() > limit:
		return w
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
