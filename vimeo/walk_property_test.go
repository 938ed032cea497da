package vimeo_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// propertySeeds is how many random cases a property test runs: def, a third of
// it under -race, a quarter with -short, or VIMEO_PROPERTY_SEEDS for a longer
// hunt (1000 seeds of each pass).
func propertySeeds(def int) int {
	if n, err := strconv.Atoi(os.Getenv("VIMEO_PROPERTY_SEEDS")); err == nil && n > 0 {
		return n
	}
	switch {
	case testing.Short():
		return max(1, def/4)
	case raceEnabled:
		return max(1, def/3)
	}
	return def
}

// randomServerOptions draws a fault schedule: about 20% injected 5xx (some of
// them HTML), dropped connections, a small rate limit whose 429s take one of the
// known forms, and the configurable quirks.
func randomServerOptions(rng *rand.Rand, seed uint64, errorRate float64) vimeotest.Options {
	return vimeotest.Options{
		Seed:               seed,
		ErrorRate:          errorRate,
		HTMLRate:           rng.Float64(),
		ResetRate:          0.01 * rng.Float64(),
		RateLimit:          5 + rng.IntN(30),
		ResetEpoch:         rng.IntN(2) == 0,
		RetryAfter:         rng.IntN(3) == 0,
		NoRateHeadersOn429: rng.IntN(4) == 0,
		LegacyBan:          rng.IntN(6) == 0,
		PagePastEnd404:     rng.IntN(2) == 0,
		MinimalErrors:      rng.IntN(3) == 0,
		ParentKey:          []string{"parent_folder", "parent_project", "both"}[rng.IntN(3)],
	}
}

func randomGenerate(rng *rand.Rand, seed uint64) vimeotest.GenerateOptions {
	return vimeotest.GenerateOptions{
		Seed:        seed,
		Folders:     2 + rng.IntN(35),
		Videos:      rng.IntN(350),
		MaxDepth:    1 + rng.IntN(10),
		WideFolders: rng.IntN(3) - 1,
	}
}

// TestWalkPropertyFaults: whatever the faults, a walk of an unchanging account
// ends equal to the account, or reports exactly which folders it could not read
// and is equal to the account everywhere else.
func TestWalkPropertyFaults(t *testing.T) {
	seeds := propertySeeds(24)
	complete, ran := 0, 0
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			ran++
			rng := rand.New(rand.NewPCG(seed, 77))
			gen := randomGenerate(rng, seed)
			sopts := randomServerOptions(rng, seed, 0.2)
			e := newEnv(t, &gen, &sopts, &vimeo.Options{Seed: seed})
			// 429 storms on top of the rate limit: a few runs of scripted 429s.
			for range rng.IntN(4) {
				e.srv.AddFault(vimeotest.Fault{After: rng.IntN(30), Times: 1 + rng.IntN(6), Status: 429})
			}
			res, err := e.c.Walk(t.Context(), e.rootURI(), &vimeo.WalkOptions{Concurrency: 1 + rng.IntN(6)})
			require.NoError(t, err, "seed %d", seed)
			st := e.srv.Stats()
			t.Logf("seed %d: folders=%d videos=%d calls=%d injected=%d 429=%d complete=%v failures=%v",
				seed, len(res.Folders), len(res.Videos), res.Calls, st.Injected, st.ByStatus[429], res.Complete, res.Failures)
			require.True(t, res.Consistent, "seed %d: nothing changed, yet: %v", seed, res.Problems)
			for _, f := range res.Failures {
				require.NotEmpty(t, f.Reason, "seed %d", seed)
				require.Error(t, f.Err, "seed %d", seed)
			}
			requireMatchesSnapshot(t, e.acct, e.root, res, "seed %d", seed)
			if res.Complete {
				complete++
			}
		})
	}
	// With per-request retries and folder retries, 20% errors should not
	// leave holes; if they do, the retry policy regressed.
	require.GreaterOrEqual(t, complete, ran-max(1, ran/20), "walks that ended complete")
}

