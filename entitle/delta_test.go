package entitle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// genUserCase is a random library where users are named by many rules: the
// case of personal grants ("share this folder with Alice") at every depth,
// with denies and teasers for them too, next to the usual role, segment,
// everyone and public rules.
func genUserCase(t testing.TB, r *rand.Rand) genCase {
	snap := genLibrary(t, r, 80, 200)
	rules := genRules(r, snap, 30)
	nf, nv := snap.Len()
	next := int64(len(rules) + 1)
	for u := range 6 {
		for range r.IntN(6) {
			rule := Rule{ID: next, Subject: Subject{Kind: User, Name: fmt.Sprintf("u%d", u)}, Effect: Allow}
			next++
			switch k := r.IntN(10); {
			case k < 3:
				rule.Effect = Deny
			case k < 5:
				rule.Effect = Teaser
				rule.LockReason = LockReasons[1+r.IntN(len(LockReasons)-1)]
			}
			if nv > 0 && r.IntN(3) == 0 {
				rule.Target = Target{Kind: VideoTarget, ID: videoID(r.IntN(nv))}
			} else {
				rule.Target = Target{Kind: FolderTarget, ID: folderID(r.IntN(nf))}
			}
			rules = append(rules, rule)
		}
	}
	// Teasers of several subjects with different reasons on a few folders
	// near the top (folder 0 is a root, and chains grow from it), so that a
	// level's lowest-id teaser decides the reason of what users inherit.
	for range r.IntN(6) {
		subject := []Subject{{Kind: Everyone}, {Kind: Public}, {Kind: Role, Name: fmt.Sprintf("r%d", r.IntN(5))}}[r.IntN(3)]
		reason := LockReasons[1+r.IntN(len(LockReasons)-1)]
		if subject.Kind == Public && r.IntN(2) == 0 {
			reason = LockSignIn
		}
		rules = append(rules, Rule{ID: next, Subject: subject, Effect: Teaser, LockReason: reason,
			Target: Target{Kind: FolderTarget, ID: folderID(r.IntN(min(3, nf)))}})
		next++
	}
	r.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
	c := genCase{snap: snap, rules: rules}
	for range 16 {
		c.audiences = append(c.audiences, genAudience(r))
	}
	return c
}

// checkViewAgainstOracle compares every answer of a view with the oracle
// for the audience under rules.
func checkViewAgainstOracle(t *testing.T, where string, c genCase, rules []Rule, x *Index, oa oracleAudience, view *View) {
	t.Helper()
	via := make(map[placement]bool)
	nv, nl := 0, 0
	for _, id := range append(c.snap.VideoIDs(), "999999") {
		out := oracleVideoOutcome(c.snap, rules, oa, id, via)
		lock, locked := view.Locked(id)
		pos := x.VideoPos(id)
		plock, plocked := view.LockedAt(pos)
		if view.Video(id) != out.allowed || view.Listed(id) != out.listed() || lock != out.lock || locked != (out.lock != "") ||
			view.VideoAt(pos) != out.allowed || view.ListedAt(pos) != out.listed() || plock != lock || plocked != locked {
			t.Fatalf("%s: video %s audience %+v: Video=%v Listed=%v Locked=%q,%v oracle=%+v\n%s",
				where, id, oa, view.Video(id), view.Listed(id), lock, locked, out, describe(genCase{snap: c.snap, rules: rules}, id))
		}
		nv += b2i(out.allowed)
		nl += b2i(out.lock != "")
	}
	folders := oracleFolders(c.snap, via)
	nf := 0
	for _, f := range append(c.snap.FolderIDs(), "999999") {
		if view.Folder(f) != folders[f] || view.FolderAt(x.FolderPos(f)) != folders[f] {
			t.Fatalf("%s: folder %s audience %+v: Folder=%v oracle=%v", where, f, oa, view.Folder(f), folders[f])
		}
		nf += b2i(folders[f])
	}
	gf, gv := view.Len()
	require.Equal(t, [3]int{nf, nv, nl}, [3]int{gf, gv, view.LockedLen()}, "%s: Len, LockedLen", where)
	require.Len(t, view.VideoIDs(), nv, where)
	require.Len(t, view.FolderIDs(), nf, where)
}

