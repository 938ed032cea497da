package bench

import (
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// gcWatch follows the garbage collector over the measured window: the CPU
// it took, its cycles, and the largest live heap a cycle marked (what the
// heap goal, and so the RSS, follows). With a file name it also writes a
// heap profile soon after each cycle that marks a new largest live heap,
// forcing no collection: it shows the heap under load, transient objects
// included, where the profile written after the run shows only what
// survives a forced collection. The runtime publishes a cycle's profile
// data a cycle or two late, so it may show an earlier cycle's heap than
// the largest: read it for what the heap holds under load, and the logged
// figure for the largest live heap.
type gcWatch struct {
	peakFile string
	start    gcSample
	stop     chan struct{}
	done     sync.WaitGroup

	peak     uint64 // the largest live heap marked so far, bytes
	peakErr  error  // the first error writing peakFile
	profiles int    // peak profiles written
}

// gcSample is a reading of the GC metrics gcWatch uses.
type gcSample struct {
	at      time.Time
	cycles  uint64  // completed GC cycles
	live    uint64  // the live heap the last cycle marked, bytes
	gcCPU   float64 // estimated CPU seconds spent in the GC
	busyCPU float64 // estimated CPU seconds the process's Go code and runtime used (all classes but idle)
}

var gcMetrics = []string{"/gc/cycles/total:gc-cycles", "/gc/heap/live:bytes", "/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/total:cpu-seconds", "/cpu/classes/idle:cpu-seconds"}

func readGC() gcSample {
	s := make([]metrics.Sample, len(gcMetrics))
	for i, n := range gcMetrics {
		s[i].Name = n
	}
	metrics.Read(s)
	u := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	f := func(i int) float64 {
		if s[i].Value.Kind() == metrics.KindFloat64 {
			return s[i].Value.Float64()
		}
		return 0
	}
	return gcSample{at: time.Now(), cycles: u(0), live: u(1), gcCPU: f(2), busyCPU: f(3) - f(4)}
}

// gcWatchInterval is how often gcWatch reads the metrics.
const gcWatchInterval = 100 * time.Millisecond

// startGCWatch starts watching; peakFile may be empty.
func startGCWatch(peakFile string) *gcWatch {
	w := &gcWatch{peakFile: peakFile, start: readGC(), stop: make(chan struct{})}
	w.peak = w.start.live
	w.done.Go(func() {
		t := time.NewTicker(gcWatchInterval)
		defer t.Stop()
		last := w.start.cycles
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			s := readGC()
			if s.cycles == last {
				continue
			}
			last = s.cycles
			if s.live <= w.peak {
				continue
			}
			w.peak = s.live
			if w.peakFile != "" && w.peakErr == nil {
				w.peakErr = writeHeapProfile(w.peakFile)
				w.profiles++
			}
		}
	})
	return w
}

// report stops the watch and says what the GC did over the window.
func (w *gcWatch) report() string {
	close(w.stop)
	w.done.Wait()
	end := readGC()
	secs := end.at.Sub(w.start.at).Seconds()
	gc := end.gcCPU - w.start.gcCPU
	busy := end.busyCPU - w.start.busyCPU
	msg := fmt.Sprintf("GC over the window: %d cycles, %.2f s of CPU in %.1f s (%.2f cores, %.0f%% of the CPU the runtime estimates the process used); largest live heap a cycle marked %d MB",
		end.cycles-w.start.cycles, gc, secs, gc/max(secs, 1e-9), 100*gc/max(busy, 1e-9), w.peak>>20)
	switch {
	case w.peakErr != nil:
		msg += fmt.Sprintf(" (its profile: %v)", w.peakErr)
	case w.profiles > 0:
		msg += " (a heap profile under load, written after it: " + w.peakFile + ")"
	}
	return msg
}

func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
