package vimeo_test

import (
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// The benchmark account: 5,000 folders and 50,000 videos under the root, built
// once per process.
var (
	benchOnce  sync.Once
	benchClock *vimeotest.ScaledClock
	benchAcct  *vimeotest.Account
	benchRoot  int64
	benchErr   error
)

// benchSpeedup is how much faster than real time the benchmark clock runs
// (VIMEO_BENCH_SPEEDUP, default 20): a 60 s rate-limit window lasts 3 s. The
// factor must stay low enough that the fake's real throughput on this machine
// is well above the limit, or the benchmark measures the CPU instead.
func benchSpeedup() float64 {
	if v, err := strconv.ParseFloat(os.Getenv("VIMEO_BENCH_SPEEDUP"), 64); err == nil && v >= 1 {
		return v
	}
	return 20
}

func benchAccount(b *testing.B) (*vimeotest.ScaledClock, *vimeotest.Account, int64) {
	b.Helper()
	benchOnce.Do(func() {
		benchClock = vimeotest.NewScaledClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), benchSpeedup())
		benchAcct, benchRoot, benchErr = vimeotest.Generate(&vimeotest.GenerateOptions{
			Seed: 1, Folders: 5000, Videos: 50000, WideFolders: 40, Clock: benchClock,
		})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchClock, benchAcct, benchRoot
}

// BenchmarkWalkLargeRateLimited walks the 5,000-folder / 50,000-video account
// at 500 requests a minute (Vimeo's Standard plan with fields=: 250 × 2) on a
// compressed clock. It reports the calls made, the minimum possible
// (Σ ceil(items/100) per folder + the root GET), their ratio, the 429s met and
// the simulated wall time.
//
//	go test ./vimeo -run '^$' -bench WalkLarge -benchtime 1x
func BenchmarkWalkLargeRateLimited(b *testing.B) {
	benchWalk(b, 250)
}

// BenchmarkWalkLargeUnlimited is the same walk without a rate limit: what the
// client and the fake cost in CPU.
func BenchmarkWalkLargeUnlimited(b *testing.B) {
	benchWalk(b, 0)
}

func benchWalk(b *testing.B, rateLimit int) {
	clk, acct, root := benchAccount(b)
	minCalls := acct.MinWalkCalls(root, 100)
	b.ResetTimer()
	for range b.N {
		srv := vimeotest.Start(b, acct, &vimeotest.Options{RateLimit: rateLimit, LogLimit: 1})
		c, err := vimeo.New(srv.Token(), &vimeo.Options{BaseURL: srv.URL(), Clock: clk, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		began := clk.Now()
		res, err := c.Walk(b.Context(), "/users/1001/projects/"+id(root), &vimeo.WalkOptions{Concurrency: 8})
		if err != nil {
			b.Fatal(err)
		}
		simulated := clk.Now().Sub(began)
		if !res.Trustworthy() || len(res.Folders) != 5000 || len(res.Videos) != 50000 {
			b.Fatalf("walk: complete=%v consistent=%v folders=%d videos=%d problems=%v",
				res.Complete, res.Consistent, len(res.Folders), len(res.Videos), res.Problems)
		}
		b.ReportMetric(float64(res.Calls), "calls/op")
		b.ReportMetric(float64(minCalls), "min-calls")
		b.ReportMetric(float64(res.Calls)/float64(minCalls), "calls/min-calls")
		b.ReportMetric(float64(srv.Stats().RateLimited), "429s/op")
		b.ReportMetric(simulated.Minutes(), "sim-min/op")
	}
}