// requireSameView asserts that two views of one layout give the same answer
// to every question.
func requireSameView(t *testing.T, where string, want, got *View) {
	t.Helper()
	for pos := range int32(len(want.lay.videoIDs)) {
		wl, wok := want.LockedAt(pos)
		gl, gok := got.LockedAt(pos)
		if want.VideoAt(pos) != got.VideoAt(pos) || want.ListedAt(pos) != got.ListedAt(pos) || wl != gl || wok != gok {
			t.Fatalf("%s: video %s differs", where, want.lay.videoIDs[pos])
		}
	}
	for pos := range int32(len(want.lay.folderIDs)) {
		if want.FolderAt(pos) != got.FolderAt(pos) {
			t.Fatalf("%s: folder %s differs", where, want.lay.folderIDs[pos])
		}
	}
	wf, wv := want.Len()
	gf, gv := got.Len()
	require.Equal(t, [3]int{wf, wv, want.LockedLen()}, [3]int{gf, gv, got.LockedLen()}, where)
}

// TestUserViewsAgreeWithOracle: the views of users named by rules (the
// audience's view plus the delta of the user's rules) agree with the oracle
// on every video and folder, on random trees with user rules at every depth,
// denies, teasers, several placements and a small, evicting cache; and so do
// their whole forms. The counters make sure deltas of every kind occur.
func TestUserViewsAgreeWithOracle(t *testing.T) {
	seed := propertySeed(t)
	r := rand.New(rand.NewPCG(seed, 77))
	trials := 600
	if testing.Short() {
		trials = 150
	}
	var deltas, wholes, watch, hidden, locked, shown, unshown int
	for trial := range trials {
		c := genUserCase(t, r)
		x, err := New(c.snap, c.rules, 1, &Options{MaxCachedAudiences: 1 + r.IntN(6)})
		require.NoError(t, err)
		// Always the delta's own way, the default, or always a whole compute
		// turned into a delta.
		x.deltaShare = []int{0, defaultDeltaShare, 1 << 20}[trial%3]
		for _, oa := range c.audiences {
			view := x.Visible(oa.audience())
			where := fmt.Sprintf("seed %d trial %d", seed, trial)
			checkViewAgainstOracle(t, where, c, c.rules, x, oa, view)
			_, named := x.namedUsers[oa.user]
			switch {
			case view.base != nil:
				require.True(t, named && !oa.anon, "only a named user's view is a delta")
				deltas++
				requireSameView(t, where+" (whole form)", view, view.whole())
				for _, s := range view.vstate {
					switch s {
					case vWatch:
						watch++
					case vHidden:
						hidden++
					default:
						locked++
					}
				}
				for _, f := range view.fpos {
					if view.FolderAt(f) {
						shown++
					} else {
						unshown++
					}
				}
			case named && !oa.anon:
				wholes++ // a delta bigger than a bitset view, or none at all (the base shared)
			}
		}
	}
	t.Logf("%d delta views, %d stored whole or sharing the base; overrides: %d watch, %d hidden, %d locked, %d folders shown, %d hidden",
		deltas, wholes, watch, hidden, locked, shown, unshown)
	for name, n := range map[string]int{"delta views": deltas, "watch overrides": watch, "hidden overrides": hidden,
		"locked overrides": locked, "folders shown": shown, "folders hidden": unshown} {
		require.Greater(t, n, trials/10, "too few %s", name)
	}
}

