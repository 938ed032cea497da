package entitle

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/vidlib/vidlib/tree"
)

// Default bounds of an Index's view cache.
const (
	DefaultMaxCachedAudiences = 1 << 16
	DefaultMaxCachedViewBytes = 256 << 20
)

// Options tune an Index. The zero value (and nil) is valid.
type Options struct {
	// MaxCachedAudiences bounds the Index's view cache (default
	// DefaultMaxCachedAudiences): it keeps the views of at most that many
	// audience keys (CacheKey) and of at most that many distinct sets of
	// matched rule subjects, evicting the least recently used one at a time
	// (the cache is split into up to 16 shards by key, each with its share of
	// the bound, and evicts its own least recently used entry).
	// MaxCachedViewBytes bounds it too, and is what binds first in a large
	// library.
	//
	// What a view costs in memory: an audience's view (no user rule names its
	// user) holds its sets as runs of positions, 8 bytes a run: its visible
	// folders, by their place in the folder preorder, and its watchable
	// videos (and, when a teaser locks something for it, its listed videos
	// and each lock reason's). Videos are numbered in folder preorder, so a
	// rule on a folder decides one range of positions: at 1M videos and 100k
	// folders under the bench's 20,000 rules a view takes a few KB, where
	// bitsets took 137 KB. A user's view
	// (some rule names the user) holds the view of the user's roles and
	// segments, shared with everyone who has them, plus only what the user's
	// rules change: 5 bytes per video and 4 per folder whose answer differs,
	// and never more than a whole view costs (past that it is stored whole);
	// a user whose rules change nothing shares the base itself. A cached
	// user's view keeps its base alive even when the base itself has been
	// evicted.
	MaxCachedAudiences int
	// MaxCachedViewBytes bounds the memory of the cached views (default
	// DefaultMaxCachedViewBytes), as the views' sizes (see above; a delta
	// view's base is not counted in it) summed over each of the two caches:
	// by audience key and by matched subjects. A view held under several
	// keys counts under each, so the views kept take at most about this much
	// each cache, usually far less.
	MaxCachedViewBytes int64
	// AllowPasswordVideos offers videos whose Vimeo privacy.view is
	// password (the app lets Vimeo's player ask for the password). By
	// default they are not in the library: see tree.Video.EmbedBlock.
	AllowPasswordVideos bool
}

// Index is the compiled form of a tree.Snapshot and a rule set: it answers
// which videos and folders an audience may see. It is immutable apart from its
// audience cache and safe for concurrent use. Build a new Index when the
// snapshot changes; when only the rules change, derive one with WithRules.
type Index struct {
	*layout // what the snapshot alone determines; shared by WithRules and WithSnapshot

	// snap is the snapshot names and titles come from: the layout's own, or
	// one WithSnapshot put in its place.
	snap *tree.Snapshot

	version  int64
	rules    []Rule  // canonical, sorted by ID
	ruleSubj []int32 // subject id of each rule
	bounds   viewBounds
	// deltaShare: user views whose rules cover more than 1/deltaShare of
	// the placements are computed whole (defaultDeltaShare).
	deltaShare int

	subjects   map[Subject]int32 // every subject some rule names
	subjRules  [][]int32         // subject id → its rules (indexes into rules, ascending)
	everyone   int32             // subject id of "everyone", or -1
	public     int32             // subject id of "public", or -1
	ruleLock   []uint8           // teaser rules: index into LockReasons
	namedUsers map[string]struct{}
	bySubject  [][]ref // subject id → the rules it has, compiled

	folderRules map[int32][]int32 // folder → indexes into rules, ascending
	// folderBySubject holds the same rules per folder ordered by subject id,
	// then rule index: a level's matching rules are then found by a binary
	// search per matched subject (the root may carry thousands of rules).
	folderBySubject map[int32][]int32
	videoRules      map[int32][]int32 // candidate video → indexes into rules, ascending

	views  *lru[cachedView] // audience key (CacheKey) → its view
	shared *lru[*View]      // matched-subject key → view
}

