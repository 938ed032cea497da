package entitle

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vidlib/vidlib/tree"
)

// DefaultMaxCachedAudiences is the default bound of an Index's audience cache.
const DefaultMaxCachedAudiences = 4096

// Options tune an Index. The zero value (and nil) is valid.
type Options struct {
	// MaxCachedAudiences bounds how many audiences' views the Index keeps
	// (default DefaultMaxCachedAudiences). When the bound is passed the cache is
	// emptied and refills on demand; a view costs about (videos+folders)/8 bytes.
	MaxCachedAudiences int
}

// Index is the compiled form of a tree.Snapshot and a rule set: it answers
// which videos and folders an audience may see. It is immutable apart from its
// audience cache and safe for concurrent use. Build a new Index when the
// snapshot or the rules change.
type Index struct {
	snap     *tree.Snapshot
	version  int64
	rules    []Rule  // canonical, sorted by ID
	ruleSubj []int32 // subject id of each rule
	maxViews int64

	subjects   map[Subject]int32 // every subject some rule names
	everyone   int32             // subject id of "everyone", or -1
	namedUsers map[string]struct{}
	bySubject  [][]ref // subject id → the rules it has, compiled

	folderIDs   []string // parents before children
	folderIdx   idMap
	parent      []int32           // -1 for a top-level folder
	folderRules map[int32][]int32 // folder → indexes into rules

	videoIDs    []string // the candidates: playable, with a live placement; sorted
	videoIdx    idMap
	placeStart  []int32 // video i's placements are placeFolder[placeStart[i]:placeStart[i+1]]
	placeFolder []int32
	videoRules  map[int32][]int32 // candidate video → indexes into rules

	aux auxOnce // lazily built inverse maps for the admin questions (access.go)

	views  sync.Map // audience key → *View
	shared sync.Map // matched-subject key → *View
	nviews atomic.Int64
}

// ref is one rule compiled for Visible: its target's dense index and effect.
type ref struct {
	target int32
	folder bool
	deny   bool
}

// New compiles an Index from a snapshot, the rules and the entitlement version
// they form. Every rule must be valid (an error wrapping ErrInvalid names the
// first bad one; nothing is built). Rules whose target is not in the snapshot
// are kept for Rules but change nothing.
func New(snap *tree.Snapshot, rules []Rule, version int64, opts *Options) (*Index, error) {
	if snap == nil {
		return nil, fmt.Errorf("%w: nil snapshot", ErrInvalid)
	}
	if opts == nil {
		opts = &Options{}
	}
	if opts.MaxCachedAudiences < 0 {
		return nil, fmt.Errorf("%w: MaxCachedAudiences %d < 0", ErrInvalid, opts.MaxCachedAudiences)
	}
	x := &Index{
		snap:        snap,
		version:     version,
		maxViews:    int64(cmp.Or(opts.MaxCachedAudiences, DefaultMaxCachedAudiences)),
		subjects:    make(map[Subject]int32),
		everyone:    -1,
		namedUsers:  make(map[string]struct{}),
		folderRules: make(map[int32][]int32),
		videoRules:  make(map[int32][]int32),
	}
	x.rules = make([]Rule, len(rules))
	for i, r := range rules {
		c, err := canonical(r)
		if err != nil {
			return nil, fmt.Errorf("entitle: rule %d: %w", r.ID, err)
		}
		x.rules[i] = c
	}
	slices.SortStableFunc(x.rules, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })

	nf, nv := snap.Len()
	if nf >= math.MaxInt32 || nv >= math.MaxInt32 {
		return nil, fmt.Errorf("%w: snapshot too large", ErrInvalid)
	}

	// Folders, parents before children; a folder is live when neither it nor an
	// ancestor is soft-deleted.
	x.folderIDs = snap.FolderIDs()
	x.folderIdx = newIDMap(len(x.folderIDs))
	x.parent = make([]int32, len(x.folderIDs))
	live := make([]bool, len(x.folderIDs))
	for i, id := range x.folderIDs {
		f := snap.Folder(id)
		x.folderIdx.put(id, int32(i))
		x.parent[i] = -1
		live[i] = !f.Deleted()
		if f.ParentVimeoID != "" {
			p, _ := x.folderIdx.get(f.ParentVimeoID) // parents come first
			x.parent[i] = p
			live[i] = live[i] && live[p]
		}
	}

	// Candidate videos: playable, with at least one placement in a live folder.
	all := snap.VideoIDs()
	x.videoIDs = make([]string, 0, len(all))
	x.videoIdx = newIDMap(len(all))
	x.placeStart = make([]int32, 0, len(all)+1)
	for _, id := range all {
		if v := snap.Video(id); !v.Playable() {
			continue
		}
		start := len(x.placeFolder)
		for _, f := range snap.FoldersOf(id) {
			if fi, _ := x.folderIdx.get(f); live[fi] {
				x.placeFolder = append(x.placeFolder, fi)
			}
		}
		if len(x.placeFolder) == start {
			continue
		}
		x.videoIdx.put(id, int32(len(x.videoIDs)))
		x.videoIDs = append(x.videoIDs, id)
		x.placeStart = append(x.placeStart, int32(start))
	}
	x.placeStart = append(x.placeStart, int32(len(x.placeFolder)))

	x.ruleSubj = make([]int32, len(x.rules))
	for i, r := range x.rules {
		s, ok := x.subjects[r.Subject]
		if !ok {
			s = int32(len(x.bySubject))
			x.subjects[r.Subject] = s
			x.bySubject = append(x.bySubject, nil)
			switch r.Subject.Kind {
			case Everyone:
				x.everyone = s
			case User:
				x.namedUsers[r.Subject.Name] = struct{}{}
			}
		}
		x.ruleSubj[i] = s
		var rf ref
		switch r.Target.Kind {
		case FolderTarget:
			fi, ok := x.folderIdx.get(r.Target.ID)
			if !ok {
				continue
			}
			rf = ref{target: fi, folder: true}
			x.folderRules[fi] = append(x.folderRules[fi], int32(i))
		case VideoTarget:
			vi, ok := x.videoIdx.get(r.Target.ID)
			if !ok {
				continue // unknown or never visible anyway
			}
			rf = ref{target: vi}
			x.videoRules[vi] = append(x.videoRules[vi], int32(i))
		}
		rf.deny = r.Effect == Deny
		x.bySubject[s] = append(x.bySubject[s], rf)
	}
	return x, nil
}