// mutateRules applies 1-3 random changes to a rule set: remove a rule, add
// one (any subject, users included), change a rule's effect or lock reason.
func mutateRules(r *rand.Rand, c genCase, rules []Rule) []Rule {
	rules = slices.Clone(rules)
	var maxID int64
	for _, q := range rules {
		maxID = max(maxID, q.ID)
	}
	extra := genRules(r, c.snap, 12)
	for range 1 + r.IntN(3) {
		switch k := r.IntN(4); {
		case k == 0 && len(rules) > 0:
			i := r.IntN(len(rules))
			rules = slices.Delete(rules, i, i+1)
		case k == 1 && len(rules) > 0:
			i := r.IntN(len(rules))
			q := rules[i]
			switch q.Effect {
			case Allow:
				q.Effect = Deny
			case Deny:
				q.Effect, q.LockReason = Teaser, LockUpgrade
			default:
				q.Effect, q.LockReason = Allow, ""
			}
			rules[i] = q
		case k == 2 && len(extra) > 0:
			q := extra[r.IntN(len(extra))]
			maxID++
			q.ID = maxID
			rules = append(rules, q)
		default: // a personal grant
			maxID++
			nf, _ := c.snap.Len()
			rules = append(rules, Rule{ID: maxID, Subject: Subject{Kind: User, Name: fmt.Sprintf("u%d", r.IntN(8))},
				Target: Target{Kind: FolderTarget, ID: folderID(r.IntN(nf))}, Effect: []Effect{Allow, Deny}[r.IntN(2)]})
		}
	}
	return rules
}

// TestWithRulesAgreesWithFresh: an Index derived with WithRules after random
// rule changes answers like one built from scratch (and like the oracle),
// whether its views were carried over or recomputed; the old Index keeps
// answering for the old rules. Some views must be carried over and some
// recomputed, or the test proves nothing.
func TestWithRulesAgreesWithFresh(t *testing.T) {
	seed := propertySeed(t)
	r := rand.New(rand.NewPCG(seed, 78))
	trials := 400
	if testing.Short() {
		trials = 100
	}
	var carried, recomputed int
	for trial := range trials {
		c := genUserCase(t, r)
		x, err := New(c.snap, c.rules, 1, &Options{MaxCachedAudiences: 64})
		require.NoError(t, err)
		before := map[string]*View{}
		for _, oa := range c.audiences {
			a := oa.audience()
			before[x.CacheKey(a)] = x.Visible(a)
		}
		rules := c.rules
		for step := range 3 {
			rules = mutateRules(r, c, rules)
			y, err := x.WithRules(rules, int64(2+step))
			require.NoError(t, err)
			require.Equal(t, int64(2+step), y.Version())
			y.deltaShare = []int{0, defaultDeltaShare, 1 << 20}[(trial+step)%3]
			fresh, err := New(c.snap, rules, int64(2+step), nil)
			require.NoError(t, err)
			for _, oa := range c.audiences {
				a := oa.audience()
				where := fmt.Sprintf("seed %d trial %d step %d audience %+v", seed, trial, step, oa)
				got := y.Visible(a)
				requireSameView(t, where, fresh.Visible(a), got)
				checkViewAgainstOracle(t, where, c, rules, y, oa, got)
				require.Equal(t, fresh.CacheKey(a), y.CacheKey(a), where)
				if got == before[x.CacheKey(a)] {
					carried++
				} else {
					recomputed++
				}
			}
			// The old Index is untouched.
			oa := c.audiences[r.IntN(len(c.audiences))]
			checkViewAgainstOracle(t, fmt.Sprintf("seed %d trial %d step %d (old index)", seed, trial, step), c, x.rules, x, oa, x.Visible(oa.audience()))
			x = y
			for _, oa := range c.audiences {
				a := oa.audience()
				before[x.CacheKey(a)] = x.Visible(a)
			}
		}
	}
	t.Logf("%d views carried over, %d recomputed", carried, recomputed)
	require.Greater(t, carried, trials, "too few views carried over")
	require.Greater(t, recomputed, trials, "too few views recomputed")
}