// viewBounds are the bounds of an Index's view caches.
type viewBounds struct {
	views int
	bytes int64
}

// cachedView is one entry of the audience cache: the audience (WithRules
// matches it against the new rules), the key of the subjects it matched
// (matched.key: WithVideos patches the view for them) and its view.
type cachedView struct {
	audience Audience
	subjects string
	view     *View
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
	if opts.MaxCachedViewBytes < 0 {
		return nil, fmt.Errorf("%w: MaxCachedViewBytes %d < 0", ErrInvalid, opts.MaxCachedViewBytes)
	}
	canon, err := canonicalRules(rules, nil)
	if err != nil {
		return nil, err
	}
	lay, err := newLayout(snap, opts.AllowPasswordVideos)
	if err != nil {
		return nil, err
	}
	bounds := viewBounds{cmp.Or(opts.MaxCachedAudiences, DefaultMaxCachedAudiences), cmp.Or(opts.MaxCachedViewBytes, DefaultMaxCachedViewBytes)}
	return compile(lay, snap, canon, version, bounds, nil), nil
}

// WithRules returns an Index of the same snapshot and options for another
// rule set and entitlement version, as New would build it, but without
// recompiling what depends on the snapshot alone (positions, tree shape,
// placements: the bulk of New's work) and keeping the cached views that the
// change cannot affect. A view depends only on the rules of the subjects its
// audience matches; it is carried over when none of those subjects gained,
// lost or changed a rule (comparing ID, subject, target, effect and lock
// reason) and the audience matches no subject it did not match before. So a
// change to one role's rules recomputes only the views of audiences with that
// role, and a change to a user rule only that user's view. Carried views keep
// their recency. x itself is unchanged and stays usable. Every rule must be
// valid (an error wrapping ErrInvalid names the first bad one; nothing is
// built).
//
// What it costs: the rules x has are not validated again; when the rules
// differ from x's only near the end, in ID order (a rule added with the
// next ID, recent ones removed: what a store's rule feed usually brings),
// the rule part is derived from x's, compiling only the rules past the
// common prefix, else it is compiled whole; and each cached view is checked
// against the subjects whose rules changed (by its roles, segments and
// user), the caches being filtered copies of x's when subject ids did not
// move. Still a few passes over the rules and the cached views, each cheap;
// no view is recomputed that the change cannot affect.
func (x *Index) WithRules(rules []Rule, version int64) (*Index, error) {
	canon, err := canonicalRules(rules, x.rules)
	if err != nil {
		return nil, err
	}
	y, kept := derive(x, canon, version)
	if y == nil {
		y = compile(x.layout, x.snap, canon, version, x.bounds, x)
	}
	y.carryOver(x, kept)
	return y, nil
}

// WithSnapshot returns an Index with x's rules, version, compiled parts and
// view cache (shared, not copied) that names folders and videos from snap
// instead of x's snapshot. snap must be x's snapshot changed only in what
// the Index does not compile: titles, descriptions, thumbnails, tags and the
// like of videos whose playability, Vimeo privacy and placements are
// unchanged, with no folder changed. Every position and view is then the
// same, so the caller (the library, patching a metadata edit) vouches for
// that; WithSnapshot checks only that both snapshots have as many folders
// and videos. x itself is unchanged and stays usable.
func (x *Index) WithSnapshot(snap *tree.Snapshot) (*Index, error) {
	if snap == nil {
		return nil, fmt.Errorf("%w: nil snapshot", ErrInvalid)
	}
	nf, nv := snap.Len()
	if of, ov := x.snap.Len(); nf != of || nv != ov {
		return nil, fmt.Errorf("%w: WithSnapshot: %d folders and %d videos where the Index has %d and %d", ErrInvalid, nf, nv, of, ov)
	}
	y := *x
	y.snap = snap
	return &y, nil
}

