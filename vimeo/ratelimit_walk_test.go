package vimeo_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestWalkNeverExceedsKnownRateLimit runs a concurrent walk against a small rate
// limit on a clock running 1000 times faster than real time, and measures the
// 429s the fake sent after the first window: once the limit is known from the
// headers, the client must not cause any.
func TestWalkNeverExceedsKnownRateLimit(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sopts vimeotest.Options
	}{
		{"iso reset", vimeotest.Options{RateLimit: 10}},
		{"epoch reset", vimeotest.Options{RateLimit: 10, ResetEpoch: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := vimeotest.NewScaledClock(epoch, 1000)
			acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 21, Folders: 60, Videos: 700, Clock: clk})
			require.NoError(t, err)
			srv := vimeotest.Start(t, acct, &tt.sopts)
			c, err := vimeo.New(srv.Token(), &vimeo.Options{BaseURL: srv.URL(), Clock: clk, Seed: 1})
			require.NoError(t, err)
			res, err := c.Walk(t.Context(), "/users/1001/projects/"+id(root), &vimeo.WalkOptions{Concurrency: 6})
			require.NoError(t, err)
			require.True(t, res.Trustworthy(), "%v %v", res.Failures, res.Problems)
			requireMatchesSnapshot(t, acct, root, res)

			st := srv.Stats()
			window := time.Minute
			late429 := 0
			for _, r := range srv.Requests() {
				if r.Status == 429 && r.At.Sub(st.First) >= window {
					late429++
				}
			}
			last := srv.Requests()[len(srv.Requests())-1].At
			t.Logf("requests=%d windows=%.1f 429 total=%d after first window=%d", st.Requests,
				last.Sub(st.First).Minutes(), st.RateLimited, late429)
			require.Greater(t, st.Requests, 3*20, "the walk needs several windows")
			require.Zero(t, late429, "429s after the first window")
			require.Zero(t, res.RateLimited, "the walk met no 429 at all")
		})
	}
}