func TestWithRulesRejectsBadRules(t *testing.T) {
	c := genUserCase(t, rand.New(rand.NewPCG(1, 2)))
	x, err := New(c.snap, c.rules, 1, nil)
	require.NoError(t, err)
	bad := append(slices.Clone(c.rules), Rule{ID: 999, Subject: Subject{Kind: Role, Name: "x"}, Target: Target{Kind: FolderTarget, ID: folderID(0)}, Effect: Teaser})
	_, err = x.WithRules(bad, 2)
	require.ErrorIs(t, err, ErrInvalid)
	require.Equal(t, int64(1), x.Version())
}

// TestViewCacheBoundByBytes: the cache keeps its values' sizes under its
// byte bound, evicting the least recently used entries until the new one
// fits, and keeps one entry larger than the bound.
func TestViewCacheBoundByBytes(t *testing.T) {
	c := newLRU(100, 10, func(v int) int64 { return int64(v) })
	for i, k := range []string{"a", "b", "c"} {
		c.add(k, 3)
		require.Equal(t, i+1, c.len())
	}
	_, ok := c.get("a") // a is now the most recent: b goes next, then c
	require.True(t, ok)
	c.add("d", 4) // 9 + 4 > 10: b goes; 10 fits
	_, ok = c.get("b")
	require.False(t, ok, "the least recently used entry is evicted")
	require.Equal(t, 3, c.len())
	c.add("e", 7) // 10 + 7: c, a, d go
	require.Equal(t, 1, c.len())
	_, ok = c.get("e")
	require.True(t, ok)
	c.add("f", 50)
	require.Equal(t, 1, c.len(), "a value larger than the bound replaces the rest")
	_, ok = c.get("f")
	require.True(t, ok, "and stays")
}

// TestViewCacheIsLRU: the cache keeps its bound, evicts the least recently
// used entry one at a time, and a hit refreshes an entry.
func TestViewCacheIsLRU(t *testing.T) {
	c := newLRU(3, math.MaxInt64, func(int) int64 { return 1 })
	for i, k := range []string{"a", "b", "c"} {
		require.Equal(t, i, c.add(k, i))
	}
	_, ok := c.get("a") // a is now the most recent: b goes next
	require.True(t, ok)
	require.Equal(t, 9, c.add("d", 9))
	_, ok = c.get("b")
	require.False(t, ok, "the least recently used entry is evicted")
	for _, k := range []string{"a", "c", "d"} {
		_, ok := c.get(k)
		require.True(t, ok, k)
	}
	require.Equal(t, 3, c.len())
	require.Equal(t, 9, c.add("d", 10), "an entry present is kept")

	big := newLRU(1000, math.MaxInt64, func(int) int64 { return 1 })
	require.Len(t, big.shards, 15)
	for i := range 5000 {
		big.add(fmt.Sprint(i), i)
		require.LessOrEqual(t, big.len(), 1000)
	}
	require.Equal(t, 1000, big.len(), "every shard full")
	hot := 0
	for i := range 100 { // the most recent entries are still there
		if _, ok := big.get(fmt.Sprint(4999 - i)); ok {
			hot++
		}
	}
	require.Equal(t, 100, hot)

	// Through an Index: a bound of 4 keeps the 4 most recent audiences.
	g := genUserCase(t, rand.New(rand.NewPCG(3, 4)))
	x, err := New(g.snap, []Rule{{ID: 1, Subject: Subject{Kind: Everyone}, Target: Target{Kind: FolderTarget, ID: folderID(0)}, Effect: Allow}}, 1,
		&Options{MaxCachedAudiences: 4})
	require.NoError(t, err)
	var views []*View
	for i := range 10 {
		views = append(views, x.Visible(NewAudience("", []string{fmt.Sprint("role", i)}, nil)))
	}
	require.Equal(t, 4, x.views.len())
	require.Same(t, views[9], x.Visible(NewAudience("", []string{"role9"}, nil)))
	require.Same(t, views[6], x.Visible(NewAudience("", []string{"role6"}, nil)))
}

