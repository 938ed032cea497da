package entitle

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/vidlib/vidlib/tree"
)

// maxCarriedChanges bounds the changes WithVideos patches into the cached
// views: past it (a sync round that moved hundreds of videos at once) the
// new Index starts with an empty cache, as one built with New does. Each
// change costs every cached view a point evaluation, and a listed one the
// visibility of its folders' ancestors.
const maxCarriedChanges = 64

// WithVideos returns an Index for snap, which must be x's snapshot with only
// videos changed: added, removed, moved to other folders, made playable or
// not, their Vimeo privacy or anything else changed, but no folder added,
// removed, moved, reordered or soft-deleted: SameFolders must hold (a
// folder's name may differ when its siblings' order does not). The caller
// vouches for that, as SameFolders costs a pass over the folders;
// WithVideos checks only that both snapshots have as many folders. changed
// lists every video whose row may differ; the others must be as they were.
// It answers every question as New(snap, x.Rules(), x.Version(), …) would,
// and x itself is unchanged and stays usable.
//
// Positions are stable, unlike New's: a video that is a candidate in both
// keeps its position (VideoPos), one that no longer is gets -1, and a new
// candidate gets the position it had before, if it ever had one, else one
// past every position x used. Folder positions do not change. So the
// listings built for x stay valid but for the changed videos, and the
// cached views are carried over, patched: each changed video's answer is
// evaluated for the view's subjects, and where it was or is listed, the
// visibility of the folders above its old and new placements is decided
// again (views it cannot change are shared as they are). Past
// maxCarriedChanges changed candidates the cache starts empty instead.
//
// What it costs: the placements and the per-folder video lists are copied
// with the changes in place (O(videos), a few milliseconds at a million),
// the compiled rules are shared unless a rule names a video that became or
// stopped being a candidate, and each cached view costs some microseconds
// per change (BenchmarkWithVideos: about 19 ms for a move at a million
// videos with 2,000 views cached). Videos numbered in folder preorder are
// what keep views small (see View), so positions drift from that order as
// videos move: callers build a new Index with New now and then
// (PatchedVideos; the library does past a bound), and the videos added or
// removed since New are kept in a map that each WithVideos copies.
func (x *Index) WithVideos(snap *tree.Snapshot, changed []string) (*Index, error) {
	if snap == nil {
		return nil, fmt.Errorf("%w: nil snapshot", ErrInvalid)
	}
	if nf, _ := snap.Len(); nf != len(x.folderIDs) {
		return nil, fmt.Errorf("%w: WithVideos: %d folders where the Index has %d", ErrInvalid, nf, len(x.folderIDs))
	}
	lay, ch := x.withVideos(snap, changed)
	if lay == x.layout { // no candidate or placement changed: x's views hold
		y := *x
		y.snap = snap
		return &y, nil
	}
	var y *Index
	if x.namesCandidacyChange(lay, ch) {
		y = compile(lay, snap, x.rules, x.version, x.bounds, x)
	} else {
		// Positions are stable: every compiled rule still names the same
		// positions and folders.
		c := *x
		y = &c
		y.layout, y.snap = lay, snap
		y.views = newLRU(x.bounds.views, x.bounds.bytes, func(e cachedView) int64 { return e.view.size() })
		y.shared = newLRU(x.bounds.views, x.bounds.bytes, (*View).size)
	}
	if len(ch) <= maxCarriedChanges {
		y.carryViews(x, ch)
	}
	return y, nil
}

// PatchedVideos is how many video changes WithVideos has patched in since
// the Index was built with New (a video changed twice counts twice, a
// change the Index does not compile not at all). Positions drift from the
// folder preorder with each, so views grow a little, and each WithVideos
// copies a map of the videos added or removed: past some thousands, build
// anew with New.
func (x *Index) PatchedVideos() int { return x.patched }

