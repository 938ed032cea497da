package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestWithSearchPath(t *testing.T) {
	tests := []struct {
		name, dsn, want, wantErr string
	}{
		{"url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/postgres?search_path=t_x&sslmode=disable", ""},
		{"url replaces an existing search_path", "postgresql://u@h/db?search_path=public",
			"postgresql://u@h/db?search_path=t_x", ""},
		{"keyword form", "host=127.0.0.1 port=5432 user=postgres",
			"host=127.0.0.1 port=5432 user=postgres search_path=t_x", ""},
		{"bad url", "postgres://u@h:port/db", "", "invalid port"},
		{"empty", " ", "", "empty DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withSearchPath(tt.dsn, "t_x")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			// pgx must turn it into the runtime parameter the server applies.
			cfg, err := pgx.ParseConfig(got)
			require.NoError(t, err)
			require.Equal(t, "t_x", cfg.RuntimeParams["search_path"])
		})
	}
}

func TestSchemaName(t *testing.T) {
	tests := []struct{ test, wantPrefix string }{
		{"TestFoo", "t_testfoo_"},
		{"TestFoo/sub_case#01", "t_testfoo_sub_case_01_"},
		{"Test" + strings.Repeat("Ab", 40), "t_test" + strings.Repeat("ab", 18) + "_"},
		{"/#/", "t_"},
	}
	for _, tt := range tests {
		got := schemaName(tt.test)
		require.True(t, strings.HasPrefix(got, tt.wantPrefix), "%q → %q", tt.test, got)
		require.Regexp(t, `^t_([a-z0-9_]*_)?[0-9a-f]{8}$`, got)
		require.LessOrEqual(t, len(got), 63)
		require.NotEqual(t, got, schemaName(tt.test), "names must be unique per call")
	}
}

type recTB struct {
	testing.TB
	skipped, failed string
}

func (r *recTB) Helper()                           {}
func (r *recTB) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestUnavailableSkipsLocallyAndFailsInCI(t *testing.T) {
	for _, tt := range []struct {
		ci       string
		wantFail bool
	}{{"", false}, {"false", false}, {"true", true}, {"1", true}} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			rec := &recTB{TB: t}
			unavailable(rec, pgMissing)
			if tt.wantFail {
				require.Empty(t, rec.skipped)
				require.Contains(t, rec.failed, "apt-get install postgresql")
				require.Contains(t, rec.failed, "CI=true")
			} else {
				require.Empty(t, rec.failed)
				require.Contains(t, rec.skipped, "apt-get install postgresql")
				require.Contains(t, rec.skipped, EnvPostgresURL)
			}
		})
	}
}

func TestTraversable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create dirs another uid cannot enter") // not a server: a plain skip
	}
	base := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(base), 0o755)) // t.TempDir's parent is 0700
	require.NoError(t, os.Chmod(base, 0o755))
	open := filepath.Join(base, "open")
	closed := filepath.Join(base, "closed")
	require.NoError(t, os.MkdirAll(filepath.Join(open, "x"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(closed, "x"), 0o755))
	require.NoError(t, os.Chmod(closed, 0o700))

	const other = 4242
	require.NoError(t, traversable(filepath.Join(open, "x"), other))
	require.ErrorContains(t, traversable(filepath.Join(closed, "x"), other), "not traversable by uid 4242")
	require.NoError(t, traversable(filepath.Join(closed, "x"), 0)) // the owner may enter
	require.NoError(t, os.Chown(closed, other, other))
	require.NoError(t, traversable(filepath.Join(closed, "x"), other))
}

func TestSweepStaleDirsRemovesOnlyDirsOfDeadOwners(t *testing.T) {
	base := t.TempDir()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	deadPID := dead.ProcessState.Pid()

	mk := func(name, owner string) string {
		d := filepath.Join(base, name)
		require.NoError(t, os.Mkdir(d, 0o755))
		if owner != "" {
			require.NoError(t, os.WriteFile(filepath.Join(d, ownerFile), []byte(owner), 0o644))
		}
		return d
	}
	stale := mk("kind-a", strconv.Itoa(deadPID))
	garbage := mk("kind-b", "not a pid")
	live := mk("kind-c", strconv.Itoa(os.Getpid()))
	fresh := mk("kind-d", "") // being created right now
	other := mk("other-a", strconv.Itoa(deadPID))

	dir, err := makeServerDir(base, "kind-")
	require.NoError(t, err)

	for _, d := range []string{stale, garbage} {
		require.NoDirExists(t, d)
	}
	for _, d := range []string{live, fresh, other, dir} {
		require.DirExists(t, d)
	}
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(os.Getpid()), string(b))
}

// fakeBin makes a directory with executable initdb and postgres scripts.
func fakeBin(t *testing.T, initdb, postgres string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "vidlib-testenv-fakebin-") // traversable by the postgres user
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	for name, body := range map[string]string{"initdb": initdb, "postgres": postgres} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	}
	return dir
}

func TestStartLocalPostgresNamesTheLogOnFailure(t *testing.T) {
	t.Run("initdb fails", func(t *testing.T) {
		bin := fakeBin(t, "echo initdb-went-wrong >&2; exit 3", "exit 0")
		_, err := startLocalPostgres(bin)
		require.ErrorContains(t, err, "initdb")
		require.ErrorContains(t, err, "initdb-went-wrong")
		removeLogDir(t, err)
	})
	t.Run("postgres exits", func(t *testing.T) {
		bin := fakeBin(t, "exit 0", "echo postgres-went-wrong >&2; exit 1")
		_, err := startLocalPostgres(bin)
		require.ErrorContains(t, err, "exited during start-up 3 times")
		require.ErrorContains(t, err, "postgres-went-wrong")
		removeLogDir(t, err)
	})
}

// removeLogDir checks that err names the server log and removes its directory (kept on
// failure as evidence).
func removeLogDir(t *testing.T, err error) {
	t.Helper()
	m := regexp.MustCompile(`log (/\S*/vidlib-testenv-pg-[0-9]+)/server\.log`).FindStringSubmatch(err.Error())
	require.Len(t, m, 2, "error must name the log file: %v", err)
	require.FileExists(t, m[1]+"/server.log")
	require.NoError(t, os.RemoveAll(m[1]))
}
