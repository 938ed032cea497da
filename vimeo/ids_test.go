package vimeo_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
)

// TestIDsAreCanonical: however a webhook or a reference spells an id, the
// client reads the one canonical id (no leading zeros), so a non-canonical
// spelling can never become a second row.
func TestIDsAreCanonical(t *testing.T) {
	v, err := vimeo.NewWebhookVerifier("s3cret", &vimeo.WebhookOptions{MaxAge: -1})
	require.NoError(t, err)
	for _, uri := range []string{"/videos/0900000047", "/videos/900000047", "/videos/000900000047:abc"} {
		body := []byte(`{"webhook_type":"video-updated","data":{"video_uri":"` + uri + `"},"timestamp":1789412698}`)
		h := http.Header{}
		h.Set("X-Webhook-Signature", vimeo.Sign("s3cret", body, vimeo.EncodingHex))
		ev, err := v.Verify(h, body)
		require.NoError(t, err)
		require.Equal(t, "900000047", ev.VideoID, uri)
	}
	require.Equal(t, "900000047", vimeo.VideoID("0900000047"))
	require.Equal(t, "900000047", vimeo.VideoID("/videos/0900000047"))
	require.Equal(t, "12", vimeo.FolderID("0012"))
	require.Equal(t, "12", vimeo.FolderID("/users/1/projects/0012"))
}