// SameFolders reports whether snap's folders are those x was compiled
// from, as far as the Index is concerned: the same ids in the same order
// (parents before children, siblings in order), the same parents and the
// same soft-deletions. Their names, descriptions and the like may differ.
// It costs a pass over the folders.
func (x *Index) SameFolders(snap *tree.Snapshot) bool {
	if nf, _ := snap.Len(); nf != len(x.folderIDs) {
		return false
	}
	i := 0
	for f := range snap.AllFolders() {
		live := !f.Deleted()
		switch p := x.parent[i]; {
		case f.VimeoID != x.folderIDs[i]:
			return false
		case p < 0:
			if f.ParentVimeoID != "" {
				return false
			}
		case f.ParentVimeoID != x.folderIDs[p]:
			return false
		default:
			live = live && x.live[p]
		}
		if live != x.live[i] {
			return false
		}
		i++
	}
	return true
}

// videoChange is what changed for one video between two layouts.
type videoChange struct {
	old, pos int32   // its position before and after; -1 when not a candidate
	was, now []int32 // its placements in live folders before and after
}

// slot is where the change happens: the video's position after, else
// before (a video keeps its slot for good).
func (c videoChange) slot() int32 {
	if c.pos >= 0 {
		return c.pos
	}
	return c.old
}

// namesCandidacyChange reports whether a rule names a video that became or
// stopped being a candidate (its compiled form then changes).
func (x *Index) namesCandidacyChange(lay *layout, ch []videoChange) bool {
	moved := map[string]bool{}
	for _, c := range ch {
		if (c.old < 0) != (c.pos < 0) {
			moved[lay.videoIDs[c.slot()]] = true
		}
	}
	if len(moved) == 0 {
		return false
	}
	return slices.ContainsFunc(x.rules, func(r Rule) bool { return r.Target.Kind == VideoTarget && moved[r.Target.ID] })
}

// withVideos returns the layout of snap, x's snapshot with only the named
// videos changed (see WithVideos), and what changed for the candidates: x
// itself when nothing did.
func (x *layout) withVideos(snap *tree.Snapshot, changed []string) (*layout, []videoChange) {
	var ch []videoChange
	var ids []string // the new candidates, slot for slot with added
	var added []int32
	over := maps.Clone(x.videoOver)
	if over == nil {
		over = map[string]int32{}
	}
	next := int32(len(x.videoIDs))
	seen := make(map[string]bool, len(changed))
	for _, id := range changed {
		if seen[id] {
			continue
		}
		seen[id] = true
		c := videoChange{old: -1, pos: -1}
		if p, ok := x.videoPos(id); ok {
			c.old, c.was = p, x.placeFolder[x.placeStart[p]:x.placeStart[p+1]]
		}
		if v := snap.Video(id); v != nil && v.Playable() && v.EmbedBlock(x.allowPwd) == "" {
			for _, f := range snap.FoldersOf(id) {
				if fi, ok := x.folderIdx.Get(f); ok && x.live[fi] {
					c.now = append(c.now, fi)
				}
			}
		}
		if len(c.now) > 0 {
			c.pos = c.old
			if c.pos < 0 {
				if s, ok := x.slotOf(id); ok {
					c.pos = s
				} else {
					c.pos = next
					next++
					ids = append(ids, id)
					added = append(added, c.pos)
				}
			}
		}
		if c.old == c.pos && slices.Equal(c.was, c.now) {
			continue // not a candidate, or one in the same places: nothing to do
		}
		if c.pos >= 0 {
			over[id] = c.pos
			if p, ok := x.videoIdx.Get(id); ok && p == c.pos {
				delete(over, id) // back where it was built
			}
		} else {
			over[id] = -1 - c.old
		}
		ch = append(ch, c)
	}
	if len(ch) == 0 {
		return x, nil
	}
	slices.SortFunc(ch, func(a, b videoChange) int { return cmp.Compare(a.slot(), b.slot()) })

	y := &layout{
		allowPwd: x.allowPwd, folderIDs: x.folderIDs, folderIdx: x.folderIdx, parent: x.parent, live: x.live,
		videoIDs: x.videoIDs, videoIdx: x.videoIdx, videoOver: over, byID: x.byID, patched: x.patched + len(ch),
		preorder: x.preorder, pre: x.pre, preEnd: x.preEnd,
	}
	if len(over) == 0 {
		y.videoOver = nil
	}
	if len(ids) > 0 {
		y.videoIDs = append(slices.Clip(x.videoIDs), ids...)
		// byID holds every slot, unused ones too (no view has them): the
		// new ones go in by id.
		slices.SortFunc(added, func(a, b int32) int { return cmp.Compare(y.videoIDs[a], y.videoIDs[b]) })
		y.byID = make([]int32, 0, len(x.byID)+len(added))
		i := 0
		for _, p := range x.byID {
			for ; i < len(added) && y.videoIDs[added[i]] < y.videoIDs[p]; i++ {
				y.byID = append(y.byID, added[i])
			}
			y.byID = append(y.byID, p)
		}
		y.byID = append(y.byID, added[i:]...)
	}

	// The placements, copied with the changed slots' in place.
	nv := int32(len(y.videoIDs))
	y.placeStart = make([]int32, 0, nv+1)
	y.placeFolder = make([]int32, 0, len(x.placeFolder)+len(ch))
	copyOld := func(from, to int32) { // x's slots [from, to)
		if from >= to {
			return
		}
		shift := int32(len(y.placeFolder)) - x.placeStart[from]
		for _, s := range x.placeStart[from:to] {
			y.placeStart = append(y.placeStart, s+shift)
		}
		y.placeFolder = append(y.placeFolder, x.placeFolder[x.placeStart[from]:x.placeStart[to]]...)
	}
	oldN := int32(len(x.videoIDs))
	prev := int32(0)
	for _, c := range ch {
		s := c.slot()
		copyOld(prev, min(s, oldN))
		y.placeStart = append(y.placeStart, int32(len(y.placeFolder)))
		y.placeFolder = append(y.placeFolder, c.now...)
		prev = s + 1
	}
	copyOld(prev, oldN)
	y.placeStart = append(y.placeStart, int32(len(y.placeFolder)))

	// The inverse maps: the folder-only ones shared, the videos per folder
	// copied with the touched folders' lists made anew.
	xa := x.auxiliary()
	y.aux.once.Do(func() {
		a := &y.aux
		a.childStart, a.child, a.sections, a.sectionOf = xa.childStart, xa.child, xa.sections, xa.sectionOf
		a.vidStart, a.vid = patchVids(xa.vidStart, xa.vid, ch)
	})
	y.placedUpTo = make([]int, len(y.preorder)+1)
	for p, f := range y.preorder {
		y.placedUpTo[p+1] = y.placedUpTo[p] + int(y.aux.vidStart[f+1]-y.aux.vidStart[f])
	}
	return y, ch
}

