package entitle

import (
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// propertySeed is random per run (logged) unless ENTITLE_SEED pins it.
func propertySeed(t *testing.T) uint64 {
	if s := os.Getenv("ENTITLE_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ENTITLE_SEED")
		return seed
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (rerun with ENTITLE_SEED=%d)", seed, seed)
	return seed
}

// coverage counts the kinds of decisions the random cases produced, so that the
// test fails if the generator stops exercising the interesting ones.
type coverage struct {
	trials, checks, folderChecks                   int
	allowed, deniedByRule, defaultDeny, unplayable int
	locked, anonymousListed                        int
	videoLevel, deepLevel, multiPlacement          int
	bySubject                                      map[SubjectKind]int
	foldersVisible, foldersHidden                  int
	maxLevel                                       int
}

// TestIndexAgreesWithOracle is the no-leak property: on random trees, rules and
// audiences the compiled Index (Check, View.Video, View.Folder, Explain) agrees
// with the literal oracle on every question — at least a million video checks,
// shared by one worker per CPU.
func TestIndexAgreesWithOracle(t *testing.T) {
	seed := propertySeed(t)
	want := 1_000_000
	if testing.Short() {
		want = 100_000
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // small short-lived garbage; fewer collections
	results := make([]coverage, workers)
	t.Run("workers", func(t *testing.T) {
		for w := range workers {
			t.Run(strconv.Itoa(w), func(t *testing.T) {
				t.Parallel()
				results[w] = checkAgainstOracle(t, seed, uint64(w), (want+workers-1)/workers)
			})
		}
	})
	if t.Failed() {
		return
	}
	cov := coverage{bySubject: map[SubjectKind]int{}}
	for _, c := range results {
		cov.merge(c)
	}
	t.Logf("%d trials, %d video checks, %d folder checks, coverage %+v", cov.trials, cov.checks, cov.folderChecks, cov)
	require.GreaterOrEqual(t, cov.checks, want)
	// The generator must keep producing every kind of decision.
	for name, n := range map[string]int{
		"allowed": cov.allowed, "denied by rule": cov.deniedByRule, "default deny": cov.defaultDeny,
		"unplayable": cov.unplayable, "video level": cov.videoLevel, "level ≥ 4": cov.deepLevel,
		"multi-placement": cov.multiPlacement, "folders visible": cov.foldersVisible, "folders hidden": cov.foldersHidden,
		"everyone": cov.bySubject[Everyone], "role": cov.bySubject[Role], "segment": cov.bySubject[Segment], "user": cov.bySubject[User],
		"public": cov.bySubject[Public], "locked by a teaser": cov.locked, "listed to anonymous": cov.anonymousListed,
	} {
		require.Greater(t, n, cov.checks/1000, "too few cases of %s", name)
	}
	require.Equal(t, 10, cov.maxLevel, "decisions made ten levels up (depth-10 trees)")
}

func checkAgainstOracle(t *testing.T, seed, stream uint64, want int) coverage {
	r := rand.New(rand.NewPCG(seed, stream))
	cov := coverage{bySubject: map[SubjectKind]int{}}
	for ; cov.checks < want; cov.trials++ {
		c := genCaseOf(t, r)
		x, err := New(c.snap, c.rules, int64(cov.trials), &Options{MaxCachedAudiences: 1 + r.IntN(8)})
		require.NoError(t, err)
		ids := append(c.snap.VideoIDs(), "999999", "")
		multi := make(map[string]bool)
		for _, id := range ids {
			multi[id] = len(c.snap.FoldersOf(id)) > 1
		}
		for _, oa := range c.audiences {
			a := oa.audience()
			view := x.Visible(a)
			via := make(map[placement]bool)
			for _, id := range ids {
				out := oracleVideoOutcome(c.snap, c.rules, oa, id, via)
				expect := out.allowed
				if got := x.Check(a, id); got != expect || view.Video(id) != expect {
					t.Fatalf("seed %d stream %d trial %d: video %s audience %+v: Check=%v View=%v oracle=%v\n%s",
						seed, stream, cov.trials, id, oa, got, view.Video(id), expect, describe(c, id))
				}
				lock, locked := view.Locked(id)
				if view.Listed(id) != out.listed() || lock != out.lock || locked != (out.lock != "") {
					t.Fatalf("seed %d stream %d trial %d: video %s audience %+v: Listed=%v Locked=%q,%v oracle=%+v\n%s",
						seed, stream, cov.trials, id, oa, view.Listed(id), lock, locked, out, describe(c, id))
				}
				if pos := x.VideoPos(id); view.ListedAt(pos) != out.listed() {
					t.Fatalf("seed %d stream %d trial %d: video %s: ListedAt disagrees with the oracle", seed, stream, cov.trials, id)
				}
				d := x.Explain(a, id)
				if d.Allowed != expect || d.Locked != (out.lock != "") || d.LockReason != out.lock ||
					(d.Locked && (d.Rule == nil || d.Rule.Effect != Teaser || d.Rule.LockReason != d.LockReason)) {
					t.Fatalf("seed %d stream %d trial %d: video %s audience %+v: Explain=%+v oracle=%+v\n%s",
						seed, stream, cov.trials, id, oa, d, out, describe(c, id))
				}
				if d.Reason == ReasonRule && oa.anon && d.Rule.Subject.Kind != Public {
					t.Fatalf("seed %d stream %d trial %d: video %s: anonymous decided by %s", seed, stream, cov.trials, id, d.Rule.Subject)
				}
				cov.checks++
				cov.add(d, multi[id])
				if oa.anon && out.listed() {
					cov.anonymousListed++
				}
			}
			expectFolders := oracleFolders(c.snap, via)
			nf, nv := view.Len()
			require.Len(t, view.FolderIDs(), nf)
			require.Len(t, view.VideoIDs(), nv)
			nl := 0
			for _, id := range c.snap.VideoIDs() {
				if _, ok := view.Locked(id); ok {
					nl++
				}
			}
			require.Equal(t, nl, view.LockedLen())
			for _, f := range append(c.snap.FolderIDs(), "999999") {
				if got := x.CheckFolder(a, f); got != expectFolders[f] || view.Folder(f) != got {
					t.Fatalf("seed %d stream %d trial %d: folder %s audience %+v: CheckFolder=%v oracle=%v",
						seed, stream, cov.trials, f, oa, got, expectFolders[f])
				}
				if expectFolders[f] {
					cov.foldersVisible++
				} else {
					cov.foldersHidden++
				}
				cov.folderChecks++
			}
		}
	}
	return cov
}

func (c *coverage) merge(o coverage) {
	c.trials += o.trials
	c.checks += o.checks
	c.folderChecks += o.folderChecks
	c.allowed += o.allowed
	c.locked += o.locked
	c.anonymousListed += o.anonymousListed
	c.deniedByRule += o.deniedByRule
	c.defaultDeny += o.defaultDeny
	c.unplayable += o.unplayable
	c.videoLevel += o.videoLevel
	c.deepLevel += o.deepLevel
	c.multiPlacement += o.multiPlacement
	c.foldersVisible += o.foldersVisible
	c.foldersHidden += o.foldersHidden
	c.maxLevel = max(c.maxLevel, o.maxLevel)
	for k, n := range o.bySubject {
		c.bySubject[k] += n
	}
}

func (c *coverage) add(d Decision, multi bool) {
	switch {
	case d.Allowed:
		c.allowed++
	case d.Locked:
		c.locked++
	case d.Reason == ReasonRule:
		c.deniedByRule++
	case d.Reason == ReasonNoRule:
		c.defaultDeny++
	default:
		c.unplayable++
	}
	if d.Reason == ReasonRule {
		c.bySubject[d.Rule.Subject.Kind]++
		if d.Level == 0 {
			c.videoLevel++
		}
		if d.Level >= 4 {
			c.deepLevel++
		}
		c.maxLevel = max(c.maxLevel, d.Level)
	}
	if multi {
		c.multiPlacement++
	}
}

// describe prints what matters for one video of a failing case.
func describe(c genCase, id string) string {
	var b strings.Builder
	if v := c.snap.Video(id); v != nil {
		b.WriteString("video: status=" + string(v.Status) + " hidden=" + strconv.FormatBool(v.Hidden) +
			" deleted=" + strconv.FormatBool(v.Deleted()) + "\n")
	}
	for _, f := range c.snap.FoldersOf(id) {
		b.WriteString("placement chain: " + f)
		for _, a := range c.snap.Ancestors(f) {
			b.WriteString(" < " + a)
		}
		b.WriteString("\n")
	}
	for _, r := range c.rules {
		b.WriteString("rule " + strconv.FormatInt(r.ID, 10) + ": " + r.Subject.String() + " " + string(r.Effect) + " " + string(r.LockReason) + " " + r.Target.String() + "\n")
	}
	return b.String()
}
