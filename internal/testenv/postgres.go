package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is the outcome of resolving one kind of server, once per test binary.
type server struct {
	url     string // admin DSN / URL
	source  string // "env", "local", "container"
	missing string // non-empty: no server; the message says how to get one
	err     error  // a server was expected but is broken
}

var (
	pgOnce sync.Once
	pgSrv  server
)

const pgMissing = "no PostgreSQL for tests: install it (`apt-get install postgresql`; testenv starts a " +
	"throw-away server from /usr/lib/postgresql/*/bin), or set " + EnvPostgresURL +
	"=postgres://user@host:5432/db?sslmode=disable, or start a Docker daemon"

// PostgresURL returns a DSN for a fresh, empty schema reserved for this test: the DSN
// sets search_path to it (a runtime parameter pgx passes to the server), and the schema
// is dropped with CASCADE at cleanup. The server comes from VIDLIB_TEST_POSTGRES_URL, else
// a throw-away server started once per test binary from the local binaries, else
// testcontainers when Docker answers, else the test is skipped (failed under CI=true).
func PostgresURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgSrv = resolvePostgres() })
	switch {
	case pgSrv.missing != "":
		unavailable(t, pgSrv.missing)
		return ""
	case pgSrv.err != nil:
		t.Fatalf("testenv: PostgreSQL: %v", pgSrv.err)
		return ""
	}

	schema := schemaName(t.Name())
	dsn, err := withSearchPath(pgSrv.url, schema)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL DSN: %v", err)
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pgExec(ctx, pgSrv.url, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("testenv: create schema %s (%s server): %v", schema, pgSrv.source, err)
		return ""
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// lock_timeout: a test that leaked an open transaction must not hang the run.
		err := pgExec(ctx, pgSrv.url,
			"SET lock_timeout = '10s'",
			"DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("testenv: drop schema %s: %v (did the test leave a transaction open?)", schema, err)
		}
	})
	return dsn
}

// pgExec runs statements on a new connection to dsn.
func pgExec(ctx context.Context, dsn string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// schemaName returns a schema name unique to this call that still shows which test it
// belongs to: t_<test name, sanitised, ≤40 chars>_<8 hex>. At most 51 bytes (limit 63).
func schemaName(testName string) string {
	s := nonIdent.ReplaceAllString(strings.ToLower(testName), "_")
	s = strings.Trim(s, "_")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "_")
	}
	if s == "" {
		return "t_" + randHex(4)
	}
	return "t_" + s + "_" + randHex(4)
}

// withSearchPath returns dsn with search_path set to schema. It understands the URL form
// (postgres:// or postgresql://) and the key=value form.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	if strings.TrimSpace(dsn) == "" {
		return "", errors.New("empty DSN")
	}
	// key=value form: a later key wins in pgx's parser.
	return dsn + " search_path=" + schema, nil
}

func resolvePostgres() server {
	if dsn := os.Getenv(EnvPostgresURL); dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := pgExec(ctx, dsn, "SELECT 1"); err != nil {
			return server{source: "env", err: fmt.Errorf("%s is set but the server does not answer: %w", EnvPostgresURL, err)}
		}
		return server{url: dsn, source: "env"}
	}
	if bin, ok := findPostgresBin(); ok {
		dsn, err := startLocalPostgres(bin)
		if err != nil {
			return server{source: "local", err: fmt.Errorf("start throw-away PostgreSQL from %s: %w", bin, err)}
		}
		return server{url: dsn, source: "local"}
	}
	if dockerAvailable() {
		dsn, err := startPostgresContainer()
		if err != nil {
			return server{source: "container", err: err}
		}
		return server{url: dsn, source: "container"}
	}
	return server{missing: pgMissing}
}

// findPostgresBin returns the bin directory of the newest /usr/lib/postgresql/<v>/bin that
// has initdb and postgres, else the directory of initdb on PATH.
func findPostgresBin() (string, bool) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type cand struct {
		dir string
		v   float64
	}
	var cs []cand
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err != nil {
			continue
		}
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		cs = append(cs, cand{dir, v})
	}
	if len(cs) > 0 {
		sort.Slice(cs, func(i, j int) bool { return cs[i].v > cs[j].v })
		return cs[0].dir, true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, true
		}
	}
	return "", false
}

// startLocalPostgres runs initdb and postgres from bin on a free port and returns an admin
// DSN. As root both run as the postgres OS user.
func startLocalPostgres(bin string) (string, error) {
	uid, gid := os.Geteuid(), os.Getegid()
	var cred *syscall.Credential
	if uid == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root needs the postgres OS user (the postgresql package creates it): %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	base, err := tempBaseFor(uid)
	if err != nil {
		return "", err
	}
	dir, err := makeServerDir(base, "vidlib-testenv-pg-")
	if err != nil {
		return "", err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o755); err != nil {
		cleanup()
		return "", err
	}
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			cleanup()
			return "", err
		}
	}
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		cleanup()
		return "", err
	}
	defer logf.Close() // the child keeps its own descriptor

	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.Dir = dir
	initdb.Stdout, initdb.Stderr = logf, logf
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if err := initdb.Run(); err != nil {
		// keep the dir: the log is the evidence; the sweep removes it later.
		return "", fmt.Errorf("initdb: %w (log %s: %s)", err, logPath, tailFile(logPath, 800))
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1",
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=200", "-c", "shared_buffers=64MB",
			"-c", "log_min_messages=warning")
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		p, err := startProc(cmd)
		if err != nil {
			return "", fmt.Errorf("start postgres: %w (log %s)", err, logPath)
		}
		dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
		if err := waitPostgres(dsn, p, 60*time.Second); err != nil {
			lastErr = err
			if p.exited() {
				continue // most likely the port was taken meanwhile: try another one
			}
			p.stop(syscall.SIGQUIT, 5*time.Second)
			return "", fmt.Errorf("postgres did not become ready: %w (log %s: %s)", err, logPath, tailFile(logPath, 800))
		}
		onStop(func() {
			p.stop(syscall.SIGQUIT, 5*time.Second) // immediate shutdown: the data is throw-away
			cleanup()
		})
		return dsn, nil
	}
	return "", fmt.Errorf("postgres exited during start-up 3 times, last: %w (log %s: %s)", lastErr, logPath, tailFile(logPath, 800))
}

// waitPostgres polls dsn until a query succeeds, the process exits or the timeout passes.
func waitPostgres(dsn string, p *proc, timeout time.Duration) error {
	return p.waitUp("postgres", "connect error", 20*time.Millisecond, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return pgExec(ctx, dsn, "SELECT 1")
	})
}