// patchVids returns the candidate videos per folder (csr form: folder f's
// are vid[start[f]:start[f+1]], ascending) with the changes made: the
// changed slots out of their old folders' lists and into their new ones'.
// The lists of the folders no change touches are copied as they are.
func patchVids(start, vid []int32, ch []videoChange) (nstart, nvid []int32) {
	slots := make(map[int32]bool, len(ch))
	into := map[int32][]int32{} // touched folder → changed slots placed there now
	for _, c := range ch {
		slots[c.slot()] = true
		for _, f := range c.was {
			if _, ok := into[f]; !ok {
				into[f] = nil // touched: the slot leaves it
			}
		}
		for _, f := range c.now {
			into[f] = append(into[f], c.slot())
		}
	}
	touched := slices.Sorted(maps.Keys(into))
	nf := int32(len(start) - 1)
	nstart = make([]int32, 0, nf+1)
	nvid = make([]int32, 0, len(vid)+len(ch))
	copyOld := func(from, to int32) { // folders [from, to)
		if from >= to {
			return
		}
		shift := int32(len(nvid)) - start[from]
		for _, s := range start[from:to] {
			nstart = append(nstart, s+shift)
		}
		nvid = append(nvid, vid[start[from]:start[to]]...)
	}
	prev := int32(0)
	for _, f := range touched {
		copyOld(prev, f)
		nstart = append(nstart, int32(len(nvid)))
		n := len(nvid)
		for _, v := range vid[start[f]:start[f+1]] {
			if !slots[v] {
				nvid = append(nvid, v)
			}
		}
		nvid = append(nvid, into[f]...)
		slices.Sort(nvid[n:])
		prev = f + 1
	}
	copyOld(prev, nf)
	return append(nstart, int32(len(nvid))), nvid
}

