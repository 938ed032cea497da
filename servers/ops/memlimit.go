package ops

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/servers/config"
)

// containerShare is the share of the container's memory an automatic limit
// takes, leaving the rest to what the Go runtime does not count (stacks of
// C code, the kernel's page cache of the process's files) and to headroom.
const containerShare = 0.8

// MemoryLimit is the soft memory limit a process sets itself for the
// memory-limit setting (config.MemoryLimit), and where it comes from:
// "setting", "GOMEMLIMIT" (the runtime applied it already: nothing to set),
// "cgroup" (containerShare of what containerMemory reports), "live heap"
// (auto without either and without GOGC: no limit, the GC percent follows
// the live heap, FollowGCPercent), or "" for none. gomemlimit and gogc are
// the GOMEMLIMIT and GOGC variables.
func MemoryLimit(setting int64, gomemlimit, gogc string, containerMemory func() (int64, bool)) (int64, string) {
	switch {
	case setting > 0:
		return setting, "setting"
	case setting < 0:
		return 0, ""
	case gomemlimit != "":
		return 0, "GOMEMLIMIT"
	}
	if n, ok := containerMemory(); ok {
		return int64(float64(n) * containerShare), "cgroup"
	}
	if gogc != "" {
		return 0, "" // the operator chose the headroom
	}
	return 0, fromLiveHeap
}

// fromLiveHeap is MemoryLimit's source when the GC percent follows the live
// heap.
const fromLiveHeap = "live heap"

// ApplyMemoryLimit sets the process's soft memory limit for the
// configuration (see MemoryLimit) and logs what it applies. When no limit
// applies and the GC percent follows the live heap, it follows it from the
// lifecycle's start (its hook runs before those of what is built after
// this is invoked) to its stop, which puts back the percent found at the
// start.
func ApplyMemoryLimit(lc fx.Lifecycle, cfg *config.Config, log *zap.Logger) {
	limit, from := MemoryLimit(cfg.MemoryLimit, os.Getenv("GOMEMLIMIT"), os.Getenv("GOGC"), cgroupMemory)
	switch {
	case from == fromLiveHeap:
		f := newHeapFollower(log)
		lc.Append(fx.StartStopHook(func() { f.start(followInterval) }, f.close))
	case limit > 0:
		debug.SetMemoryLimit(limit)
		fallthrough
	case from != "":
		log.Info("memory limit", zap.String("from", from), zap.Int64("bytes", debug.SetMemoryLimit(-1)))
	}
}

// cgroupMemory reads the container's memory limit: cgroup v2's memory.max,
// else cgroup v1's memory.limit_in_bytes; none when neither is readable or
// the value says unlimited.
func cgroupMemory() (int64, bool) {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		return parseCgroupMemory(string(b))
	}
	return 0, false
}

// parseCgroupMemory reads a cgroup memory limit file: "max" or a number of
// bytes (cgroup v1 writes a number near 2^63 for unlimited).
func parseCgroupMemory(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0, false
	}
	return n, true
}
