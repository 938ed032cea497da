package entitle

import (
	"math/bits"
	"slices"
	"sync"
)

// auxOnce holds inverse maps that only the admin questions need, built on
// first use: the folders' children and candidate videos, and the section
// (child of a top-level folder) each folder belongs to.
type auxOnce struct {
	once       sync.Once
	childStart []int32 // folder i's children are child[childStart[i]:childStart[i+1]]
	child      []int32
	vidStart   []int32 // candidate videos placed in folder i: vid[vidStart[i]:vidStart[i+1]]
	vid        []int32
	sections   []int32 // section folders, in sibling order under each top-level folder
	sectionOf  []int32 // folder → index into sections, -1 for top-level folders
}

func (x *layout) auxiliary() *auxOnce {
	x.aux.once.Do(func() {
		a := &x.aux
		nf := len(x.folderIDs)
		a.childStart, a.child = csr(nf, func(emit func(from, to int32)) {
			for i, p := range x.parent {
				if p >= 0 {
					emit(p, int32(i))
				}
			}
		})
		a.vidStart, a.vid = csr(nf, func(emit func(from, to int32)) {
			for v := range len(x.videoIDs) {
				for _, f := range x.placeFolder[x.placeStart[v]:x.placeStart[v+1]] {
					emit(f, int32(v))
				}
			}
		})
		a.sectionOf = make([]int32, nf)
		for i := range nf { // parents before children; siblings in order
			switch p := x.parent[i]; {
			case p < 0:
				a.sectionOf[i] = -1
			case x.parent[p] < 0:
				a.sectionOf[i] = int32(len(a.sections))
				a.sections = append(a.sections, int32(i))
			default:
				a.sectionOf[i] = a.sectionOf[p]
			}
		}
	})
	return &x.aux
}

// csr builds a compressed adjacency list of n nodes from the edges gen
// emits, keeping their order per node.
func csr(n int, gen func(emit func(from, to int32))) (start, to []int32) {
	start = make([]int32, n+1)
	gen(func(from, _ int32) { start[from+1]++ })
	for i := range n {
		start[i+1] += start[i]
	}
	to = make([]int32, start[n])
	next := slices.Clone(start[:n])
	gen(func(from, t int32) { to[next[from]] = t; next[from]++ })
	return start, to
}

// Summary is what one audience can see, in totals and per section (each
// child of a top-level folder: the library's main sections).
type Summary struct {
	Audience string // AudienceLabel
	Videos   int    // videos the audience may watch in the whole library
	Locked   int    // videos listed locked by a teaser (not in Videos)
	Folders  int    // visible folders, top-level ones included
	Sections []SectionCount
}

// SectionCount counts what is visible in one section's subtree.
type SectionCount struct {
	FolderID string
	Name     string
	Videos   int // visible videos placed in the subtree
	Folders  int // visible folders of the subtree, the section included
}

// Summary counts what the audience can see, in total and per section (every
// live child of a top-level folder, in sibling order, also those with nothing
// visible). A video placed in several sections counts in each; videos placed
// directly in a top-level folder count in the total only. It costs one pass
// over the audience's (cached) View.
func (x *Index) Summary(a Audience) Summary {
	aux := x.auxiliary()
	v := x.Visible(a).bits()
	s := Summary{Audience: AudienceLabel(a), Sections: make([]SectionCount, len(aux.sections))}
	s.Folders, s.Videos = v.nf, v.nv
	s.Locked = v.nl
	for i, f := range aux.sections {
		id := x.folderIDs[f]
		s.Sections[i] = SectionCount{FolderID: id, Name: x.snap.Folder(id).Name}
	}
	forBits(v.folders, func(f int32) {
		if sec := aux.sectionOf[f]; sec >= 0 {
			s.Sections[sec].Folders++
		}
	})
	forBits(v.videos, func(vi int32) {
		places := x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]]
		for j, f := range places {
			sec := aux.sectionOf[f]
			if sec < 0 || slices.ContainsFunc(places[:j], func(g int32) bool { return aux.sectionOf[g] == sec }) {
				continue
			}
			s.Sections[sec].Videos++
		}
	})
	// Drop deleted sections: their folders are never visible and never count.
	s.Sections = slices.DeleteFunc(s.Sections, func(c SectionCount) bool {
		f := x.snap.Folder(c.FolderID)
		return f.Deleted() || x.snap.Folder(f.ParentVimeoID).Deleted()
	})
	return s
}