// slotOf returns the slot that is the video's for good, candidate or not,
// if it ever had one in this layout's line.
func (x *layout) slotOf(id string) (int32, bool) {
	if p, ok := x.videoOver[id]; ok {
		if p < 0 {
			p = -1 - p
		}
		return p, true
	}
	return x.videoIdx.Get(id)
}

// carryViews fills y's caches, empty, with x's cached views patched for the
// changes, in x's recency order. A view is patched once per set of matched
// subjects, its base first.
func (y *Index) carryViews(x *Index, ch []videoChange) {
	memo := map[string]*View{}
	sc := &patchScratch{decided: map[int32]uint8{}, seen: map[int32]bool{}, vis: map[int32]bool{}}
	var patch func(key string, v *View) *View
	patch = func(key string, v *View) *View {
		if p, ok := memo[key]; ok {
			return p
		}
		m := y.matchedOfKey(key)
		var p *View
		if v.base != nil {
			p = y.patchView(v, patch(string(m.without(m.user).key), v.base), m.ids, ch, sc)
		} else {
			p = y.patchView(v, nil, m.ids, ch, sc)
		}
		memo[key] = p
		return p
	}
	x.shared.oldestFirst(func(key string, v *View) {
		y.shared.add(key, patch(key, v))
	})
	x.views.oldestFirst(func(key string, e cachedView) {
		e.view = patch(e.subjects, e.view)
		y.views.add(key, e)
	})
}

// patchScratch is patchView's scratch, reused from view to view.
type patchScratch struct {
	decided   map[int32]uint8 // folder decisions under the view's subjects
	seen, vis map[int32]bool  // dirty folders; their visibility
	dirty     []int32
	was, now  []uint8
}

// matchedOfKey is the set of matched subjects whose key (matched.key) is
// key.
func (x *Index) matchedOfKey(key string) matched {
	ids := make([]int32, 0, len(key)/4)
	user := int32(-1)
	for i := 0; i+4 <= len(key); i += 4 {
		s := int32(binary.LittleEndian.Uint32([]byte(key[i : i+4])))
		ids = append(ids, s)
		if x.rules[x.subjRules[s][0]].Subject.Kind == User {
			user = s
		}
	}
	return matched{ids: ids, key: []byte(key), user: user}
}

