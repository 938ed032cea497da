package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAdminNeedsTheConsoleRedirectURL: with a user pool the console is on,
// and without its redirect URL `vidlib admin` refuses to start and names the
// setting.
func TestAdminNeedsTheConsoleRedirectURL(t *testing.T) {
	for k, v := range map[string]string{
		"VIDLIB_POSTGRES_URL":         "postgres://vidlib@127.0.0.1:5432/vidlib",
		"VIDLIB_REDIS_URL":            "redis://127.0.0.1:6379/0",
		"VIDLIB_KAFKA_BROKERS":        "127.0.0.1:9092",
		"VIDLIB_COGNITO_REGION":       "eu-west-1",
		"VIDLIB_COGNITO_USER_POOL_ID": "eu-west-1_AbC123",
		"VIDLIB_COGNITO_CLIENT_IDS":   "client",
		"VIDLIB_CONSOLE_SESSION_KEY":  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	} {
		t.Setenv(k, v)
	}
	t.Setenv("VIDLIB_CONSOLE_REDIRECT_URL", "")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"admin"}, &out, &errb)
	require.Equal(t, 2, code, errb.String())
	require.Contains(t, errb.String(), "--console-redirect-url (VIDLIB_CONSOLE_REDIRECT_URL): must be set while the console is on")
}

// TestBadConfigurationNamesTheSetting runs a server subcommand with a broken
// configuration: it refuses to start, exits 2 and names every bad setting.
func TestBadConfigurationNamesTheSetting(t *testing.T) {
	t.Setenv("VIDLIB_POSTGRES_URL", "")
	t.Setenv("VIDLIB_REDIS_URL", "")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"api", "--api-addr", "nonsense"}, &out, &errb)
	require.Equal(t, 2, code, errb.String())
	for _, want := range []string{"postgres-url", "VIDLIB_POSTGRES_URL", "redis-url", "api-addr", "cognito-user-pool-id"} {
		require.Contains(t, errb.String(), want)
	}
	require.NotContains(t, errb.String(), "panic")
}
