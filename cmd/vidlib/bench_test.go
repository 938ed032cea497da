package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
)

// benchResult is the part of `vidlib bench --json` the tests read.
type benchResult struct {
	Rate      float64 `json:"target_rate"`
	Endpoints []struct {
		Endpoint string           `json:"endpoint"`
		Count    int64            `json:"count"`
		Errors   int64            `json:"errors"`
		Statuses map[string]int64 `json:"statuses"`
		Latency  map[string]float64
	} `json:"endpoints"`
	Total struct {
		Count    int64            `json:"count"`
		Errors   int64            `json:"errors"`
		Statuses map[string]int64 `json:"statuses"`
		Latency  map[string]float64
	} `json:"total"`
	Server *struct {
		PID     int   `json:"pid"`
		PeakRSS int64 `json:"peak_rss_bytes"`
	} `json:"server"`
}

// runBench runs `vidlib bench` as run would (exit 2 for usage errors), without
// depending on its place in commands().
func runBench(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := benchCommand().run(context.Background(), args, &out, &errOut)
	code = exitCode(err)
	if err != nil {
		fmt.Fprintf(&errOut, "vidlib bench: %v\n", err)
	}
	return code, out.String(), errOut.String()
}

var tinyBench = []string{"--folders", "40", "--videos", "200", "--depth", "5", "--rules", "30",
	"--users", "60", "--audiences", "12", "--warmup", "1s", "--duration", "2s", "--rate", "50", "--json"}

// A tiny in-process run: every request of the mix is answered as the
// entitlement rules say (hits 200, misses 404), with nothing unexpected.
func TestBenchInProcess(t *testing.T) {
	code, out, errOut := runBench(t, append([]string{"--server", "in-process"}, tinyBench...)...)
	require.Equal(t, 0, code, errOut)
	var res benchResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, 50.0, res.Rate)
	require.EqualValues(t, 100, res.Total.Count, "50/s for 2 s")
	require.Zero(t, res.Total.Errors, "statuses: %v", res.Total.Statuses)
	require.Positive(t, res.Total.Statuses["200"])
	names := map[string]bool{}
	for _, e := range res.Endpoints {
		names[e.Endpoint] = true
		require.Contains(t, e.Latency, "p99_ms")
	}
	require.True(t, names["home"] && names["folder"] && names["video"], "the mix reached the endpoints: %v", names)
	require.NotNil(t, res.Server)
	require.Equal(t, os.Getpid(), res.Server.PID)
	require.Positive(t, res.Server.PeakRSS)
	require.Contains(t, errOut, "API serving in-process")
}

// The default: the API in a child process (`vidlib bench --serve`), whose
// CPU and memory are reported alone, and which writes the profiles asked
// for (the CPU profile from when the load starts).
func TestBenchServerProcess(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	code, out, errOut := runBench(t, append([]string{"--cpuprofile", cpu, "--memprofile", mem}, tinyBench...)...)
	require.Equal(t, 0, code, errOut)
	var res benchResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.EqualValues(t, 100, res.Total.Count)
	require.Zero(t, res.Total.Errors, "statuses: %v", res.Total.Statuses)
	require.Positive(t, res.Total.Statuses["200"])
	require.Positive(t, res.Total.Statuses["404"], "misses are answered 404 by the child too")
	require.NotNil(t, res.Server)
	require.NotEqual(t, os.Getpid(), res.Server.PID, "the server is another process")
	require.Positive(t, res.Server.PeakRSS)
	require.Contains(t, errOut, "server: loaded into memory")
	require.Contains(t, errOut, "CPU and RSS below are the server's alone")
	for _, f := range []string{cpu, mem} {
		b, err := os.ReadFile(f)
		require.NoError(t, err, "the API process wrote %s", f)
		require.True(t, bytes.HasPrefix(b, []byte{0x1f, 0x8b}), "%s is a gzipped profile", f)
	}
}

