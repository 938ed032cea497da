//go:build !linux

package loadgen

import "time"

// preciseSleeper is time.Sleep where nanosleep tuning is not available.
func preciseSleeper() func(time.Duration) { return time.Sleep }