// TestCarryOverKeepsExactlyTheUnaffectedViews: WithRules carries a cached
// view iff no subject the audience matches, under the old rules or the new,
// gained, lost or changed a rule — checked against that definition spelled
// out over both compiled indexes (each subject's rule list compared), after
// random rule changes, both when the caches are filtered copies (subject
// ids unchanged) and when views are matched again.
func TestCarryOverKeepsExactlyTheUnaffectedViews(t *testing.T) {
	seed := propertySeed(t)
	r := rand.New(rand.NewPCG(seed, 79))
	var carried, dropped, filteredCopies, rematched, keyChanged int
	for trial := range 200 {
		c := genUserCase(t, r)
		x, err := New(c.snap, c.rules, 1, nil)
		require.NoError(t, err)
		for _, oa := range c.audiences {
			x.Visible(oa.audience())
		}
		rules := mutateRules(r, c, c.rules)
		if len(rules) > 1 && r.IntN(3) == 0 { // the lowest id goes: subject ids move
			rules = slices.Clone(rules)
			i := 0
			for j, q := range rules {
				if q.ID < rules[i].ID {
					i = j
				}
			}
			rules = slices.Delete(rules, i, i+1)
		}
		if r.IntN(4) == 0 { // notes and authors change nothing
			rules = slices.Clone(rules)
			for i := range rules {
				rules[i].Note, rules[i].CreatedBy = "edited", "someone"
			}
		}
		y, err := x.WithRules(rules, 2)
		require.NoError(t, err)
		if y.sameSubjectIDs(x, 0) {
			filteredCopies++
		} else {
			rematched++
		}
		rulesOf := func(idx *Index, s Subject) []Rule {
			var out []Rule
			if i, ok := idx.subjects[s]; ok {
				for _, k := range idx.subjRules[i] {
					q := idx.rules[k]
					out = append(out, Rule{ID: q.ID, Subject: q.Subject, Target: q.Target, Effect: q.Effect, LockReason: q.LockReason})
				}
			}
			return out
		}
		subjectsOf := func(idx *Index) []Subject {
			out := make([]Subject, len(idx.bySubject))
			for s, i := range idx.subjects {
				out[i] = s
			}
			return out
		}
		oldSubj, newSubj := subjectsOf(x), subjectsOf(y)
		for _, oa := range c.audiences {
			a := oa.audience()
			want := true
			for _, s := range x.match(a).ids {
				want = want && slices.Equal(rulesOf(x, oldSubj[s]), rulesOf(y, oldSubj[s]))
			}
			for _, s := range y.match(a).ids {
				want = want && slices.Equal(rulesOf(x, newSubj[s]), rulesOf(y, newSubj[s]))
			}
			e, got := y.views.get(y.CacheKey(a))
			if x.CacheKey(a) != y.CacheKey(a) {
				// The user gained its first rule or lost its last: the key is
				// now one other audiences share, and what is cached under it
				// is theirs, carried or not by their subjects. It must be
				// right for this audience too.
				if got {
					fresh, err := New(c.snap, rules, 2, nil)
					require.NoError(t, err)
					requireSameView(t, fmt.Sprintf("seed %d trial %d audience %+v (key changed)", seed, trial, oa), fresh.Visible(a), e.view)
					keyChanged++
				}
				continue
			}
			require.Equal(t, want, got, "seed %d trial %d audience %+v", seed, trial, oa)
			if got {
				require.Same(t, x.Visible(a), e.view, "seed %d trial %d: the same view carried", seed, trial)
				carried++
			} else {
				dropped++
			}
		}
	}
	t.Logf("%d views carried, %d dropped; %d caches filtered, %d views matched again; %d found under a key that changed", carried, dropped, filteredCopies, rematched, keyChanged)
	require.Greater(t, carried, 200)
	require.Greater(t, dropped, 200)
	require.Greater(t, filteredCopies, 20, "the subject ids stayed (caches filtered)")
	require.Greater(t, rematched, 20, "the subject ids moved (views matched again)")
}
