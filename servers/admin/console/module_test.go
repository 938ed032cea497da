package console_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/servers/admin/console"
	"github.com/vidlib/vidlib/servers/config"
)

func TestFromConfig(t *testing.T) {
	pool := auth.CognitoIssuer("eu-west-1", "eu-west-1_AbC123", "app1", "console")
	google := auth.GoogleIssuer("g1")
	cfg := config.Default()
	cfg.Console.RedirectURL = "https://admin.example.com/auth/callback"
	cfg.Console.ClientSecret = config.NewSecret("s3cret")

	core, logs := observer.New(zap.WarnLevel)
	o, err := console.FromConfig(cfg, []auth.Issuer{google, pool}, zap.New(core))
	require.NoError(t, err)
	require.Equal(t, pool.URL, o.Issuer, "the user pool, not Google")
	require.Equal(t, "app1", o.ClientID, "the pool's first app client by default")
	require.Equal(t, "s3cret", o.ClientSecret)
	require.Equal(t, cfg.Console.RedirectURL, o.RedirectURL)
	require.Len(t, o.SessionKey, 32)
	require.Equal(t, 1, logs.FilterMessageSnippet("random key").Len(), "a random session key is announced")

	cfg.Console.ClientID = "console"
	cfg.Console.SessionKey = config.NewSecret(strings.Repeat("01", 32))
	core, logs = observer.New(zap.WarnLevel)
	o, err = console.FromConfig(cfg, []auth.Issuer{pool}, zap.New(core))
	require.NoError(t, err)
	require.Equal(t, "console", o.ClientID)
	require.Equal(t, bytes.Repeat([]byte{1}, 32), o.SessionKey)
	require.Zero(t, logs.Len())

	cfg.Console.ClientID = "nope"
	_, err = console.FromConfig(cfg, []auth.Issuer{pool}, nil)
	require.ErrorIs(t, err, console.ErrInvalid)
	cfg.Console.ClientID = ""

	o, err = console.FromConfig(cfg, []auth.Issuer{google}, nil)
	require.NoError(t, err)
	require.Nil(t, o, "off without a user pool")
	cfg.Console.Enabled = false
	o, err = console.FromConfig(cfg, []auth.Issuer{pool}, nil)
	require.NoError(t, err)
	require.Nil(t, o, "off when turned off")
}
