package ops

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"go.uber.org/zap"
)

// How much a process's heap may grow past its live heap when nothing bounds
// its memory (memory-limit auto with neither GOMEMLIMIT nor a container
// limit, and no GOGC): FollowShare of the live heap, and at least
// FollowFloor. Go's default (GOGC=100) lets the heap grow to twice what the
// last collection found live: for the API at a million videos (about 1.1 GB
// live) a 2.2 GB heap and 2.7 GiB RSS, for headroom it does not need. Half
// the live heap keeps that API under 2 GiB of RSS also while a stream of
// video moves patches its generations (1.2 GB live then): with 0.6 it
// peaked at 2.0–2.1 GiB. The
// GC percent follows the live heap after every collection (FollowGCPercent),
// so the headroom stays a share of the heap as the heap grows or shrinks:
// unlike a fixed memory limit close above the live heap, it never makes the
// collector run back to back when the heap outgrows it. A heap under
// FollowFloor/FollowShare keeps Go's default.
//
// A GC percent, not a memory limit: a limit counts what the runtime holds
// besides the live objects (free spans not yet returned, metadata, stacks),
// which at 300,000 videos ate half of a 256 MiB headroom and had the
// collector run every 1.5 s.
const (
	FollowShare = 0.5
	FollowFloor = 256 << 20
)

// followInterval is how often the follower reads the collector's metrics
// (a read costs about a microsecond and stops nothing).
const followInterval = 200 * time.Millisecond

// FollowGCPercent is the GC percent for a live heap of live bytes (as the
// last collection found it): 100 × max(FollowShare × live, FollowFloor) /
// live, and at most Go's default of 100.
func FollowGCPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	headroom := max(FollowShare*float64(live), FollowFloor)
	return min(100, int(100*headroom/float64(live)))
}

// heapFollower sets the process's GC percent to FollowGCPercent of the live
// heap after every collection, until stopped.
type heapFollower struct {
	log  *zap.Logger
	stop chan struct{}
	done sync.WaitGroup

	set  func(int) int // debug.SetGCPercent; a test's fake
	read func() heapState
	prev int // the GC percent found at the start
}

// heapState is what the follower reads of the runtime.
type heapState struct {
	cycles  uint64 // completed GC cycles
	live    uint64 // the live heap the last one marked, bytes
	percent int    // the GC percent in force
}

// readHeap reads the runtime's metrics the follower needs.
func readHeap() heapState {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	for _, m := range s {
		if m.Value.Kind() != metrics.KindUint64 {
			return heapState{} // a runtime without them: the follower sets nothing
		}
	}
	return heapState{cycles: s[0].Value.Uint64(), live: s[1].Value.Uint64(), percent: int(s[2].Value.Uint64())}
}

func newHeapFollower(log *zap.Logger) *heapFollower {
	return &heapFollower{log: log, stop: make(chan struct{}), set: debug.SetGCPercent, read: readHeap}
}

// start sets the GC percent for the live heap now and follows it every
// interval. While it runs it owns the GC percent: one set by someone else
// is set back after the next collection.
func (f *heapFollower) start(interval time.Duration) {
	h := f.read()
	cur := FollowGCPercent(h.live)
	f.prev = f.set(cur)
	cycles := h.cycles
	f.log.Info("GC percent follows the live heap", zap.Int("gc_percent", cur), zap.Uint64("live_bytes", h.live),
		zap.Float64("headroom_share", FollowShare), zap.Int("headroom_floor_bytes", FollowFloor))
	f.done.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
			}
			h := f.read()
			if h.cycles == cycles {
				continue
			}
			cycles = h.cycles
			if p := FollowGCPercent(h.live); p != h.percent {
				f.set(p)
				f.log.Debug("GC percent follows the live heap", zap.Int("gc_percent", p), zap.Uint64("live_bytes", h.live))
			}
		}
	})
}

// close stops following and puts back the GC percent found at the start.
func (f *heapFollower) close() {
	close(f.stop)
	f.done.Wait()
	f.set(f.prev)
}