// canonicalRules validates and canonicalises the rules, sorted by ID. A
// rule equal to one of known (canonical, sorted by ID) is taken as it is;
// when rules come sorted by ID too (as Index.Rules and the stores give
// them), one walk over both finds them.
func canonicalRules(rules, known []Rule) ([]Rule, error) {
	out := make([]Rule, len(rules))
	j := 0 // the next rule of known, when rules are sorted
	for i, r := range rules {
		k, ok := j, j < len(known) && known[j].ID == r.ID
		if !ok {
			k, ok = slices.BinarySearchFunc(known, r.ID, func(k Rule, id int64) int { return cmp.Compare(k.ID, id) })
		}
		if ok {
			j = k + 1
			if known[k] == r {
				out[i] = r
				continue
			}
		}
		c, err := canonical(r)
		if err != nil {
			return nil, fmt.Errorf("entitle: rule %d: %w", r.ID, err)
		}
		out[i] = c
	}
	if !slices.IsSortedFunc(out, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) }) {
		slices.SortStableFunc(out, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
	}
	return out, nil
}

// compile builds the rule-dependent part of an Index over a layout; rules
// are canonical and sorted by ID. like, when not nil, is an Index of a rule
// set much like this one: its maps' sizes are the hints for these.
func compile(lay *layout, snap *tree.Snapshot, rules []Rule, version int64, bounds viewBounds, like *Index) *Index {
	var nSubjects, nUsers, nFolders, nVideos int
	if like != nil {
		nSubjects, nUsers, nFolders, nVideos = len(like.subjects), len(like.namedUsers), len(like.folderRules), len(like.videoRules)
	}
	x := &Index{
		layout:      lay,
		snap:        snap,
		version:     version,
		rules:       rules,
		bounds:      bounds,
		deltaShare:  defaultDeltaShare,
		subjects:    make(map[Subject]int32, nSubjects),
		everyone:    -1,
		public:      -1,
		namedUsers:  make(map[string]struct{}, nUsers),
		folderRules: make(map[int32][]int32, nFolders),
		videoRules:  make(map[int32][]int32, nVideos),
		views:       newLRU(bounds.views, bounds.bytes, func(e cachedView) int64 { return e.view.size() }),
		shared:      newLRU(bounds.views, bounds.bytes, (*View).size),
	}
	x.ruleSubj = make([]int32, len(x.rules))
	x.ruleLock = make([]uint8, len(x.rules))
	for i, r := range x.rules {
		x.addRule(int32(i), r, false)
	}
	x.folderBySubject = make(map[int32][]int32, len(x.folderRules))
	for f := range x.folderRules {
		x.sortFolder(f)
	}
	return x
}

