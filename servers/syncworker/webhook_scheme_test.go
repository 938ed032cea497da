package syncworker_test

import (
	"context"
	"flag"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestWebhookSchemeFromSettings: with a signature scheme other than the
// default, set through the settings, the fake's deliveries pass the intake
// and reach PostgreSQL, and a delivery signed the default way is refused.
func TestWebhookSchemeFromSettings(t *testing.T) {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	l := config.Register(fs, config.SectionWebhook)
	require.NoError(t, fs.Parse([]string{
		"--vimeo-webhook-signature-header=X-Vimeo-Signature",
		"--vimeo-webhook-signature-encoding=base64",
		"--vimeo-webhook-signature-prefix=v1=",
		"--vimeo-webhook-timestamp-header=X-Vimeo-Timestamp",
		"--vimeo-webhook-tolerance=2m",
	}))
	cfg, err := l.Load(func(k string) (string, bool) {
		if k == config.Env("vimeo-webhook-secrets") {
			return secret, true
		}
		return "", false
	})
	require.NoError(t, err)
	scheme := cfg.Vimeo.WebhookOptions()
	require.Equal(t, "X-Vimeo-Signature", scheme.Header)
	require.Equal(t, 2*time.Minute, scheme.MaxAge)

	emitter := vimeotest.WebhookOptions{Header: "X-Vimeo-Signature", Encoding: "base64", Prefix: "v1=", TimestampHeader: "X-Vimeo-Timestamp"}
	ctx := context.Background()
	w := startWorldSigned(t, busCases[0].open(t), 10, scheme, emitter)
	inside, _ := w.videos(t)
	id := strconv.FormatInt(inside[0], 10)
	w.clock.Advance(time.Second)
	require.NoError(t, w.acct.RenameVideo(inside[0], "Signed another way"))
	w.flush(t)
	eventually(t, "the new title in PostgreSQL", func() bool {
		title, _ := w.mirroredTitle(ctx, id)
		return title == "Signed another way"
	})

	// The default scheme no longer passes.
	plain := startWorldSigned(t, busCases[0].open(t), 10, scheme, vimeotest.WebhookOptions{})
	plain.clock.Advance(time.Second)
	require.NoError(t, plain.acct.RenameVideo(inside[0], "Unsigned"))
	require.Positive(t, plain.fake.PendingWebhooks(), "a delivery is queued")
	n, err := plain.fake.FlushWebhooks(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a delivery signed the default way is refused")
}
