package loadgen

import (
	"runtime"
	"syscall"
	"time"
)

// preciseSleeper returns a sleep for the pacing goroutine. The Go timer wakes
// a sleeper about half a millisecond late on an idle machine, which would be
// charged to every request's latency; nanosleep(2) on a thread of its own with
// a timer slack of 1 ns wakes within tens of microseconds. The goroutine stays
// locked to that thread, so the thread ends with it and the changed slack
// never leaks to other goroutines.
func preciseSleeper() func(time.Duration) {
	runtime.LockOSThread()
	const prSetTimerSlack = 29
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0, 0, 0, 0); errno != 0 {
		return time.Sleep
	}
	return func(d time.Duration) {
		if d > 50*time.Millisecond { // long waits: let the runtime park us
			time.Sleep(d)
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		_ = syscall.Nanosleep(&ts, nil) // EINTR: wake early, the caller re-checks
	}
}