// addRule compiles rule i (x.rules[i]) after rules 0 … i-1, assigning its
// subject the next id when it is new. With cow, the per-subject, per-folder
// and per-video lists it appends to may be shared with another Index: they
// are copied, not appended to in place.
func (x *Index) addRule(i int32, r Rule, cow bool) {
	add := func(s []int32) []int32 {
		if cow {
			s = slices.Clip(s)
		}
		return append(s, i)
	}
	if r.Effect == Teaser {
		x.ruleLock[i] = uint8(slices.Index(LockReasons, r.LockReason))
	}
	s, ok := x.subjects[r.Subject]
	if !ok {
		s = int32(len(x.bySubject))
		x.subjects[r.Subject] = s
		x.bySubject = append(x.bySubject, nil)
		x.subjRules = append(x.subjRules, nil)
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
	x.subjRules[s] = add(x.subjRules[s])
	var rf ref
	switch r.Target.Kind {
	case FolderTarget:
		fi, ok := x.folderIdx.Get(r.Target.ID)
		if !ok {
			return
		}
		rf = ref{target: fi, folder: true}
		x.folderRules[fi] = add(x.folderRules[fi])
	case VideoTarget:
		vi, ok := x.videoPos(r.Target.ID)
		if !ok {
			return // unknown or never visible anyway
		}
		rf = ref{target: vi}
		x.videoRules[vi] = add(x.videoRules[vi])
	}
	rf.rule = i
	switch r.Effect {
	case Allow:
		rf.effect = allowBit
	case Deny:
		rf.effect = denyBit
	case Teaser:
		rf.effect = teaserBit
	}
	if cow {
		x.bySubject[s] = slices.Clip(x.bySubject[s])
	}
	x.bySubject[s] = append(x.bySubject[s], rf)
}

// sortFolder sets folderBySubject[f] from folderRules[f].
func (x *Index) sortFolder(f int32) {
	rules := x.folderRules[f]
	if len(rules) == 1 { // most folders: the same (read-only) list
		x.folderBySubject[f] = rules
		return
	}
	x.folderBySubject[f] = slices.SortedFunc(slices.Values(rules), func(a, b int32) int {
		return cmp.Or(cmp.Compare(x.ruleSubj[a], x.ruleSubj[b]), cmp.Compare(a, b))
	})
}

// carryOver copies into x the cached views of old (an Index of the same
// layout) that x's rules cannot change: see WithRules. A subject's rules
// changed when a rule naming it was added, removed or changed between the
// two rule sets (both sorted by ID), so one walk over both finds them, and a
// view is carried unless its audience matches one. The first kept subject
// ids of x are old's, subject for subject (derive).
//
// When every subject both Indexes have has the same id in both (the usual
// case: a rule added, or a recent one removed), the caches are filtered
// copies of old's: an audience's view is kept under the same key unless
// the audience matches a changed subject, and a view of a set of matched
// subjects unless the set holds a changed one. Otherwise each kept view is
// matched against x's subjects for its keys.
func (x *Index) carryOver(old *Index, kept int) {
	ch := changedSubjectsOf(old.rules, x.rules)
	if x.sameSubjectIDs(old, kept) {
		gone := map[uint32]bool{}
		for _, s := range ch.list {
			if i, ok := old.subjects[s]; ok {
				gone[uint32(i)] = true
			}
		}
		x.views = old.views.filtered(func(_ string, e cachedView) bool { return !ch.touches(e.audience) })
		x.shared = old.shared.filtered(func(key string, _ *View) bool {
			for i := 0; i+4 <= len(key); i += 4 {
				if gone[binary.LittleEndian.Uint32([]byte(key[i:i+4]))] {
					return false
				}
			}
			return true
		})
		return
	}
	moved := map[*View]bool{}
	old.views.oldestFirst(func(_ string, e cachedView) {
		if ch.touches(e.audience) {
			return
		}
		mn := x.match(e.audience)
		if e.view.base != nil && !moved[e.view.base] {
			moved[e.view.base] = true
			x.shared.add(string(mn.without(mn.user).key), e.view.base)
		}
		x.shared.add(string(mn.key), e.view)
		e.subjects = string(mn.key) // the ids may have moved
		x.views.add(x.CacheKey(e.audience), e)
	})
}

// sameSubjectIDs reports whether every subject of x that old has too has
// the same id in both, given that the first kept ids are old's.
func (x *Index) sameSubjectIDs(old *Index, kept int) bool {
	for s := kept; s < len(x.subjRules); s++ {
		if o, ok := old.subjects[x.rules[x.subjRules[s][0]].Subject]; ok && o != int32(s) {
			return false
		}
	}
	return true
}

// changedSubjects are the subjects whose rules differ between two rule sets.
type changedSubjects struct {
	list             []Subject // each once
	public, everyone bool
	roles            map[string]bool
	segments         map[segment]bool
	users            map[string]bool
}

// changedSubjectsOf compares two canonical rule sets sorted by ID: a rule
// in one only, or in both with another subject, target, effect or lock
// reason, changes its subject (both subjects, for a rule whose subject
// changed). Notes and authors change nothing.
func changedSubjectsOf(a, b []Rule) changedSubjects {
	var c changedSubjects
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].ID < b[j].ID):
			c.add(a[i].Subject)
			i++
		case i == len(a) || b[j].ID < a[i].ID:
			c.add(b[j].Subject)
			j++
		default:
			r, q := a[i], b[j]
			if r.Subject != q.Subject || r.Target != q.Target || r.Effect != q.Effect || r.LockReason != q.LockReason {
				c.add(r.Subject)
				c.add(q.Subject)
			}
			i++
			j++
		}
	}
	return c
}

