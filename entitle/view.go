package entitle

import (
	"math/bits"
	"slices"
	"unsafe"
)

// View is what one audience may see in one Index: the videos it may watch,
// the videos listed to it locked by a teaser (with their lock reasons), and
// the folders that hold any of them. It is immutable and safe for concurrent
// use.
//
// A view is either whole (its sets as runs of positions: videos by their
// position, folders by their place in the folder preorder) or, for a user
// some rule names, a delta: the whole view of the user's roles and segments
// (base) and the answers the user's rules change, sorted by position.
// Videos are numbered in folder preorder (newLayout), so what a rule on a
// folder decides is one range of positions: at a million videos a whole
// view's sets are a few hundred to a few thousand runs (a few KB) where
// bitsets take 137 KB. A lookup is a binary search over the runs.
type View struct {
	lay     *layout
	videos  runs   // may watch
	listed  runs   // videos plus the locked ones; the same runs as videos when none is locked
	locked  []runs // per index into LockReasons; nil when none is locked
	folders runs   // hold a listed video in their subtree; by preorder place (layout.pre)
	nv, nf  int
	nl      int // locked videos

	base   *View   // a delta view's base (a whole view); nil for a whole view
	vpos   []int32 // videos whose answer differs from base's, ascending
	vstate []uint8 // their answers (vHidden, vWatch, vLocked+reason)
	fpos   []int32 // folders whose visibility differs from base's, ascending
}

// A video's answer in a delta view.
const (
	vHidden uint8 = 0 // neither watchable nor listed
	vWatch  uint8 = 1 // may watch
	vLocked uint8 = 2 // listed locked; vLocked+i for LockReasons[i]
)