// canonical validates a rule and normalises its subject and target to the form
// the parsers produce, so that equal subjects compare equal.
func canonical(r Rule) (Rule, error) {
	s, err := ParseSubject(r.Subject.String())
	if err != nil {
		return Rule{}, err
	}
	t, err := ParseTarget(r.Target.String())
	if err != nil {
		return Rule{}, err
	}
	if r.Effect != Allow && r.Effect != Deny {
		return Rule{}, fmt.Errorf("%w: effect %q: want allow or deny", ErrInvalid, r.Effect)
	}
	r.Subject, r.Target = s, t
	return r, nil
}

// Version is the entitlement version the Index was compiled with.
func (x *Index) Version() int64 { return x.version }

// Snapshot is the snapshot the Index was compiled from.
func (x *Index) Snapshot() *tree.Snapshot { return x.snap }

// Rules returns the rules the Index was compiled from, ordered by ID.
func (x *Index) Rules() []Rule { return slices.Clone(x.rules) }

// Check reports whether the audience may see the video.
func (x *Index) Check(a Audience, videoID string) bool { return x.Visible(a).Video(videoID) }

// CheckFolder reports whether the audience may see the folder.
func (x *Index) CheckFolder(a Audience, folderID string) bool {
	return x.Visible(a).Folder(folderID)
}

// FolderPos returns the folder's dense position, for View.FolderAt, or -1 if
// the snapshot has no such folder. Positions depend on the snapshot alone:
// every Index built from one snapshot, whatever its rules, gives the same
// positions, so callers may compute them once per snapshot.
func (x *Index) FolderPos(folderID string) int32 {
	if i, ok := x.folderIdx.get(folderID); ok {
		return i
	}
	return -1
}

// VideoPos returns the video's dense position, for View.VideoAt, or -1 if
// no audience can ever see it (not in the snapshot, not playable or not
// placed in a live folder). Like FolderPos, it depends on the snapshot alone.
func (x *Index) VideoPos(videoID string) int32 {
	if i, ok := x.videoIdx.get(videoID); ok {
		return i
	}
	return -1
}

// CacheKey is the key under which the audience's View is cached: its roles and
// segments, plus its user id when some rule names that user. Two audiences with
// the same CacheKey see the same library in this Index, so callers that cache
// derived answers (pre-serialised folders, Redis entries) key them by CacheKey
// together with the snapshot and entitlement versions.
func (x *Index) CacheKey(a Audience) string {
	if a.user != "" {
		if _, ok := x.namedUsers[a.user]; ok {
			return a.userKey
		}
	}
	return a.key
}

// Visible returns what the audience may see. Views are cached: audiences with
// the same roles and segments share one (and so do audiences whose roles and
// segments match the same rule subjects); the user id is part of the key only
// when a user rule names that user.
func (x *Index) Visible(a Audience) *View {
	key := x.CacheKey(a)
	if v, ok := x.views.Load(key); ok {
		return v.(*View)
	}
	m := x.match(a)
	var view *View
	if v, ok := x.shared.Load(string(m.key)); ok {
		view = v.(*View)
	} else {
		v, _ := x.shared.LoadOrStore(string(m.key), x.compute(m.ids))
		view = v.(*View)
	}
	if _, loaded := x.views.LoadOrStore(key, view); !loaded && x.nviews.Add(1) > x.maxViews {
		x.views.Clear()
		x.shared.Clear()
		x.nviews.Store(0)
	}
	return view
}