// patchView returns v, a view of the Index y was patched from for the
// matched subjects m, as a view of y: whole when base is nil, else a delta
// over base (v's base, already patched). Only the changed videos' answers and the visibility of the
// folders above their old and new placements can differ; the rest is v's.
func (y *Index) patchView(v, base *View, m []int32, ch []videoChange, sc *patchScratch) *View {
	// Folder decisions under m, memoised: the dirty folders are asked for
	// again and again, up the same chains.
	decided := sc.decided
	clear(decided)
	var decision func(f int32) uint8
	decision = func(f int32) uint8 {
		if f < 0 {
			return undecided
		}
		if d, ok := decided[f]; ok {
			return d
		}
		d, _ := y.folderLevel(m, f)
		if d == undecided {
			d = decision(y.parent[f])
		}
		decided[f] = d
		return d
	}
	decisionAt := func(f int32) (uint8, int32) {
		if d := decision(f); d != teaserBit {
			return d, -1
		}
		return y.folderDecision(m, f) // the lock reason too
	}
	was := slices.Grow(sc.was[:0], len(ch))[:len(ch)]
	now := slices.Grow(sc.now[:0], len(ch))[:len(ch)]
	clear(was)
	clear(now)
	sc.was, sc.now = was, now
	listed := false
	for i, c := range ch {
		if c.old >= 0 {
			was[i] = v.answerAt(c.old)
		}
		if c.pos >= 0 {
			now[i] = y.videoAnswer(m, c.pos, decisionAt)
		}
		listed = listed || was[i] != vHidden || now[i] != vHidden
	}
	if !listed && base == nil {
		w := *v // nothing it lists changed: the same sets
		w.lay = y.layout
		return &w
	}

	// The folders whose visibility may change: the ancestors of the
	// placements through which a changed video was or is listed. Those
	// above a placement it is listed through now are visible; those above
	// one it was listed through are decided again, children before
	// parents, each until one is still visible (and so are its ancestors).
	vis := sc.vis
	clear(vis)
	markUp := func(f int32) {
		for ; f >= 0 && !vis[f]; f = y.parent[f] {
			vis[f] = true
		}
	}
	for i, c := range ch {
		if now[i] == vHidden {
			continue
		}
		vd, _ := y.levelAt(m, y.videoRules[c.pos])
		for _, f := range c.now {
			// Listed through this placement: a video rule lists it
			// through every one, else the folder's decision.
			if d := cmp.Or(vd, decision(f)); d == allowBit || d == teaserBit {
				markUp(f)
			}
		}
	}
	dirty, seen := sc.dirty[:0], sc.seen
	clear(seen)
	up := func(places []int32) {
		for _, f := range places {
			for ; f >= 0 && !seen[f]; f = y.parent[f] {
				seen[f] = true
				dirty = append(dirty, f)
			}
		}
	}
	for i, c := range ch {
		if was[i] != vHidden {
			up(c.was)
		}
	}
	slices.SortFunc(dirty, func(a, b int32) int { return cmp.Compare(y.pre[b], y.pre[a]) })
	aux := y.auxiliary()
	for _, f := range dirty {
		if vis[f] {
			continue
		}
		visible := false
		if direct := aux.vid[aux.vidStart[f]:aux.vidStart[f+1]]; len(direct) > 0 {
			fd := decision(f)
			for _, vi := range direct {
				d, _ := y.levelAt(m, y.videoRules[vi])
				if d == undecided {
					d = fd
				}
				if d == allowBit || d == teaserBit {
					visible = true
					break
				}
			}
		}
		for _, c := range aux.child[aux.childStart[f]:aux.childStart[f+1]] {
			if visible {
				break
			}
			if cv, ok := vis[c]; ok {
				visible = cv
			} else {
				visible = v.FolderAt(c)
			}
		}
		if visible {
			markUp(f)
		} else {
			vis[f] = false
		}
	}
	if base != nil {
		// The base may have changed above every changed video's old and
		// new placements: those folders' flips are recorded anew.
		dirty = dirty[:0]
		clear(seen)
		for _, c := range ch {
			up(c.was)
			up(c.now)
		}
	}
	sc.dirty = dirty

	w := &View{lay: y.layout, base: base, nv: v.nv, nf: v.nf, nl: v.nl}
	for i := range ch {
		w.nv += b2i(now[i] == vWatch) - b2i(was[i] == vWatch)
		w.nl += b2i(now[i] >= vLocked) - b2i(was[i] >= vLocked)
	}
	for f, visible := range vis {
		w.nf += b2i(visible) - b2i(v.FolderAt(f))
	}
	if base != nil {
		return w.withOverrides(v, ch, now, vis, seen)
	}
	return w.withSets(v, ch, was, now, vis)
}

// answerAt is the view's answer for the video at pos.
func (v *View) answerAt(pos int32) uint8 {
	if v.base != nil {
		if s, ok := v.override(pos); ok {
			return s
		}
		return v.base.answer(pos)
	}
	return v.answer(pos)
}

