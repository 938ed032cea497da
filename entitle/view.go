package entitle

import "slices"

// View is what one audience may see in one Index: the videos it may watch,
// the videos listed to it locked by a teaser (with their lock reasons), and
// the folders that hold any of them. It is immutable and safe for concurrent
// use.
//
// A view is either whole (bitsets over the snapshot's positions) or, for a
// user some rule names, a delta: the whole view of the user's roles and
// segments (base) and the answers the user's rules change, sorted by
// position.
type View struct {
	lay     *layout
	videos  []uint64   // may watch
	listed  []uint64   // videos plus the locked ones; the same slice as videos when none is locked
	locked  [][]uint64 // per index into LockReasons; nil when none is locked
	folders []uint64   // hold a listed video in their subtree
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

// lock marks candidate video i locked for LockReasons[reason].
func (v *View) lock(i int32, reason uint8) {
	if v.locked == nil {
		v.locked = make([][]uint64, len(LockReasons))
	}
	if v.locked[reason] == nil {
		v.locked[reason] = make([]uint64, len(v.videos))
	}
	setBit(v.locked[reason], i)
	v.nl++
}

// answer is the video at pos's answer in a whole view.
func (v *View) answer(pos int32) uint8 {
	if hasBit(v.videos, pos) {
		return vWatch
	}
	for r, bits := range v.locked {
		if bits != nil && hasBit(bits, pos) {
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
	i, ok := v.lay.videoIdx.Get(videoID)
	return ok && v.VideoAt(i)
}

// Listed reports whether the video is listed to the audience: it may watch
// it, or a teaser lists it locked.
func (v *View) Listed(videoID string) bool {
	i, ok := v.lay.videoIdx.Get(videoID)
	return ok && v.ListedAt(i)
}

// Locked reports whether a teaser lists the video locked, and why.
func (v *View) Locked(videoID string) (LockReason, bool) {
	i, ok := v.lay.videoIdx.Get(videoID)
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
		return hasBit(v.base.folders, pos) != flipped
	}
	return hasBit(v.folders, pos)
}

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
		return hasBit(v.base.videos, pos)
	}
	return hasBit(v.videos, pos)
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
		return hasBit(v.base.listed, pos)
	}
	return hasBit(v.listed, pos)
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
	for r, bits := range v.locked {
		if bits != nil && hasBit(bits, pos) {
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
	for i, id := range v.lay.videoIDs {
		if v.VideoAt(int32(i)) {
			out = append(out, id)
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

// whole returns the view as bitsets: v itself when it is whole, else a
// new whole view with the overrides applied to a copy of the base's bitsets.
func (v *View) whole() *View {
	if v.base == nil {
		return v
	}
	b := v.base
	w := &View{lay: v.lay, videos: slices.Clone(b.videos), folders: slices.Clone(b.folders), nv: v.nv, nf: v.nf}
	if b.locked != nil {
		w.locked = make([][]uint64, len(LockReasons))
		for r, bits := range b.locked {
			if bits != nil {
				w.locked[r] = slices.Clone(bits)
			}
		}
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
	w.nl = v.nl
	for _, pos := range v.fpos {
		flipBit(w.folders, pos)
	}
	w.listed = w.videos
	if w.nl > 0 {
		w.listed = slices.Clone(w.videos)
		for _, bits := range w.locked {
			for i, word := range bits {
				w.listed[i] |= word
			}
		}
	}
	return w
}

// bytes is about how much memory the view holds of its own (a delta view's
// base not included: it is shared).
func (v *View) bytes() int {
	n := 8 * (len(v.videos) + len(v.folders))
	if v.nl > 0 {
		n += 8 * len(v.listed)
	}
	for _, bits := range v.locked {
		n += 8 * len(bits)
	}
	return n + 4*len(v.vpos) + len(v.vstate) + 4*len(v.fpos)
}
