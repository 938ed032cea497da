package main

import (
	"bytes"
	"context"
	"fmt"
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
	selfCommand = func(ctx context.Context, args ...string) (*exec.Cmd, error) {
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

func TestDemo(t *testing.T) {
	code, out, errOut := vidlib(t, "demo", "--demo-folders", "40", "--demo-videos", "300", "--demo-seed", "3",
		"--api-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--exit-when-ready")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "mirrored         40 folders, 300 videos")
	lines := strings.Split(out, "\n")
	counts := map[string][3]int{}
	for _, l := range lines {
		for _, u := range demoUsers {
			if strings.HasPrefix(l, u.label) {
				var f, v, home int
				_, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, u.label)), "%d %d %d", &f, &v, &home)
				require.NoError(t, err, l)
				counts[u.label] = [3]int{f, v, home}
			}
		}
	}
	require.Len(t, counts, 4)
	require.Equal(t, [3]int{0, 0, 0}, counts["visitor (no role)"], "default deny, through the API too")
	require.Less(t, counts["member, free tier"][1], counts["member, gold tier"][1], "premium is denied to the free tier")
	require.Less(t, counts["member, gold tier"][1], counts["staff"][1], "the staff-only folder is denied to members")
	require.Less(t, counts["member, gold tier"][2], counts["staff"][2], "the API shows staff more top-level folders")
	require.Equal(t, 4, strings.Count(out, "/library/home\n"), "a curl line per user")
	require.Contains(t, out, "viewing history  staff", "the demo generates viewing history through the API")
	require.NotContains(t, out, "viewing history  visitor", "nothing to watch for the visitor")
	require.Contains(t, out, "/me/continue-watching")
	require.Contains(t, out, "/feed\n", "a curl line for the ranked feed")
	require.Contains(t, out, "Continue watching", "the demo prints the users' feeds with reasons")

	code, _, errOut = vidlib(t, "demo", "--demo-folders", "1")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "demo-folders")
}
