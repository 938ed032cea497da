package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
)

// Environment variables that point tests at existing servers.
const (
	EnvPostgresURL  = "VIDLIB_TEST_POSTGRES_URL"
	EnvRedisURL     = "VIDLIB_TEST_REDIS_URL"
	EnvKafkaBrokers = "VIDLIB_TEST_KAFKA_BROKERS"
)

var (
	stopMu   sync.Mutex
	stoppers []func()
)

// onStop registers f to run when Main stops the servers of this binary.
func onStop(f func()) {
	stopMu.Lock()
	defer stopMu.Unlock()
	stoppers = append(stoppers, f)
}

// stopAll runs every registered stop function, newest first.
func stopAll() {
	stopMu.Lock()
	fs := stoppers
	stoppers = nil
	stopMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// Main may be called from a package's TestMain: it runs the tests, stops every server
// this test binary started, and exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	stopAll()
	os.Exit(code)
}

// inCI reports whether CI=true: then a missing server is a failure, not a skip.
func inCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// unavailable skips the test, or fails it under CI=true. Callers must return right after
// it (a real testing.TB does not return from Skipf/Fatalf, a fake may).
func unavailable(t testing.TB, msg string) {
	t.Helper()
	if inCI() {
		t.Fatalf("testenv: %s (CI=true, so this is a failure, not a skip)", msg)
		return
	}
	t.Skipf("testenv: %s", msg)
}

// randHex returns 2n random hex characters.
func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("testenv: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