func (c *changedSubjects) add(s Subject) {
	added := true
	switch s.Kind {
	case Public:
		added, c.public = !c.public, true
	case Everyone:
		added, c.everyone = !c.everyone, true
	case Role:
		added = insert(&c.roles, s.Name)
	case Segment:
		added = insert(&c.segments, segment{s.Name, s.Value})
	case User:
		added = insert(&c.users, s.Name)
	}
	if added {
		c.list = append(c.list, s)
	}
}

// insert adds k to the set *m (made on first use) and reports whether it
// was not there.
func insert[K comparable](m *map[K]bool, k K) bool {
	if (*m)[k] {
		return false
	}
	if *m == nil {
		*m = map[K]bool{}
	}
	(*m)[k] = true
	return true
}

// touches reports whether the audience matches a changed subject (as
// Audience.Matches decides).
func (c *changedSubjects) touches(a Audience) bool {
	switch {
	case c.public, c.everyone && !a.anon, a.user != "" && c.users[a.user]:
		return true
	}
	for _, r := range a.roles {
		if c.roles[r] {
			return true
		}
	}
	for _, g := range a.segments {
		if c.segments[g] {
			return true
		}
	}
	return false
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
	if i, ok := x.folderIdx.Get(folderID); ok {
		return i
	}
	return -1
}

// VideoPos returns the video's dense position, for View.VideoAt, or -1 if
// no audience can ever see it (not in the snapshot, not playable or not
// placed in a live folder). Like FolderPos, it depends on the snapshot alone.
func (x *Index) VideoPos(videoID string) int32 {
	if i, ok := x.videoPos(videoID); ok {
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
// when a user rule names that user. A named user's view is the view of its
// roles and segments (cached and shared in turn) with the changes of the
// user's rules applied, computed over the subtrees those rules cover.
func (x *Index) Visible(a Audience) *View {
	key := x.CacheKey(a)
	if e, ok := x.views.get(key); ok {
		return e.view
	}
	m := x.match(a)
	view := x.viewOf(m)
	return x.views.add(key, cachedView{audience: a, subjects: string(m.key), view: view}).view
}

// viewOf returns the view of a set of matched subjects, from the cache or
// computed (and cached).
func (x *Index) viewOf(m matched) *View {
	if v, ok := x.shared.get(string(m.key)); ok {
		return v
	}
	var v *View
	if m.user >= 0 {
		v = x.userView(x.viewOf(m.without(m.user)), m.ids, m.user)
	} else {
		v = x.compute(m.ids)
	}
	return x.shared.add(string(m.key), v)
}

// matched is the set of rule subjects an audience has, sorted, and its key.
type matched struct {
	ids  []int32
	key  []byte
	user int32 // the subject id of the audience's user, or -1
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
	user := int32(-1)
	if a.user != "" {
		if s, ok := x.subjects[Subject{Kind: User, Name: a.user}]; ok {
			ids = append(ids, s)
			user = s
		}
	}
	return matchedOf(ids, user)
}

func matchedOf(ids []int32, user int32) matched {
	slices.Sort(ids)
	key := make([]byte, 0, 4*len(ids))
	for _, s := range ids {
		key = binary.LittleEndian.AppendUint32(key, uint32(s))
	}
	return matched{ids: ids, key: key, user: user}
}

// without returns the set less subject s.
func (m matched) without(s int32) matched {
	ids := slices.DeleteFunc(slices.Clone(m.ids), func(t int32) bool { return t == s })
	user := m.user
	if user == s {
		user = -1
	}
	return matchedOf(ids, user)
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
	dec, _ := x.decisions.Get().(*decisions)
	if dec == nil {
		dec = &decisions{folders: make([]uint8, nf), videos: make([]uint8, nv)}
	}
	fdec, vdec := dec.folders, dec.videos
	defer func() {
		clear(fdec)
		clear(vdec)
		x.decisions.Put(dec)
	}()
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
	v := newBitView(x.layout)
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
	return v.view(x.layout)
}