// TestWalkPropertyMutations: the account changes during the walk (moves,
// renames, deletions, insertions, privacy and transcode changes, revoked access)
// under light faults. A walk that says it is complete and consistent must equal
// the account as it is afterwards; one that is consistent but incomplete must
// equal it outside the folders it names. It must never be silently wrong.
func TestWalkPropertyMutations(t *testing.T) {
	seeds := propertySeeds(30)
	trustworthy, ran := 0, 0
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			ran++
			rng := rand.New(rand.NewPCG(seed, 99))
			gen := randomGenerate(rng, seed+1000)
			gen.Folders += 8
			gen.Videos += 40
			sopts := randomServerOptions(rng, seed, 0.05)
			sopts.RateLimit = 0
			e := newEnv(t, &gen, &sopts, &vimeo.Options{Seed: seed})
			minCalls := e.acct.MinWalkCalls(e.root, 100)
			var kinds []string
			for i := range 1 + rng.IntN(5) {
				hookRng := rand.New(rand.NewPCG(seed, uint64(i)))
				at := rng.IntN(max(1, minCalls/2))
				kind := mutationKinds[rng.IntN(len(mutationKinds))]
				kinds = append(kinds, fmt.Sprintf("%s@%d", kind, at+1))
				// Changes land while folders are being listed (never after the
				// walk took its last look, which no walk could see).
				e.srv.AddFault(vimeotest.Fault{Path: "/users/*/projects/*/items", After: at,
					Before: func(a *vimeotest.Account) { mutate(a, e.root, kind, hookRng) }})
			}
			res, err := e.c.Walk(t.Context(), e.rootURI(), nil)
			require.NoError(t, err, "seed %d", seed)
			t.Logf("seed %d: mutations=%v calls=%d (min %d) relists=%d rounds=%d complete=%v consistent=%v problems=%v",
				seed, kinds, res.Calls, minCalls, res.Relists, res.VerifyRounds, res.Complete, res.Consistent, res.Problems)
			if !res.Consistent {
				require.NotEmpty(t, res.Problems, "seed %d", seed)
				return
			}
			requireMatchesSnapshot(t, e.acct, e.root, res, "seed %d, mutations %v", seed, kinds)
			if res.Complete {
				trustworthy++
			} else {
				require.NotEmpty(t, res.Failures, "seed %d", seed)
			}
		})
	}
	require.GreaterOrEqual(t, trustworthy, ran*2/3, "walks that ended complete and consistent")
}

var mutationKinds = []string{"move-video", "move-folder", "rename-folder", "rename-video", "delete-video",
	"create-video", "create-old-video", "create-folder", "delete-folder", "delete-folder-clips", "privacy",
	"transcode", "revoke"}

// mutate applies one random change of the given kind; changes the account
// refuses (depth limit, cycles) are simply skipped.
func mutate(a *vimeotest.Account, root int64, kind string, rng *rand.Rand) {
	folders := a.Folders()
	videos := a.Videos()
	anyFolder := func(allowRoot bool) int64 {
		for range 20 {
			f := folders[rng.IntN(len(folders))].ID
			if allowRoot || f != root {
				return f
			}
		}
		return root
	}
	anyVideo := func() int64 {
		if len(videos) == 0 {
			return 0
		}
		return videos[rng.IntN(len(videos))].ID
	}
	switch kind {
	case "move-video":
		if v := anyVideo(); v != 0 {
			_ = a.MoveVideo(v, anyFolder(true))
		}
	case "move-folder":
		if f := anyFolder(false); f != root {
			_ = a.MoveFolder(f, anyFolder(true))
		}
	case "rename-folder":
		_ = a.RenameFolder(anyFolder(true), fmt.Sprintf("renamed %d", rng.IntN(1000)))
	case "rename-video":
		if v := anyVideo(); v != 0 {
			_ = a.RenameVideo(v, fmt.Sprintf("renamed video %d", rng.IntN(1000)))
		}
	case "delete-video":
		if v := anyVideo(); v != 0 {
			_ = a.DeleteVideo(v)
		}
	case "create-video":
		_, _ = a.CreateVideo(anyFolder(true), vimeotest.VideoSpec{Name: "new"})
	case "create-old-video":
		_, _ = a.CreateVideo(anyFolder(true), vimeotest.VideoSpec{Name: "backdated", Created: epoch.AddDate(-4, 0, 0)})
	case "create-folder":
		_, _ = a.CreateFolder(anyFolder(true), "new folder")
	case "delete-folder":
		if f := anyFolder(false); f != root {
			_ = a.DeleteFolder(f, false)
		}
	case "delete-folder-clips":
		if f := anyFolder(false); f != root {
			_ = a.DeleteFolder(f, true)
		}
	case "privacy":
		if v := anyVideo(); v != 0 {
			_ = a.SetPrivacy(v, []string{"anybody", "unlisted", "nobody"}[rng.IntN(3)])
		}
	case "transcode":
		if v := anyVideo(); v != 0 {
			_ = a.SetTranscode(v, []string{"in_progress", "complete", "error"}[rng.IntN(3)])
		}
	case "revoke":
		if f := anyFolder(false); f != root {
			_ = a.Revoke(f)
		}
	}
}
