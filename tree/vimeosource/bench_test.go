package vimeosource_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/vimeosource"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// timedSource measures the time spent in the source (the simulated Vimeo),
// so that apply time can be told apart from walk time.
type timedSource struct {
	tree.Source
	spent time.Duration
}

func (s *timedSource) Walk(ctx context.Context) (*tree.Walk, error) {
	t0 := time.Now()
	defer func() { s.spent += time.Since(t0) }()
	return s.Source.Walk(ctx)
}

func (s *timedSource) Video(ctx context.Context, id string) (*tree.RemoteVideo, error) {
	t0 := time.Now()
	defer func() { s.spent += time.Since(t0) }()
	return s.Source.Video(ctx, id)
}

func (s *timedSource) Changes(ctx context.Context, c tree.Cursor) (*tree.Changes, error) {
	t0 := time.Now()
	defer func() { s.spent += time.Since(t0) }()
	return s.Source.Changes(ctx, c)
}

// BenchmarkMirror50k measures, on a 50,000-video tree mirrored into
// PostgreSQL: the calls of a full reconciliation against the minimum, the
// calls of an unchanged poll, the apply time of a reconciliation with 1% of
// the videos changed, and the latency of a poll that applies one change.
//
//	go test -run '^$' -bench Mirror50k -benchtime 1x ./tree/vimeosource/
func BenchmarkMirror50k(b *testing.B) {
	videos := 50000
	if n, err := strconv.Atoi(os.Getenv("VIDLIB_BENCH_VIDEOS")); err == nil && n > 0 {
		videos = n
	}
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		f := newFixture(b, openPG(b), vimeotest.GenerateOptions{Seed: 42, Folders: videos / 100, Videos: videos}, nil)
		src, err := vimeosource.New(f.client, itoa64(f.root), &vimeosource.Options{Now: f.clock.Now}) // default folder-poll interval
		require.NoError(b, err)
		ts := &timedSource{Source: src}
		// Same store, a mirror over the timed source, default folder-poll interval.
		m, err := tree.NewMirror(f.store, ts, &tree.MirrorOptions{Now: f.clock.Now})
		require.NoError(b, err)

		t0 := time.Now()
		rep, err := m.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerStartup})
		require.NoError(b, err)
		require.True(b, rep.Run.Complete, "%v", rep.Run.Errors)
		first := time.Since(t0)
		minCalls := f.acct.MinWalkCalls(f.root, 100)
		b.ReportMetric(float64(rep.Run.APICalls), "reconcile-calls")
		b.ReportMetric(float64(rep.Run.APICalls)/float64(minCalls), "calls/min")
		b.Logf("first reconcile: %d changes, %d calls (minimum %d), %v", len(rep.Applied), rep.Run.APICalls, minCalls, first)

		// Unchanged polls (after the first, which reads the folder list too).
		f.clock.Advance(time.Minute)
		_, err = m.Poll(ctx)
		require.NoError(b, err)
		calls := 0
		for p := 0; p < 3; p++ {
			f.clock.Advance(30 * time.Second)
			rep, err = m.Poll(ctx)
			require.NoError(b, err)
			require.Empty(b, rep.Applied)
			calls += rep.Run.APICalls
		}
		b.ReportMetric(float64(calls)/3, "unchanged-poll-calls")

		// One change, one poll.
		var vid int64
		for _, v := range f.acct.Videos() {
			if v.FolderID != 0 && v.FolderID != f.root {
				vid = v.ID
				break
			}
		}
		f.clock.Advance(2 * time.Second)
		require.NoError(b, f.acct.RenameVideo(vid, "renamed once"))
		f.clock.Advance(2 * time.Second)
		ts.spent = 0
		t0 = time.Now()
		rep, err = m.Poll(ctx)
		pollLatency := time.Since(t0)
		pollSource := ts.spent
		require.NoError(b, err)
		require.Len(b, rep.Applied, 1)
		b.ReportMetric(float64(pollLatency.Milliseconds()), "poll-1-change-ms")
		b.ReportMetric(float64((pollLatency - pollSource).Milliseconds()), "poll-1-change-apply-ms")
		b.Logf("poll applying one change: %v (in the source %v), %d calls", pollLatency, pollSource, rep.Run.APICalls)

		// 1% of the videos changed, one reconciliation.
		n := 0
		for _, v := range f.acct.Videos() {
			if v.FolderID == 0 || n >= videos/100 {
				continue
			}
			require.NoError(b, f.acct.RenameVideo(v.ID, fmt.Sprintf("changed %d", n)))
			n++
		}
		f.clock.Advance(2 * time.Second)
		ts.spent = 0
		t0 = time.Now()
		rep, err = m.Reconcile(ctx, tree.ReconcileOptions{})
		total := time.Since(t0)
		require.NoError(b, err)
		require.GreaterOrEqual(b, len(rep.Applied), n)
		apply := total - ts.spent
		b.ReportMetric(apply.Seconds(), "apply-1pct-s")
		b.Logf("reconcile with %d changed: %d changes applied, total %v, in the source %v, apply %v", n, len(rep.Applied), total, ts.spent, apply)
	}
}
