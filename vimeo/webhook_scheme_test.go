package vimeo_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// TestWebhookSchemes: each part of the signature scheme is honoured, and a
// delivery that does not follow it is refused.
func TestWebhookSchemes(t *testing.T) {
	now := time.Unix(1789412698, 0).UTC()
	clk := vimeotest.NewVirtualClock(now)
	body := []byte(`{"webhook_type":"video-updated","data":{"video_uri":"/videos/47"}}`)
	withTime := []byte(`{"webhook_type":"video-updated","data":{"video_uri":"/videos/47"},"timestamp":1789412698}`)
	scheme := &vimeo.WebhookOptions{Header: "X-Vimeo-Signature", Encoding: vimeo.EncodingBase64, Prefix: "v1=",
		TimestampHeader: "X-Vimeo-Timestamp", MaxAge: time.Minute, Clock: clk}
	v, err := vimeo.NewWebhookVerifier("new", scheme, "old")
	require.NoError(t, err)

	good := vimeo.SignHeaders("new", body, now, scheme)
	ev, err := v.Verify(good, body)
	require.NoError(t, err, "the payload needs no timestamp: the header has it")
	require.Equal(t, now, ev.Timestamp)
	require.Equal(t, "47", ev.VideoID)
	_, err = v.Verify(vimeo.SignHeaders("old", body, now, scheme), body)
	require.NoError(t, err, "the previous secret still passes during a rotation")

	mutate := func(f func(h http.Header)) http.Header {
		h := good.Clone()
		f(h)
		return h
	}
	for name, h := range map[string]http.Header{
		"another secret":        vimeo.SignHeaders("other", body, now, scheme),
		"no prefix":             mutate(func(h http.Header) { h.Set("X-Vimeo-Signature", h.Get("X-Vimeo-Signature")[3:]) }),
		"time moved":            mutate(func(h http.Header) { h.Set("X-Vimeo-Timestamp", "1789412699") }),
		"no time":               mutate(func(h http.Header) { h.Del("X-Vimeo-Timestamp") }),
		"two signatures":        mutate(func(h http.Header) { h.Add("X-Vimeo-Signature", h.Get("X-Vimeo-Signature")) }),
		"default scheme":        vimeo.SignHeaders("new", withTime, now, nil),
		"hex instead of base64": vimeo.SignHeaders("new", body, now, &vimeo.WebhookOptions{Header: "X-Vimeo-Signature", Prefix: "v1=", TimestampHeader: "X-Vimeo-Timestamp"}),
	} {
		_, err := v.Verify(h, body)
		require.ErrorIs(t, err, vimeo.ErrWebhookSignature, name)
	}
	old := vimeo.SignHeaders("new", body, now.Add(-2*time.Minute), scheme)
	_, err = v.Verify(old, body)
	require.ErrorIs(t, err, vimeo.ErrWebhookStale, "outside the tolerance")

	// The defaults: body signed alone, time from the payload.
	d, err := vimeo.NewWebhookVerifier("new", &vimeo.WebhookOptions{Clock: clk})
	require.NoError(t, err)
	_, err = d.Verify(vimeo.SignHeaders("new", withTime, now, nil), withTime)
	require.NoError(t, err)
	_, err = vimeo.NewWebhookVerifier("new", &vimeo.WebhookOptions{Header: "Bad Header"})
	require.ErrorIs(t, err, vimeo.ErrInvalidArgument)
}