func setBit(b []uint64, i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func clearBit(b []uint64, i int32)    { b[i>>6] &^= 1 << (uint(i) & 63) }
func flipBit(b []uint64, i int32)     { b[i>>6] ^= 1 << (uint(i) & 63) }
func hasBit(b []uint64, i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

// runs is a set of positions as sorted, disjoint, non-adjacent half-open
// ranges: [r[0], r[1]), [r[2], r[3]), …
type runs []int32

// has reports whether i is in the set: whether an odd number of bounds is
// at most i.
func (r runs) has(i int32) bool {
	lo, hi := 0, len(r)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r[m] <= i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo&1 == 1
}

// runsOf returns the set of the bits set in words.
func runsOf(words []uint64) runs {
	var out runs
	in := false
	for w, word := range words {
		for off := 0; off < 64; {
			x := word >> off
			if in {
				x = ^word >> off
			}
			if x == 0 {
				break
			}
			off += bits.TrailingZeros64(x)
			out = append(out, int32(w*64+off))
			in = !in
		}
	}
	if in {
		out = append(out, int32(len(words)*64))
	}
	return slices.Clip(out)
}

// bits returns the set as a bitset of n words.
func (r runs) bits(n int) []uint64 {
	b := make([]uint64, n)
	for k := 0; k+1 < len(r); k += 2 {
		for i := r[k]; i < r[k+1]; {
			if i&63 == 0 && r[k+1]-i >= 64 {
				b[i>>6] = ^uint64(0)
				i += 64
				continue
			}
			setBit(b, i)
			i++
		}
	}
	return b
}

// bitView is a whole view as bitsets over the positions: the form a view is
// computed, compared and patched in (a View keeps its videos as runs).
type bitView struct {
	videos  []uint64
	listed  []uint64 // set by View.bits; view derives its own
	locked  [][]uint64
	folders []uint64
	nv, nf  int
	nl      int
}

func newBitView(lay *layout) *bitView {
	return &bitView{videos: make([]uint64, (len(lay.videoIDs)+63)/64), folders: make([]uint64, (len(lay.folderIDs)+63)/64)}
}

// lock marks candidate video i locked for LockReasons[reason].
func (b *bitView) lock(i int32, reason uint8) {
	if b.locked == nil {
		b.locked = make([][]uint64, len(LockReasons))
	}
	if b.locked[reason] == nil {
		b.locked[reason] = make([]uint64, len(b.videos))
	}
	setBit(b.locked[reason], i)
	b.nl++
}

// view returns b as a whole View (b's folders become the view's).
func (b *bitView) view(lay *layout) *View {
	inPre := make([]uint64, len(b.folders))
	forBits(b.folders, func(f int32) { setBit(inPre, lay.pre[f]) })
	v := &View{lay: lay, videos: runsOf(b.videos), folders: runsOf(inPre), nv: b.nv, nf: b.nf, nl: b.nl}
	v.listed = v.videos
	if b.nl > 0 {
		listed := slices.Clone(b.videos)
		v.locked = make([]runs, len(LockReasons))
		for r, bits := range b.locked {
			if bits == nil {
				continue
			}
			v.locked[r] = runsOf(bits)
			for w, word := range bits {
				listed[w] |= word
			}
		}
		v.listed = runsOf(listed)
	}
	return v
}

// bits returns the view as bitsets (new ones: the caller may change them).
func (v *View) bits() *bitView {
	if v.base != nil {
		return v.patched()
	}
	n := (len(v.lay.videoIDs) + 63) / 64
	b := &bitView{videos: v.videos.bits(n), folders: make([]uint64, (len(v.lay.folderIDs)+63)/64), nv: v.nv, nf: v.nf, nl: v.nl}
	for k := 0; k+1 < len(v.folders); k += 2 {
		for _, f := range v.lay.preorder[v.folders[k]:v.folders[k+1]] {
			setBit(b.folders, f)
		}
	}
	b.listed = b.videos
	if v.locked != nil {
		b.locked = make([][]uint64, len(LockReasons))
		for r, rs := range v.locked {
			if rs != nil {
				b.locked[r] = rs.bits(n)
			}
		}
		b.listed = v.listed.bits(n)
	}
	return b
}

// answer is the video at pos's answer in a whole view.
func (v *View) answer(pos int32) uint8 {
	if v.videos.has(pos) {
		return vWatch
	}
	for r, rs := range v.locked {
		if rs.has(pos) {
			return vLocked + uint8(r)
		}
	}
	return vHidden
}

// override returns a delta view's answer for the video at pos, if it has
// one.
func (v *View) override(pos int32) (uint8, bool) {
	if i, ok := slices.BinarySearch(v.vpos, pos); ok {
		return v.vstate[i], true
	}
	return 0, false
}

// Video reports whether the audience may watch the video (see it in detail
// and play it). A locked video is not: see Listed and Locked.
func (v *View) Video(videoID string) bool {
	i, ok := v.lay.videoPos(videoID)
	return ok && v.VideoAt(i)
}

// Listed reports whether the video is listed to the audience: it may watch
// it, or a teaser lists it locked.
func (v *View) Listed(videoID string) bool {
	i, ok := v.lay.videoPos(videoID)
	return ok && v.ListedAt(i)
}

// Locked reports whether a teaser lists the video locked, and why.
func (v *View) Locked(videoID string) (LockReason, bool) {
	i, ok := v.lay.videoPos(videoID)
	if !ok {
		return "", false
	}
	return v.LockedAt(i)
}

// Folder reports whether the folder is visible (some video in its subtree is
// listed: watchable or locked).
func (v *View) Folder(folderID string) bool {
	i, ok := v.lay.folderIdx.Get(folderID)
	return ok && v.FolderAt(i)
}

// FolderAt reports whether the folder at pos (from Index.FolderPos) is
// visible; a negative pos is not.
func (v *View) FolderAt(pos int32) bool {
	if pos < 0 {
		return false
	}
	if v.base != nil {
		_, flipped := slices.BinarySearch(v.fpos, pos)
		return v.base.folderAt(pos) != flipped
	}
	return v.folderAt(pos)
}

// folderAt is FolderAt in a whole view.
func (v *View) folderAt(pos int32) bool { return v.folders.has(v.lay.pre[pos]) }

// VideoAt reports whether the audience may watch the video at pos (from
// Index.VideoPos); a negative pos is not.
func (v *View) VideoAt(pos int32) bool {
	if pos < 0 {
		return false
	}
	if v.base != nil {
		if s, ok := v.override(pos); ok {
			return s == vWatch
		}
		return v.base.videos.has(pos)
	}
	return v.videos.has(pos)
}

// ListedAt reports whether the video at pos is listed (watchable or locked).
func (v *View) ListedAt(pos int32) bool {
	if pos < 0 {
		return false
	}
	if v.base != nil {
		if s, ok := v.override(pos); ok {
			return s != vHidden
		}
		return v.base.listed.has(pos)
	}
	return v.listed.has(pos)
}

// LockedAt reports whether the video at pos is listed locked, and why.
func (v *View) LockedAt(pos int32) (LockReason, bool) {
	if pos < 0 {
		return "", false
	}
	if v.base != nil {
		if s, ok := v.override(pos); ok {
			if s >= vLocked {
				return LockReasons[s-vLocked], true
			}
			return "", false
		}
		return v.base.LockedAt(pos)
	}
	if v.locked == nil {
		return "", false
	}
	for r, rs := range v.locked {
		if rs.has(pos) {
			return LockReasons[r], true
		}
	}
	return "", false
}

// Len returns how many folders are visible and how many videos the audience
// may watch (locked videos not included: see LockedLen).
func (v *View) Len() (folders, videos int) { return v.nf, v.nv }

// LockedLen returns how many videos are listed locked.
func (v *View) LockedLen() int { return v.nl }

// VideoIDs returns the ids of the videos the audience may watch, sorted.
func (v *View) VideoIDs() []string {
	out := make([]string, 0, v.nv)
	for _, i := range v.lay.byID {
		if v.VideoAt(i) {
			out = append(out, v.lay.videoIDs[i])
		}
	}
	return out
}

// FolderIDs returns the visible folders' ids, parents before children.
func (v *View) FolderIDs() []string {
	out := make([]string, 0, v.nf)
	for i, id := range v.lay.folderIDs {
		if v.FolderAt(int32(i)) {
			out = append(out, id)
		}
	}
	return out
}

// whole returns the view whole: v itself when it is, else a new whole
// view with the overrides applied to the base's sets.
func (v *View) whole() *View {
	if v.base == nil {
		return v
	}
	return v.patched().view(v.lay)
}

// patched returns a delta view's bitsets: the base's with the overrides
// applied.
func (v *View) patched() *bitView {
	w := v.base.bits()
	if w.locked != nil {
		w.listed = nil // recomputed below
	}
	for i, pos := range v.vpos {
		clearBit(w.videos, pos)
		for _, bits := range w.locked {
			if bits != nil {
				clearBit(bits, pos)
			}
		}
		switch s := v.vstate[i]; {
		case s == vWatch:
			setBit(w.videos, pos)
		case s >= vLocked:
			w.lock(pos, s-vLocked) // counted below
		}
	}
	w.nv, w.nf, w.nl = v.nv, v.nf, v.nl
	for _, pos := range v.fpos {
		flipBit(w.folders, pos)
	}
	w.listed = w.videos
	if w.locked != nil {
		w.listed = slices.Clone(w.videos)
		for _, bits := range w.locked {
			for i, word := range bits {
				w.listed[i] |= word
			}
		}
	}
	return w
}

// size is bytes with the View itself: what a cached view costs.
func (v *View) size() int64 { return int64(v.bytes()) + int64(unsafe.Sizeof(View{})) }

// bytes is about how much memory the view holds of its own (a delta view's
// base not included: it is shared).
func (v *View) bytes() int {
	n := 4 * (len(v.videos) + len(v.folders))
	if v.nl > 0 {
		n += 4 * len(v.listed)
	}
	for _, rs := range v.locked {
		n += 4 * len(rs)
	}
	return n + 4*len(v.vpos) + len(v.vstate) + 4*len(v.fpos)
}
