package ops

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

func TestFollowGCPercent(t *testing.T) {
	require.Equal(t, 100, FollowGCPercent(0), "nothing known: Go's default")
	require.Equal(t, 100, FollowGCPercent(100<<20), "a small heap keeps Go's default")
	require.Equal(t, 50, FollowGCPercent(1<<30), "FollowShare of a large heap")
	require.Equal(t, 50, FollowGCPercent(5<<30))
	// In between, the floor: the heap may grow by FollowFloor.
	live := uint64(320 << 20)
	require.Equal(t, int(100*FollowFloor/live), FollowGCPercent(live))
	// Never less headroom than the floor or the share, never more than Go's default.
	for _, live := range []uint64{1, 1 << 20, 300 << 20, 400 << 20, 500 << 20, 1 << 30, 5 << 30} {
		p := FollowGCPercent(live)
		require.LessOrEqual(t, p, 100)
		headroom := float64(live) * float64(p+1) / 100 // +1: the percent is rounded down
		require.GreaterOrEqual(t, headroom, min(float64(live), max(FollowShare*float64(live), FollowFloor)), "live %d", live)
	}
}

// fakeRuntime is the follower's view of the runtime: the cycles and live
// heap it reads, and the GC percents it sets.
type fakeRuntime struct {
	mu      sync.Mutex
	cycles  uint64
	live    uint64
	percent int
	sets    int
}

func (r *fakeRuntime) read() heapState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return heapState{cycles: r.cycles, live: r.live, percent: r.percent}
}

// override is someone else setting the GC percent.
func (r *fakeRuntime) override(p int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.percent = p
}

func (r *fakeRuntime) set(p int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.percent
	r.percent = p
	r.sets++
	return prev
}

func (r *fakeRuntime) collect(live uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cycles++
	r.live = live
}

func (r *fakeRuntime) current() (percent, sets int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.percent, r.sets
}

func TestHeapFollowerFollowsTheLiveHeapAndPutsThePercentBack(t *testing.T) {
	rt := &fakeRuntime{cycles: 3, live: 100 << 20, percent: 150}
	f := newHeapFollower(zap.NewNop())
	f.set, f.read = rt.set, rt.read
	f.start(time.Millisecond)
	p, n := rt.current()
	require.Equal(t, 100, p, "set at the start")
	require.Equal(t, 1, n)

	// A collection that finds the heap grown: the percent follows it down.
	rt.collect(1 << 30)
	require.Eventually(t, func() bool { p, _ := rt.current(); return p == 50 }, 5*time.Second, time.Millisecond)

	// One that finds a heap with the same percent: nothing is set.
	_, before := rt.current()
	rt.collect(2 << 30)
	rt.collect(1 << 30)
	time.Sleep(20 * time.Millisecond)
	p, n = rt.current()
	require.Equal(t, 50, p)
	require.Equal(t, before, n, "the same percent is not set again")

	// Someone else sets the percent: the next collection sets it back.
	rt.override(25)
	rt.collect(1 << 30)
	require.Eventually(t, func() bool { p, _ := rt.current(); return p == 50 }, 5*time.Second, time.Millisecond)

	// The heap shrinks under the floor's share: back to Go's default.
	rt.collect(200 << 20)
	require.Eventually(t, func() bool { p, _ := rt.current(); return p == 100 }, 5*time.Second, time.Millisecond)

	f.close()
	p, _ = rt.current()
	require.Equal(t, 150, p, "the percent found at the start is put back")
}

func TestHeapFollowerReadsTheRuntime(t *testing.T) {
	before := readHeap()
	runtime.GC()
	h := readHeap()
	require.Greater(t, h.cycles, before.cycles)
	require.Positive(t, h.live, "runtime/metrics has the live heap")
	prev := debug.SetGCPercent(77)
	defer debug.SetGCPercent(prev)
	require.Equal(t, 77, readHeap().percent)
}