func forBits(words []uint64, fn func(int32)) {
	for w, word := range words {
		for word != 0 {
			fn(int32(w*64 + bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
}

// Access says who, of a list of audiences, can see a folder or a video.
type Access struct {
	Target Target
	// Allowed are the audiences given that can see the target, in the order
	// given; Denied counts the others.
	Allowed []AudienceAccess
	Denied  int
}

// AudienceAccess is one audience that can see the target (watch the video;
// for a folder, find something listed in it, a locked teaser included), and
// why.
type AudienceAccess struct {
	Key   string // CacheKey
	Label string // AudienceLabel
	// Grants are the audience's matching rules that decide for a visible
	// video (the target video: allow rules; a video of the folder's subtree
	// through a placement in that subtree: allow rules, and teaser rules for
	// locked ones), by ascending id.
	Grants []Rule
}

// Subjects returns every subject some rule names, sorted by their string
// form; with SubjectAudience they make the audiences for "which rule subjects
// can see this".
func (x *Index) Subjects() []Subject {
	out := make([]Subject, 0, len(x.subjects))
	for s := range x.subjects {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Subject) int {
		switch as, bs := a.String(), b.String(); {
		case as < bs:
			return -1
		case as > bs:
			return 1
		}
		return 0
	})
	return out
}

// WhoCanSee answers, for each audience given, whether it can see the target
// (a folder or a video, as View.Folder and View.Video do) and which of its
// rules grant it. The admin layer passes the distinct audiences of its users,
// or SubjectAudience of each of Subjects() to ask about rule subjects.
// Audiences that match the same rule subjects are computed once; the cost
// of one is a walk of the target's subtree (folders and placed videos).
// An unknown target is seen by nobody.
func (x *Index) WhoCanSee(t Target, audiences []Audience) Access {
	acc := Access{Target: t}
	memo := map[string][]int32{} // matched-subject key → granting rules; nil: cannot see
	for _, a := range audiences {
		m := x.match(a)
		grants, ok := memo[string(m.key)]
		if !ok {
			grants = x.grants(m.ids, x.Visible(a), t)
			memo[string(m.key)] = grants
		}
		if grants == nil {
			acc.Denied++
			continue
		}
		aa := AudienceAccess{Key: x.CacheKey(a), Label: AudienceLabel(a), Grants: make([]Rule, len(grants))}
		for i, ri := range grants {
			aa.Grants[i] = x.rules[ri]
		}
		acc.Allowed = append(acc.Allowed, aa)
	}
	return acc
}

// grants returns the matching rules that decide for listed placements of
// the target (indexes into x.rules, ascending), or nil when the target is
// not visible: for a video the allow rules that let the audience watch it;
// for a folder also the teaser rules that list a locked video in it. A
// visible target always has at least one. view is the audience's View: the
// target's visibility and the videos worth looking at come from it.
func (x *Index) grants(m []int32, view *View, t Target) []int32 {
	if (t.Kind == VideoTarget && !view.Video(t.ID)) || (t.Kind == FolderTarget && !view.Folder(t.ID)) {
		return nil
	}
	teasers := t.Kind == FolderTarget
	set := map[int32]bool{}
	granted := map[int32]bool{} // deciding folders whose rules are in set
	// addRules adds the matching rules of a deciding level with its outcome's effect.
	addRules := func(rules []int32, out uint8) {
		eff := Allow
		if out == teaserBit {
			eff = Teaser
		}
		for _, ri := range rules {
			if _, ok := slices.BinarySearch(m, x.ruleSubj[ri]); ok && x.rules[ri].Effect == eff {
				set[ri] = true
			}
		}
	}
	grants := func(out uint8) bool { return out == allowBit || (teasers && out == teaserBit) }
	// placement decides one video in folder f whose folder decision is
	// known: dec is the deciding folder (-1 none) and its outcome.
	placement := func(vi, dec int32, out uint8) {
		if o := x.outcome(m, x.videoRules[vi]); o != undecided {
			if grants(o) {
				addRules(x.videoRules[vi], o)
			}
			return
		}
		if dec >= 0 && grants(out) && !granted[dec] {
			granted[dec] = true // a folder's rules are added once, not per video
			addRules(x.folderRules[dec], out)
		}
	}
	// decider walks up from f to the first folder with a matching rule.
	decider := func(f int32) (int32, uint8) {
		for cur := f; cur >= 0; cur = x.parent[cur] {
			if o := x.outcome(m, x.folderRules[cur]); o != undecided {
				return cur, o
			}
		}
		return -1, undecided
	}
	switch t.Kind {
	case VideoTarget:
		vi, ok := x.videoPos(t.ID)
		if !ok {
			return nil
		}
		for _, f := range x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]] {
			dec, out := decider(f)
			placement(vi, dec, out)
		}
	case FolderTarget:
		root, ok := x.folderIdx.Get(t.ID)
		if !ok {
			return nil
		}
		aux := x.auxiliary()
		type item struct {
			f, dec int32
			out    uint8
		}
		dec, out := decider(root)
		stack := []item{{root, dec, out}}
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, vi := range aux.vid[aux.vidStart[it.f]:aux.vidStart[it.f+1]] {
				if view.ListedAt(vi) { // an unlisted video grants nothing
					placement(vi, it.dec, it.out)
				}
			}
			for _, c := range aux.child[aux.childStart[it.f]:aux.childStart[it.f+1]] {
				next := item{c, it.dec, it.out}
				if o := x.outcome(m, x.folderRules[c]); o != undecided {
					next.dec, next.out = c, o
				}
				stack = append(stack, next)
			}
		}
	}
	if len(set) == 0 {
		return nil
	}
	out := make([]int32, 0, len(set))
	for ri := range set {
		out = append(out, ri)
	}
	slices.Sort(out)
	return out
}

// outcome applies one level for the matched subjects m: undecided when no
// rule there matches, else denyBit, allowBit or teaserBit (resolve's order).
func (x *Index) outcome(m []int32, rules []int32) uint8 {
	var d uint8
	for _, ri := range rules {
		if _, ok := slices.BinarySearch(m, x.ruleSubj[ri]); ok {
			switch x.rules[ri].Effect {
			case Allow:
				d |= allowBit
			case Deny:
				d |= denyBit
			case Teaser:
				d |= teaserBit
			}
		}
	}
	return resolve(d)
}
