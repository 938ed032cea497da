package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
)

// asVidlib makes this test binary run as vidlib (the bench's API process).
const asVidlib = "VIDLIB_TEST_RUN_AS_VIDLIB"

func TestMain(m *testing.M) {
	if os.Getenv(asVidlib) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	benchSelf = func(ctx context.Context, args ...string) (*exec.Cmd, error) {
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(os.Environ(), asVidlib+"=1")
		return cmd, nil
	}
	testenv.Main(m)
}

func vidlib(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	code, out, _ := vidlib(t, "--help")
	require.Equal(t, 0, code)
	for _, c := range commands() {
		require.Contains(t, out, c.name)
	}
	code, _, errOut := vidlib(t, "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown command "frobnicate"`)
	code, out, _ = vidlib(t, "version")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "vidlib "))
}

func TestMigrate(t *testing.T) {
	code, _, errOut := vidlib(t, "migrate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--postgres-url")

	code, _, errOut = vidlib(t, "migrate", "--postgres-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=1")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "127.0.0.1")

	dsn := testenv.PostgresURL(t)
	code, out, errOut := vidlib(t, "migrate", "--postgres-url", dsn)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "applied migrations [1")
	t.Setenv("VIDLIB_POSTGRES_URL", dsn)
	code, out, errOut = vidlib(t, "migrate")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "up to date")
}

// TestDemoCommand runs `vidlib demo` as a person would (the README's first
// command), small and with --exit-when-ready: the settings reach the demo,
// which mirrors the account, checks and prints what each user sees, and
// exits 0. servers/demo's TestDemo checks what it shows in detail.
func TestDemoCommand(t *testing.T) {
	t.Setenv("VIDLIB_VIMEO_TOKEN", "")
	t.Setenv("VIDLIB_VIMEO_ROOT_FOLDER_ID", "")
	code, out, errOut := vidlib(t, "demo", "--exit-when-ready", "--demo-folders", "12", "--demo-videos", "80", "--demo-seed", "3",
		"--api-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "mirrored         12 folders, 80 videos")
	require.Equal(t, 4, strings.Count(out, "/library/home\n"), "a curl line per user")
	require.Contains(t, out, "/admin/overview")
	require.NotContains(t, out, "vidlib is running", "--exit-when-ready exits")

	code, _, errOut = vidlib(t, "demo", "--demo-folders", "1")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "demo-folders")

	t.Setenv("VIDLIB_VIMEO_TOKEN", "a-token")
	code, _, errOut = vidlib(t, "demo")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "needs both VIDLIB_VIMEO_TOKEN and --vimeo-root-folder-id")
}