// The API process serving from PostgreSQL: it fills the empty database, the
// parent settles it (VACUUM ANALYZE, CHECKPOINT) before the load.
func TestBenchServerProcessPostgres(t *testing.T) {
	dsn := testenv.PostgresURL(t)
	if dsn == "" {
		return
	}
	code, out, errOut := runBench(t, append([]string{"--postgres-url", dsn}, tinyBench...)...)
	require.Equal(t, 0, code, errOut)
	var res benchResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Zero(t, res.Total.Errors, "statuses: %v", res.Total.Statuses)
	require.Positive(t, res.Total.Statuses["200"])
	require.Contains(t, errOut, "server: loaded into PostgreSQL")
	require.Contains(t, errOut, "compiled the generated library's index", "this process only judges visibility, from the generated data")
	require.NotContains(t, errOut, "bench: loaded into", "this process stores nothing")
	require.Contains(t, errOut, "settled the database")
}

func TestBenchTextReport(t *testing.T) {
	args := append(append([]string{}, tinyBench[:len(tinyBench)-1]...), "--duration", "1s", "--warmup", "0s", "--mix", "home=1")
	code, out, errOut := runBench(t, args...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "endpoint")
	require.Contains(t, out, "home")
	require.Contains(t, out, "total")
	require.Contains(t, out, "server pid")
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://127.0.0.1:1"},
		{"--tokens", "x"},
		{"--load-only"},
		{"--rate", "0"},
		{"--mix", "search=1"},
		{"--server", "elsewhere"},
		{"--serve"},
		{"--users", "5", "--audiences", "10"},
		{"--edits", "-1"},
		{"--edits", "1", "--url", "http://127.0.0.1:1", "--tokens", "x"},
		{"--rule-changes", "1", "--find-max"},
	} {
		code, _, errOut := runBench(t, args...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
	}
}

// --url with a tokens file that misses a user is refused before any load.
func TestBenchURLNeedsEveryToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(path, []byte("bench-user-000000 abc\n"), 0o600))
	code, _, errOut := runBench(t, "--url", "http://127.0.0.1:1", "--tokens", path, "--folders", "20", "--videos", "50",
		"--depth", "3", "--rules", "10", "--users", "3", "--audiences", "2")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "no token for bench-user-000001")
}

// changesResult is the change stream's part of `vidlib bench --json`.
type changesResult struct {
	Total struct {
		Errors   int64            `json:"errors"`
		Statuses map[string]int64 `json:"statuses"`
	} `json:"total"`
	Phases  map[string]int64 `json:"phases"`
	Changes *struct {
		Due, Applied struct {
			Edits, Moves, Deletes int
			RulesAdded            int `json:"rules_added"`
			RulesRemoved          int `json:"rules_removed"`
		}
		Failed     int    `json:"failed"`
		FirstError string `json:"first_error"`
		Probed     int    `json:"probed"`
		Seen       int    `json:"seen"`
	} `json:"changes"`
}

// A change stream during the measured window, in the API's process (a
// child, or this one): edits, moves, deletes and rule changes are applied,
// the polled edits show through the API, and no request gets an answer
// the sampled entitlements did not predict (the stream only touches what
// the workload does not sample).
func TestBenchChangeStream(t *testing.T) {
	for _, server := range []string{"process", "in-process"} {
		t.Run(server, func(t *testing.T) {
			code, out, errOut := runBench(t, "--server", server, "--folders", "40", "--videos", "1000", "--depth", "5", "--rules", "30",
				"--users", "60", "--audiences", "12", "--warmup", "1s", "--duration", "3s", "--rate", "50", "--json",
				"--edits", "4", "--moves", "2", "--deletes", "2", "--rule-changes", "2")
			require.Equal(t, 0, code, errOut)
			var res changesResult
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			require.Zero(t, res.Total.Errors, "statuses: %v", res.Total.Statuses)
			c := res.Changes
			require.NotNil(t, c, out)
			require.Zero(t, c.Failed, c.FirstError)
			require.Equal(t, 12, c.Due.Edits)
			require.Positive(t, c.Applied.Edits)
			require.Positive(t, c.Applied.Moves)
			require.Positive(t, c.Applied.Deletes)
			require.Positive(t, c.Applied.RulesAdded)
			require.Positive(t, c.Applied.RulesRemoved)
			require.Positive(t, c.Probed)
			require.Equal(t, c.Probed, c.Seen, "every polled edit shows through the API")
			require.Positive(t, res.Phases["total"])
		})
	}
}