// withSets makes w, a whole view, v's sets with the changed videos'
// answers (was → now, slot for slot with ch, which is sorted by slot) and
// the dirty folders' visibility (vis) in place.
func (w *View) withSets(v *View, ch []videoChange, was, now []uint8, vis map[int32]bool) *View {
	var watchOn, watchOff, listedOn, listedOff []int32
	lockOn := make([][]int32, len(LockReasons))
	lockOff := make([][]int32, len(LockReasons))
	for i, c := range ch {
		s, a, b := c.slot(), was[i], now[i]
		if a == b {
			continue
		}
		switch {
		case a == vWatch:
			watchOff = append(watchOff, s)
		case a >= vLocked:
			lockOff[a-vLocked] = append(lockOff[a-vLocked], s)
		}
		switch {
		case b == vWatch:
			watchOn = append(watchOn, s)
		case b >= vLocked:
			lockOn[b-vLocked] = append(lockOn[b-vLocked], s)
		}
		if (a == vHidden) != (b == vHidden) {
			if b == vHidden {
				listedOff = append(listedOff, s)
			} else {
				listedOn = append(listedOn, s)
			}
		}
	}
	w.videos = v.videos.update(watchOn, watchOff)
	w.listed = w.videos
	if w.nl > 0 {
		w.listed = v.listed.update(listedOn, listedOff)
		w.locked = make([]runs, len(LockReasons))
		for r := range LockReasons {
			var rs runs
			if v.locked != nil {
				rs = v.locked[r]
			}
			w.locked[r] = rs.update(lockOn[r], lockOff[r])
		}
	}
	var on, off []int32
	for f, visible := range vis {
		if visible != v.folderAt(f) {
			if visible {
				on = append(on, w.lay.pre[f])
			} else {
				off = append(off, w.lay.pre[f])
			}
		}
	}
	slices.Sort(on)
	slices.Sort(off)
	w.folders = v.folders.update(on, off)
	return w
}

// withOverrides makes w, a delta view over its (patched) base, v's
// overrides with the changed videos' answers (now, slot for slot with ch)
// and the visibility of the folders above their old and new placements
// (chain: vis where decided again, else v's) recorded where they differ
// from the base's. It returns the base itself when nothing differs.
func (w *View) withOverrides(v *View, ch []videoChange, now []uint8, vis, chain map[int32]bool) *View {
	slots := make(map[int32]uint8, len(ch))
	for i, c := range ch {
		slots[c.slot()] = now[i]
	}
	for i, pos := range v.vpos {
		if _, changed := slots[pos]; !changed {
			w.vpos = append(w.vpos, pos)
			w.vstate = append(w.vstate, v.vstate[i])
		}
	}
	for i, c := range ch {
		if s := c.slot(); now[i] != w.base.answer(s) {
			w.vpos = append(w.vpos, s)
			w.vstate = append(w.vstate, now[i])
		}
	}
	for _, f := range v.fpos {
		if !chain[f] {
			w.fpos = append(w.fpos, f)
		}
	}
	for f := range chain {
		visible, ok := vis[f]
		if !ok {
			visible = v.FolderAt(f)
		}
		if visible != w.base.folderAt(f) {
			w.fpos = append(w.fpos, f)
		}
	}
	if len(w.vpos) == 0 && len(w.fpos) == 0 {
		return w.base
	}
	sortTogether(w.vpos, w.vstate)
	slices.Sort(w.fpos)
	return w
}

// sortTogether sorts pos and, in step, state.
func sortTogether(pos []int32, state []uint8) {
	if slices.IsSorted(pos) {
		return
	}
	idx := make([]int, len(pos))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(pos[a], pos[b]) })
	p, s := slices.Clone(pos), slices.Clone(state)
	for i, j := range idx {
		pos[i], state[i] = p[j], s[j]
	}
}

// update returns the set r with the positions of on added and those of off
// removed (both sorted, neither in both): a new set, r unchanged, in one
// pass over r.
func (r runs) update(on, off []int32) runs {
	if len(on) == 0 && len(off) == 0 {
		return r
	}
	out := make(runs, 0, len(r)+2*len(on)+2*len(off))
	add := func(lo, hi int32) {
		if lo >= hi {
			return
		}
		if n := len(out); n > 0 && out[n-1] == lo {
			out[n-1] = hi
			return
		}
		out = append(out, lo, hi)
	}
	i, j := 0, 0 // next of on, of off
	for k := 0; k+1 < len(r); k += 2 {
		lo, hi := r[k], r[k+1]
		for ; i < len(on) && on[i] < lo; i++ {
			add(on[i], on[i]+1)
		}
		for j < len(off) && off[j] < lo { // not in r: nothing to remove
			j++
		}
		for i < len(on) && on[i] < hi { // in r already
			i++
		}
		cur := lo
		for ; j < len(off) && off[j] < hi; j++ {
			add(cur, off[j])
			cur = off[j] + 1
		}
		add(cur, hi)
	}
	for ; i < len(on); i++ {
		add(on[i], on[i]+1)
	}
	return slices.Clip(out)
}
