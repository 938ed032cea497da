package config

import (
	"fmt"
	"strconv"
	"strings"
)

// memoryUnits are GOMEMLIMIT's suffixes.
var memoryUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// ParseMemoryLimit reads a memory-limit value: "auto" (MemoryLimitAuto),
// "off" (MemoryLimitOff), or a size as GOMEMLIMIT writes it: a positive
// number of bytes with an optional B, KiB, MiB, GiB or TiB suffix.
func ParseMemoryLimit(v string) (int64, error) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "auto", "":
		return MemoryLimitAuto, nil
	case "off":
		return MemoryLimitOff, nil
	}
	num, shift := v, uint(0)
	for _, u := range memoryUnits {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not auto, off or a size (write e.g. 1800MiB or 2GiB)", v)
	}
	return n << shift, nil
}

// FormatMemoryLimit writes a memory-limit value as ParseMemoryLimit reads
// it, in the largest unit that divides it.
func FormatMemoryLimit(n int64) string {
	switch {
	case n == MemoryLimitAuto:
		return "auto"
	case n < 0:
		return "off"
	}
	for _, u := range memoryUnits {
		if n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
