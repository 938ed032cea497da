//go:build unix

package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchServerEnv makes the test binary a trivial HTTP server (see TestMain):
// the benchmarks run it in a child process, so that the CPU time and
// allocations they measure are the client's alone.
const benchServerEnv = "LOADGEN_BENCH_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) == "1" {
		benchServer()
		return
	}
	os.Exit(m.Run())
}

// benchServer answers every request with 200 and a 200-byte body (with a
// Content-Length), prints its address, and exits when stdin closes.
func benchServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	body := []byte(`{"id":"42","title":"` + strings.Repeat("x", 169) + `"}`)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
}

// startBenchServer runs benchServer in a child process and returns its URL.
func startBenchServer(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// cpuTime is this process's user plus system time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRequest is a request like the workload's: a path with an id and a
// bearer token of a realistic length.
var benchRequest = Request{Endpoint: "video", Path: "/videos/1234567", Token: strings.Repeat("t", 600)}

// BenchmarkRoundTrip sends requests one after the other on one keep-alive
// connection: the client's own cost per request, without the scheduler.
// cpu-ns/op is this process's CPU time (user + system, from getrusage) per
// request; ns/op is wall time and includes the server's turn.
//
//	go test -run '^$' -bench RoundTrip -benchtime 20000x ./internal/loadgen/
func BenchmarkRoundTrip(b *testing.B) {
	target := startBenchServer(b)
	b.Run("lean", func(b *testing.B) {
		p := newPool(context.Background(), target, time.Minute, nil)
		c := p.newConn()
		defer c.drop()
		benchSends(b, func() outcome { return c.do(&benchRequest, time.Now().Add(time.Minute)) })
	})
	b.Run("net-http", func(b *testing.B) {
		client := defaultClient(DefaultMaxInFlight)
		defer client.CloseIdleConnections()
		benchSends(b, func() outcome { return send(context.Background(), client, target, benchRequest, time.Minute) })
	})
}

func benchSends(b *testing.B, do func() outcome) {
	if out := do(); out.status != "200" { // dial outside the measurement
		b.Fatalf("warm-up request: %+v", out)
	}
	b.ReportAllocs()
	cpu := cpuTime(b)
	b.ResetTimer()
	for range b.N {
		if out := do(); out.status != "200" {
			b.Fatalf("request: %+v", out)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRun is the whole generator as `vidlib bench` uses it: Run at
// 5,000 requests/s (the target) for b.N requests against the child
// server. Per request sent it reports this process's CPU time (cpu-ns/op;
// b.N is the number of requests), its allocations with fractions
// (allocs/req, B/req: the whole process, run bookkeeping included) and the
// run's p99 latency from intended send time (p99-µs: this machine's noise,
// not a property of the client). Wall ns/op is the schedule's 200 µs by
// construction.
//
//	go test -run '^$' -bench 'Run/' -benchtime 25000x -count 3 ./internal/loadgen/
func BenchmarkRun(b *testing.B) {
	target := startBenchServer(b)
	const rate = 5000
	for _, name := range []string{"lean", "net-http"} {
		b.Run(name, func(b *testing.B) {
			var client *http.Client
			if name == "net-http" {
				client = defaultClient(DefaultMaxInFlight)
				defer client.CloseIdleConnections()
			}
			next := func(uint64) Request { return benchRequest }
			opts := &Options{Rate: rate, Duration: time.Duration(b.N) * time.Second / rate, Client: client}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cpu := cpuTime(b)
			b.ResetTimer()
			res, err := Run(context.Background(), target, next, opts)
			b.StopTimer()
			cpu = cpuTime(b) - cpu
			runtime.ReadMemStats(&after)
			if err != nil {
				b.Fatal(err)
			}
			if res.Total.Errors > 0 || res.Total.Count == 0 {
				b.Fatalf("%d of %d requests failed: %v", res.Total.Errors, res.Total.Count, res.Total.Statuses)
			}
			n := float64(res.Total.Count)
			b.ReportMetric(float64(cpu)/n, "cpu-ns/op")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/req")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/req")
			b.ReportMetric(float64(res.Total.Latency.P99)/1e3, "p99-µs")
		})
	}
}
