// Package testenv is the one place that decides where tests get PostgreSQL, Redis and a
// Kafka-protocol broker from. Tests never start servers themselves; they ask testenv.
//
// # Where servers come from
//
// PostgresURL and Redis resolve a server once per test binary (sync.Once), in this order:
//
//  1. An environment variable: VIDLIB_TEST_POSTGRES_URL (a pgx DSN, URL or key=value form)
//     or VIDLIB_TEST_REDIS_URL (a redis:// URL). The server must answer; if it does not,
//     every test that asks for it fails, because an explicit setting that is wrong is a
//     defect, not a missing server.
//  2. A throw-away server started from the local binaries on a free 127.0.0.1 port:
//     PostgreSQL from /usr/lib/postgresql/*/bin (newest version; else initdb/postgres on
//     PATH), Redis from redis-server on PATH. PostgreSQL is initialised with initdb and run
//     with fsync=off; when the test binary runs as root, both initdb and postgres run as the
//     `postgres` OS user, and the data directory lives in a temp dir whose parents that
//     user can traverse. Each server process is started directly (no pg_ctl, no
//     --daemonize) with a parent-death signal (SIGKILL), so it never outlives the test
//     binary even when the binary is killed. Start-up costs about 1 s for PostgreSQL and
//     a few ms for Redis. If a start fails, the error names the server's log file.
//  3. testcontainers-go (postgres:16-alpine, redis:7-alpine) when a Docker daemon answers.
//  4. Otherwise the test is skipped with a message saying how to get the server
//     (`apt-get install postgresql redis-server`, or the environment variable). Under
//     CI=true (any value strconv.ParseBool accepts as true) a missing server is a test
//     failure instead, so CI can never pass by skipping.
//
// Kafka works differently: every call to Kafka creates an in-process kfake cluster
// (github.com/twmb/franz-go/pkg/kfake) for that test alone, 1 broker on a random
// 127.0.0.1 port, closed at the test's cleanup. It costs a few milliseconds, so there is
// no sharing. With VIDLIB_TEST_KAFKA_BROKERS (comma-separated host:port) set, those
// brokers are used instead and KafkaCluster.Restart is not possible (skip, or failure
// under CI=true); topics created on external brokers are not deleted.
//
// # Isolation
//
// Servers are shared by all tests of a package binary, so each test gets its own
// namespace: PostgresURL creates a fresh schema and returns a DSN whose search_path is
// that schema (dropped with CASCADE at cleanup); Redis returns a key prefix unique to the
// test (every key with it is deleted at cleanup, with SCAN, never KEYS); Kafka returns a
// topic prefix unique to the test. Tests must put all their keys, channels and topics
// under these prefixes. Everything here is safe for parallel tests.
//
// # Lifetime
//
// A package that uses testenv should call Main from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Main runs the tests, then stops every server this binary started and removes their
// directories. Without Main the servers still die with the binary (parent-death signal)
// and their temp directories are removed by the next test binary that starts a server
// (each directory records the PID of its owner).
//
// testenv imports no other vidlib package and must never be imported by production code
// (depguard enforces it).
package testenv
