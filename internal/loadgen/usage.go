package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Usage is what a process used over a window.
type Usage struct {
	PID int `json:"pid"`
	// CPU is user plus system time spent in the window.
	CPU time.Duration `json:"-"`
	// PeakRSS is the largest resident set size sampled in the window (every
	// 100 ms), in bytes.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// HighWater is the kernel's peak RSS of the process's whole life (VmHWM).
	HighWater int64 `json:"rss_high_water_bytes"`
	// Window is the wall time measured.
	Window time.Duration `json:"-"`
}

// Cores is the average number of cores used in the window.
func (u Usage) Cores() float64 {
	if u.Window <= 0 {
		return 0
	}
	return u.CPU.Seconds() / u.Window.Seconds()
}

// MarshalJSON adds the durations in seconds.
func (u Usage) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"pid":%d,"cpu_seconds":%.3f,"window_seconds":%.3f,"cores":%.3f,"peak_rss_bytes":%d,"rss_high_water_bytes":%d}`,
		u.PID, u.CPU.Seconds(), u.Window.Seconds(), u.Cores(), u.PeakRSS, u.HighWater), nil
}

// ProcSample is one reading of /proc/<pid>.
type ProcSample struct {
	CPU       time.Duration // user + system time since the process started
	RSS       int64         // VmRSS, bytes
	HighWater int64         // VmHWM, bytes
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// ReadProc reads a process's CPU time and memory from /proc (Linux only).
func ReadProc(pid int) (ProcSample, error) {
	var s ProcSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("loadgen: read process %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces and parentheses: fields
	// resume after the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("loadgen: process %d: malformed stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("loadgen: process %d: malformed stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("loadgen: process %d: malformed stat times", pid)
	}
	s.CPU = time.Duration(utime+stime) * time.Second / clockTicks

	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("loadgen: read process %d: %w", pid, err)
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return s, fmt.Errorf("loadgen: process %d: malformed %s", pid, k)
		}
		if k == "VmRSS" {
			s.RSS = kb << 10
		} else {
			s.HighWater = kb << 10
		}
	}
	return s, sc.Err()
}

// usageMeter samples a process from start to stop. Read failures (the
// process ended, no /proc) leave zeros rather than failing the run.
type usageMeter struct {
	pid   int
	begin time.Time
	first ProcSample
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	peak  int64
}

func startUsage(pid int) *usageMeter {
	m := &usageMeter{pid: pid, begin: time.Now(), done: make(chan struct{})}
	m.first, _ = ReadProc(pid)
	m.peak = m.first.RSS
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-t.C:
				if s, err := ReadProc(pid); err == nil {
					m.mu.Lock()
					m.peak = max(m.peak, s.RSS)
					m.mu.Unlock()
				}
			}
		}
	}()
	return m
}

func (m *usageMeter) stop() Usage {
	close(m.done)
	m.wg.Wait()
	last, _ := ReadProc(m.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	u := Usage{PID: m.pid, PeakRSS: max(m.peak, last.RSS), HighWater: last.HighWater, Window: time.Since(m.begin)}
	if last.CPU >= m.first.CPU {
		u.CPU = last.CPU - m.first.CPU
	}
	return u
}
