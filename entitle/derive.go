package entitle

import (
	"maps"
	"slices"
	"sort"
)

// Deriving the rule part. WithRules usually changes few rules, and the
// changed ones are the newest: a rule is added with the next ID (it sorts
// last), and the rules removed are usually recent ones. The rules before
// the first difference (the common prefix, by position in ID order) compile
// to exactly what they compiled to in the old Index — the same rule
// indexes, the same subject ids (assigned in order of first appearance),
// the same per-folder and per-video lists — so derive keeps that part,
// shared where it is unchanged, drops what the old rules past the prefix
// added, and compiles only the new rules past it. The result equals what
// compile builds from the same rules, field for field (a property test
// checks it); it costs a copy of the maps, a walk over the prefix (to find
// it) and work in proportion to the rules past the prefix.

// maxDerived is how many rules past the common prefix (old ones dropped
// plus new ones compiled) derive takes on for n rules; past it the whole
// compile is about as cheap.
func maxDerived(n int) int { return 64 + n/8 }

// sameCompiled reports whether two canonical rules compile alike.
func sameCompiled(a, b Rule) bool {
	return a.ID == b.ID && a.Subject == b.Subject && a.Target == b.Target && a.Effect == b.Effect && a.LockReason == b.LockReason
}

// derive returns the Index that compile(old.layout, old.snap, rules,
// version, old.bounds, old) would build, with empty view caches, derived
// from old's compiled rules, and how many subjects (the first ones, by id)
// it kept as they were; or nil when too many rules differ.
func derive(old *Index, rules []Rule, version int64) (*Index, int) {
	p := 0
	for p < len(old.rules) && p < len(rules) && sameCompiled(old.rules[p], rules[p]) {
		p++
	}
	if len(old.rules)-p+len(rules)-p > maxDerived(len(rules)) {
		return nil, 0
	}
	p32 := int32(p)
	// Subjects are numbered in order of first appearance: the first k
	// appear in the prefix.
	k := sort.Search(len(old.subjRules), func(s int) bool { return old.subjRules[s][0] >= p32 })

	x := &Index{
		layout:          old.layout,
		snap:            old.snap,
		version:         version,
		rules:           rules,
		bounds:          old.bounds,
		deltaShare:      defaultDeltaShare,
		subjects:        maps.Clone(old.subjects),
		everyone:        old.everyone,
		public:          old.public,
		namedUsers:      maps.Clone(old.namedUsers),
		folderRules:     maps.Clone(old.folderRules),
		folderBySubject: maps.Clone(old.folderBySubject),
		videoRules:      maps.Clone(old.videoRules),
		views:           newLRU(old.bounds.views, old.bounds.bytes, func(e cachedView) int64 { return e.view.size() }),
		shared:          newLRU(old.bounds.views, old.bounds.bytes, (*View).size),
	}
	x.ruleSubj = make([]int32, len(rules))
	copy(x.ruleSubj, old.ruleSubj[:p])
	x.ruleLock = make([]uint8, len(rules))
	copy(x.ruleLock, old.ruleLock[:p])
	x.bySubject = append(make([][]ref, 0, k+len(rules)-p), old.bySubject[:k]...)
	x.subjRules = append(make([][]int32, 0, k+len(rules)-p), old.subjRules[:k]...)
	if x.everyone >= int32(k) {
		x.everyone = -1
	}
	if x.public >= int32(k) {
		x.public = -1
	}

	// Drop what the old rules past the prefix compiled to.
	folders := map[int32]bool{} // whose folderBySubject list to redo
	for i, r := range old.rules[p:] {
		s := old.ruleSubj[p+i]
		if s >= int32(k) {
			delete(x.subjects, r.Subject)
			if r.Subject.Kind == User {
				delete(x.namedUsers, r.Subject.Name)
			}
		} else {
			x.subjRules[s] = before(x.subjRules[s], p32)
			refs := x.bySubject[s]
			n := sort.Search(len(refs), func(j int) bool { return refs[j].rule >= p32 })
			x.bySubject[s] = nilIfEmpty(refs[:n:n])
		}
		switch r.Target.Kind {
		case FolderTarget:
			if fi, ok := x.folderIdx.Get(r.Target.ID); ok {
				folders[fi] = true
				if l := before(x.folderRules[fi], p32); l != nil {
					x.folderRules[fi] = l
				} else {
					delete(x.folderRules, fi)
				}
			}
		case VideoTarget:
			if vi, ok := x.videoPos(r.Target.ID); ok {
				if l := before(x.videoRules[vi], p32); l != nil {
					x.videoRules[vi] = l
				} else {
					delete(x.videoRules, vi)
				}
			}
		}
	}
	// Compile the new rules past the prefix.
	for i := p; i < len(rules); i++ {
		r := rules[i]
		x.addRule(int32(i), r, true)
		if r.Target.Kind == FolderTarget {
			if fi, ok := x.folderIdx.Get(r.Target.ID); ok {
				folders[fi] = true
			}
		}
	}
	for f := range folders {
		if _, ok := x.folderRules[f]; ok {
			x.sortFolder(f)
		} else {
			delete(x.folderBySubject, f)
		}
	}
	return x, k
}

// before returns the entries of an ascending list below p (nil for none),
// clipped so that appending copies it.
func before(l []int32, p int32) []int32 {
	n, _ := slices.BinarySearch(l, p)
	return nilIfEmpty(l[:n:n])
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
