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
	// AllowPasswordVideos offers videos whose Vimeo privacy.view is
	// password (the app lets Vimeo's player ask for the password). By
	// default they are not in the library: see tree.Video.EmbedBlock.
	AllowPasswordVideos bool
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
	allowPwd bool

	subjects   map[Subject]int32 // every subject some rule names
	everyone   int32             // subject id of "everyone", or -1
	public     int32             // subject id of "public", or -1
	ruleLock   []uint8           // teaser rules: index into LockReasons
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

// ref is one rule compiled for Visible: its target's dense index, its effect
// (allowBit, denyBit or teaserBit) and, for teasers, the rule's index.
type ref struct {
	target int32
	rule   int32
	folder bool
	effect uint8
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
		allowPwd:    opts.AllowPasswordVideos,
		subjects:    make(map[Subject]int32),
		everyone:    -1,
		public:      -1,
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

	// Candidate videos: playable, embeddable for app users (Vimeo privacy),
	// with at least one placement in a live folder.
	all := snap.VideoIDs()
	x.videoIDs = make([]string, 0, len(all))
	x.videoIdx = newIDMap(len(all))
	x.placeStart = make([]int32, 0, len(all)+1)
	for _, id := range all {
		if v := snap.Video(id); !v.Playable() || v.EmbedBlock(x.allowPwd) != "" {
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
	x.ruleLock = make([]uint8, len(x.rules))
	for i, r := range x.rules {
		if r.Effect == Teaser {
			x.ruleLock[i] = uint8(slices.Index(LockReasons, r.LockReason))
		}
		s, ok := x.subjects[r.Subject]
		if !ok {
			s = int32(len(x.bySubject))
			x.subjects[r.Subject] = s
			x.bySubject = append(x.bySubject, nil)
			switch r.Subject.Kind {
			case Everyone:
				x.everyone = s
			case Public:
				x.public = s
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
		rf.rule = int32(i)
		switch r.Effect {
		case Allow:
			rf.effect = allowBit
		case Deny:
			rf.effect = denyBit
		case Teaser:
			rf.effect = teaserBit
		}
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
	r.Subject, r.Target = s, t
	if err := validEffect(r); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// EmbedBlock says why Vimeo's privacy keeps the video out of this Index's
// library ("" when it does not), under its Options.AllowPasswordVideos.
func (x *Index) EmbedBlock(v *tree.Video) string { return v.EmbedBlock(x.allowPwd) }

// HasPublic reports whether some rule names the "public" subject: without
// one, Anonymous sees nothing at all.
func (x *Index) HasPublic() bool { return x.public >= 0 }

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
	ids := make([]int32, 0, 2+len(a.roles)+len(a.segments)+1)
	if x.public >= 0 {
		ids = append(ids, x.public)
	}
	if x.everyone >= 0 && !a.anon { // Anonymous has no roles, segments or user either
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
	teaserBit uint8 = 4
)

// resolve is one level's outcome from the effects matched there: deny beats
// allow, allow beats teaser.
func resolve(d uint8) uint8 {
	switch {
	case d&denyBit != 0:
		return denyBit
	case d&allowBit != 0:
		return allowBit
	}
	return d
}

// compute evaluates §5 for every candidate video at once: the folder decision
// flows down the tree (a folder with a matching rule decides for itself,
// otherwise it inherits its parent's decision), a matching video rule
// overrides its folders, and listed placements (allowed or teased) light
// their folder and its ancestors. A video allowed through no placement but
// teased through one is locked, with the lock reason of the lowest-id
// matching teaser rule at the first teased placement's deciding level.
func (x *Index) compute(subjects []int32) *View {
	nf, nv := len(x.folderIDs), len(x.videoIDs)
	fdec := make([]uint8, nf)
	vdec := make([]uint8, nv)
	var ftease []int32         // folder → deciding teaser rule (only when some teaser matches)
	var vtease map[int32]int32 // video → lowest-id matching teaser rule
	for _, s := range subjects {
		for _, r := range x.bySubject[s] {
			if r.folder {
				fdec[r.target] |= r.effect
			} else {
				vdec[r.target] |= r.effect
			}
			if r.effect != teaserBit {
				continue
			}
			if ftease == nil {
				ftease = make([]int32, nf)
				vtease = make(map[int32]int32)
				for i := range ftease {
					ftease[i] = -1
				}
			}
			if r.folder {
				if cur := ftease[r.target]; cur < 0 || r.rule < cur {
					ftease[r.target] = r.rule
				}
			} else if cur, ok := vtease[r.target]; !ok || r.rule < cur {
				vtease[r.target] = r.rule
			}
		}
	}
	for i := range fdec {
		if fdec[i] != undecided {
			fdec[i] = resolve(fdec[i])
		} else if p := x.parent[i]; p >= 0 {
			fdec[i] = fdec[p]
			if ftease != nil {
				ftease[i] = ftease[p]
			}
		}
	}
	v := &View{idx: x, videos: make([]uint64, (nv+63)/64), folders: make([]uint64, (nf+63)/64)}
	for i := range nv {
		places := x.placeFolder[x.placeStart[i]:x.placeStart[i+1]]
		seen, tease := false, int32(-1)
		if d := vdec[i]; d != undecided {
			switch resolve(d) {
			case denyBit:
				continue
			case allowBit:
				seen = true
			default:
				tease = vtease[int32(i)]
			}
			for _, f := range places {
				setBit(v.folders, f)
			}
		} else {
			for _, f := range places {
				switch fdec[f] {
				case allowBit:
					seen = true
					setBit(v.folders, f)
				case teaserBit:
					if tease < 0 {
						tease = ftease[f]
					}
					setBit(v.folders, f)
				}
			}
		}
		switch {
		case seen:
			setBit(v.videos, int32(i))
			v.nv++
		case tease >= 0:
			v.lock(int32(i), x.ruleLock[tease])
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
	v.listed = v.videos
	if v.nl > 0 {
		v.listed = slices.Clone(v.videos)
		for _, bits := range v.locked {
			for w, word := range bits {
				v.listed[w] |= word
			}
		}
	}
	return v
}

func setBit(b []uint64, i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func hasBit(b []uint64, i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

// View is what one audience may see in one Index: the videos it may watch,
// the videos listed to it locked by a teaser (with their lock reasons), and
// the folders that hold any of them. It is immutable and safe for concurrent
// use.
type View struct {
	idx     *Index
	videos  []uint64   // may watch
	listed  []uint64   // videos plus the locked ones; the same slice as videos when none is locked
	locked  [][]uint64 // per index into LockReasons; nil when none is locked
	folders []uint64   // hold a listed video in their subtree
	nv, nf  int
	nl      int // locked videos
}

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

// Video reports whether the audience may watch the video (see it in detail
// and play it). A locked video is not: see Listed and Locked.
func (v *View) Video(videoID string) bool {
	i, ok := v.idx.videoIdx.get(videoID)
	return ok && hasBit(v.videos, i)
}

// Listed reports whether the video is listed to the audience: it may watch
// it, or a teaser lists it locked.
func (v *View) Listed(videoID string) bool {
	i, ok := v.idx.videoIdx.get(videoID)
	return ok && hasBit(v.listed, i)
}

// Locked reports whether a teaser lists the video locked, and why.
func (v *View) Locked(videoID string) (LockReason, bool) {
	i, ok := v.idx.videoIdx.get(videoID)
	if !ok {
		return "", false
	}
	return v.LockedAt(i)
}

// Folder reports whether the folder is visible (some video in its subtree is
// listed: watchable or locked).
func (v *View) Folder(folderID string) bool {
	i, ok := v.idx.folderIdx.get(folderID)
	return ok && hasBit(v.folders, i)
}

// FolderAt reports whether the folder at pos (from Index.FolderPos) is
// visible; a negative pos is not.
func (v *View) FolderAt(pos int32) bool { return pos >= 0 && hasBit(v.folders, pos) }

// VideoAt reports whether the audience may watch the video at pos (from
// Index.VideoPos); a negative pos is not.
func (v *View) VideoAt(pos int32) bool { return pos >= 0 && hasBit(v.videos, pos) }

// ListedAt reports whether the video at pos is listed (watchable or locked).
func (v *View) ListedAt(pos int32) bool { return pos >= 0 && hasBit(v.listed, pos) }

// LockedAt reports whether the video at pos is listed locked, and why.
func (v *View) LockedAt(pos int32) (LockReason, bool) {
	if v.locked == nil || pos < 0 {
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
