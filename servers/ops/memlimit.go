package ops

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"

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
// "cgroup" (containerShare of what containerMemory reports), or "" for
// none. gomemlimit is the GOMEMLIMIT variable.
func MemoryLimit(setting int64, gomemlimit string, containerMemory func() (int64, bool)) (int64, string) {
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
	return 0, ""
}

// ApplyMemoryLimit sets the process's soft memory limit for the
// configuration (see MemoryLimit) and logs what it applies.
func ApplyMemoryLimit(cfg *config.Config, log *zap.Logger) {
	limit, from := MemoryLimit(cfg.MemoryLimit, os.Getenv("GOMEMLIMIT"), cgroupMemory)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if from != "" {
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