// matched is the set of rule subjects an audience has, sorted, and its key.
type matched struct {
	ids []int32
	key []byte
}

func (x *Index) match(a Audience) matched {
	ids := make([]int32, 0, 1+len(a.roles)+len(a.segments)+1)
	if x.everyone >= 0 {
		ids = append(ids, x.everyone)
	}
	for _, r := range a.roles {
		if s, ok := x.subjects[Subject{Kind: Role, Name: r}]; ok {
			ids = append(ids, s)
		}
	}
	for _, g := range a.segments {
		if s, ok := x.subjects[Subject{Kind: Segment, Name: g.key, Value: g.value}]; ok {
			ids = append(ids, s)
		}
	}
	if a.user != "" {
		if s, ok := x.subjects[Subject{Kind: User, Name: a.user}]; ok {
			ids = append(ids, s)
		}
	}
	slices.Sort(ids)
	key := make([]byte, 0, 4*len(ids))
	for _, s := range ids {
		key = binary.LittleEndian.AppendUint32(key, uint32(s))
	}
	return matched{ids: ids, key: key}
}

// Folder states while computing a view.
const (
	undecided uint8 = 0
	allowBit  uint8 = 1
	denyBit   uint8 = 2
)

// compute evaluates §5 for every candidate video at once: the folder decision
// flows down the tree (a folder with a matching rule decides for itself,
// otherwise it inherits its parent's decision), a matching video rule
// overrides its folders, and visible placements light their folder and its
// ancestors.
func (x *Index) compute(subjects []int32) *View {
	nf, nv := len(x.folderIDs), len(x.videoIDs)
	fdec := make([]uint8, nf)
	vdec := make([]uint8, nv)
	for _, s := range subjects {
		for _, r := range x.bySubject[s] {
			bit := allowBit
			if r.deny {
				bit = denyBit
			}
			if r.folder {
				fdec[r.target] |= bit
			} else {
				vdec[r.target] |= bit
			}
		}
	}
	for i := range fdec {
		switch {
		case fdec[i]&denyBit != 0:
			fdec[i] = denyBit
		case fdec[i] != undecided:
			fdec[i] = allowBit
		case x.parent[i] >= 0:
			fdec[i] = fdec[x.parent[i]]
		}
	}
	v := &View{idx: x, videos: make([]uint64, (nv+63)/64), folders: make([]uint64, (nf+63)/64)}
	for i := range nv {
		places := x.placeFolder[x.placeStart[i]:x.placeStart[i+1]]
		seen := false
		if d := vdec[i]; d != undecided {
			if d&denyBit != 0 {
				continue
			}
			seen = true
			for _, f := range places {
				setBit(v.folders, f)
			}
		} else {
			for _, f := range places {
				if fdec[f] == allowBit {
					seen = true
					setBit(v.folders, f)
				}
			}
		}
		if seen {
			setBit(v.videos, int32(i))
			v.nv++
		}
	}
	for i := nf - 1; i >= 0; i-- {
		if hasBit(v.folders, int32(i)) {
			v.nf++
			if p := x.parent[i]; p >= 0 {
				setBit(v.folders, p)
			}
		}
	}
	return v
}

func setBit(b []uint64, i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func hasBit(b []uint64, i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

// View is what one audience may see in one Index: a set of videos and a set of
// folders. It is immutable and safe for concurrent use.
type View struct {
	idx     *Index
	videos  []uint64
	folders []uint64
	nv, nf  int
}

// Video reports whether the video is visible.
func (v *View) Video(videoID string) bool {
	i, ok := v.idx.videoIdx.get(videoID)
	return ok && hasBit(v.videos, i)
}

// Folder reports whether the folder is visible (some video in its subtree is).
func (v *View) Folder(folderID string) bool {
	i, ok := v.idx.folderIdx.get(folderID)
	return ok && hasBit(v.folders, i)
}

// FolderAt reports whether the folder at pos (from Index.FolderPos) is
// visible; a negative pos is not.
func (v *View) FolderAt(pos int32) bool { return pos >= 0 && hasBit(v.folders, pos) }

// VideoAt reports whether the video at pos (from Index.VideoPos) is visible;
// a negative pos is not.
func (v *View) VideoAt(pos int32) bool { return pos >= 0 && hasBit(v.videos, pos) }

// Len returns how many folders and videos are visible.
func (v *View) Len() (folders, videos int) { return v.nf, v.nv }

// VideoIDs returns the visible videos' ids, sorted.
func (v *View) VideoIDs() []string {
	out := make([]string, 0, v.nv)
	for i, id := range v.idx.videoIDs {
		if hasBit(v.videos, int32(i)) {
			out = append(out, id)
		}
	}
	return out
}

// FolderIDs returns the visible folders' ids, parents before children.
func (v *View) FolderIDs() []string {
	out := make([]string, 0, v.nf)
	for i, id := range v.idx.folderIDs {
		if hasBit(v.folders, int32(i)) {
			out = append(out, id)
		}
	}
	return out
}
