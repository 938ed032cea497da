package vimeo_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func TestWebhookVerify(t *testing.T) {
	now := epoch
	body := func(ts int64) []byte {
		return []byte(fmt.Sprintf(`{"webhook_type":"video-updated","data":{"video_uri":"/videos/456789123","clip_uri":"/videos/456789123"},"timestamp":%d}`, ts))
	}
	fresh := body(now.Unix() - 30)
	hexSig := func(secret string, b []byte) string { return vimeo.Sign(secret, b, vimeo.EncodingHex) }
	tests := []struct {
		name    string
		opts    vimeo.WebhookOptions
		extra   []string
		header  string
		sig     string
		body    []byte
		wantErr error
		wantID  string
	}{
		{name: "hex", sig: hexSig("s3cret", fresh), body: fresh, wantID: "456789123"},
		{name: "uppercase hex with prefix", sig: "sha256=" + strings.ToUpper(hexSig("s3cret", fresh)), body: fresh, wantID: "456789123"},
		{name: "base64", opts: vimeo.WebhookOptions{Encoding: vimeo.EncodingBase64},
			sig: vimeo.Sign("s3cret", fresh, vimeo.EncodingBase64), body: fresh, wantID: "456789123"},
		{name: "custom header", opts: vimeo.WebhookOptions{Header: "X-Vimeo-Signature"}, header: "X-Vimeo-Signature",
			sig: hexSig("s3cret", fresh), body: fresh, wantID: "456789123"},
		{name: "rotated secret", extra: []string{"old"}, sig: hexSig("old", fresh), body: fresh, wantID: "456789123"},
		{name: "wrong secret", sig: hexSig("other", fresh), body: fresh, wantErr: vimeo.ErrWebhookSignature},
		{name: "tampered body", sig: hexSig("s3cret", fresh), body: []byte(strings.Replace(string(fresh), "456789123", "456789124", 1)),
			wantErr: vimeo.ErrWebhookSignature},
		{name: "missing header", sig: "", body: fresh, wantErr: vimeo.ErrWebhookSignature},
		{name: "header under another name", header: "X-Hub-Signature", sig: hexSig("s3cret", fresh), body: fresh, wantErr: vimeo.ErrWebhookSignature},
		{name: "malformed signature", sig: "zz", body: fresh, wantErr: vimeo.ErrWebhookSignature},
		{name: "stale", sig: hexSig("s3cret", body(now.Unix()-600)), body: body(now.Unix() - 600), wantErr: vimeo.ErrWebhookStale},
		{name: "from the future", sig: hexSig("s3cret", body(now.Unix()+600)), body: body(now.Unix() + 600), wantErr: vimeo.ErrWebhookStale},
		{name: "age check off", opts: vimeo.WebhookOptions{MaxAge: -1}, sig: hexSig("s3cret", body(1)), body: body(1), wantID: "456789123"},
		{name: "signed garbage", sig: hexSig("s3cret", []byte("not json")), body: []byte("not json"), wantErr: vimeo.ErrWebhookPayload},
		{name: "no timestamp", sig: hexSig("s3cret", []byte(`{"webhook_type":"video-deleted","data":{}}`)),
			body: []byte(`{"webhook_type":"video-deleted","data":{}}`), wantErr: vimeo.ErrWebhookPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Clock = vimeotest.NewVirtualClock(now)
			v, err := vimeo.NewWebhookVerifier("s3cret", &o, tt.extra...)
			require.NoError(t, err)
			h := http.Header{}
			name := tt.header
			if name == "" {
				name = "X-Webhook-Signature"
			}
			if tt.sig != "" {
				h.Set(name, tt.sig)
			}
			ev, err := v.Verify(h, tt.body)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Nil(t, ev)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "video-updated", ev.Type)
			require.Equal(t, tt.wantID, ev.VideoID)
			require.Equal(t, "/videos/456789123", ev.VideoURI)
		})
	}

	// Other payload forms: clip_uri only, ISO and millisecond timestamps.
	v, err := vimeo.NewWebhookVerifier("k", &vimeo.WebhookOptions{Clock: vimeotest.NewVirtualClock(now)})
	require.NoError(t, err)
	for _, b := range []string{
		fmt.Sprintf(`{"webhook_type":"video-deleted","data":{"clip_uri":"/videos/7"},"timestamp":"%s"}`, now.Format(time.RFC3339)),
		fmt.Sprintf(`{"webhook_type":"video-deleted","data":{"clip_uri":"/videos/7"},"timestamp":%d}`, now.UnixMilli()),
	} {
		h := http.Header{"X-Webhook-Signature": {vimeo.Sign("k", []byte(b), vimeo.EncodingHex)}}
		ev, err := v.Verify(h, []byte(b))
		require.NoError(t, err, b)
		require.Equal(t, "7", ev.VideoID)
		require.True(t, ev.Timestamp.Equal(now))
	}

	_, err = vimeo.NewWebhookVerifier("", nil)
	require.ErrorIs(t, err, vimeo.ErrInvalidArgument)
	_, err = vimeo.NewWebhookVerifier("k", &vimeo.WebhookOptions{Encoding: "rot13"})
	require.ErrorIs(t, err, vimeo.ErrInvalidArgument)

	// Sign agrees with a plain HMAC.
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(fresh)
	require.Equal(t, hex.EncodeToString(mac.Sum(nil)), vimeo.Sign("s3cret", fresh, vimeo.EncodingHex))
}

// receiver is an HTTP endpoint that verifies deliveries with the client's
// verifier and records what it accepted.
type receiver struct {
	v      *vimeo.WebhookVerifier
	status int
	mu     sync.Mutex
	events []*vimeo.WebhookEvent
	bad    int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, _, err := rc.v.VerifyRequest(r)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rc.status != 0 {
		w.WriteHeader(rc.status)
		return
	}
	rc.events = append(rc.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.events {
		out = append(out, e.Type+" "+e.VideoID)
	}
	return out
}

func TestWebhooksFromTheFake(t *testing.T) {
	tests := []struct {
		name     string
		wopts    vimeotest.WebhookOptions
		vopts    vimeo.WebhookOptions
		status   int
		want     func(ids []string) []string
		disabled bool
	}{
		{name: "delivered and verified", want: func(ids []string) []string { return ids }},
		{name: "base64 with prefix", wopts: vimeotest.WebhookOptions{Encoding: "base64", Prefix: "sha256=", Header: "X-Vimeo-Signature"},
			vopts: vimeo.WebhookOptions{Encoding: vimeo.EncodingBase64, Header: "X-Vimeo-Signature"},
			want:  func(ids []string) []string { return ids }},
		{name: "all dropped", wopts: vimeotest.WebhookOptions{DropRate: 1}, want: func([]string) []string { return nil }},
		{name: "all duplicated", wopts: vimeotest.WebhookOptions{DuplicateRate: 1}, want: func(ids []string) []string {
			var out []string
			for _, id := range ids {
				out = append(out, id, id)
			}
			return out
		}},
		{name: "receiver failing disables the webhook", wopts: vimeotest.WebhookOptions{DisableAfter: 2}, status: 500,
			want: func([]string) []string { return nil }, disabled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &vimeotest.GenerateOptions{Seed: 15, Folders: 4, Videos: 10}, &vimeotest.Options{Webhooks: tt.wopts}, nil)
			vo := tt.vopts
			vo.Clock = e.clk
			v, err := vimeo.NewWebhookVerifier("whsec", &vo)
			require.NoError(t, err)
			rc := &receiver{v: v, status: tt.status}
			hook := httptest.NewServer(rc)
			defer hook.Close()
			upd, err := e.srv.AddWebhook(hook.URL, "video-updated", "whsec", true)
			require.NoError(t, err)
			_, err = e.srv.AddWebhook(hook.URL, "video-deleted", "whsec", true)
			require.NoError(t, err)

			vs := e.acct.Videos()
			require.NoError(t, e.acct.RenameVideo(vs[0].ID, "x"))
			require.NoError(t, e.acct.SetPrivacy(vs[1].ID, "unlisted"))
			require.NoError(t, e.acct.DeleteVideo(vs[2].ID))
			_, err = e.acct.CreateFolder(e.root, "folders send nothing")
			require.NoError(t, err)
			sent := []string{"video-updated " + id(vs[0].ID), "video-updated " + id(vs[1].ID), "video-deleted " + id(vs[2].ID)}
			_, err = e.srv.FlushWebhooks(t.Context())
			require.NoError(t, err)
			require.Equal(t, tt.want(sent), rc.ids())
			require.Zero(t, rc.bad, "every delivery verifies")
			wh, ok := e.srv.Webhook(upd)
			require.True(t, ok)
			require.Equal(t, !tt.disabled, wh.Enabled)
			require.Zero(t, e.srv.PendingWebhooks())
		})
	}

	// Reordering shuffles a batch but loses nothing.
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 16, Folders: 3, Videos: 30},
		&vimeotest.Options{Webhooks: vimeotest.WebhookOptions{Reorder: true, Seed: 3}}, nil)
	v, err := vimeo.NewWebhookVerifier("k", &vimeo.WebhookOptions{Clock: e.clk})
	require.NoError(t, err)
	rc := &receiver{v: v}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	_, err = e.srv.AddWebhook(hook.URL, "video-updated", "k", true)
	require.NoError(t, err)
	var sent []string
	for _, vv := range e.acct.Videos()[:20] {
		require.NoError(t, e.acct.RenameVideo(vv.ID, "r"))
		sent = append(sent, "video-updated "+id(vv.ID))
	}
	_, err = e.srv.FlushWebhooks(t.Context())
	require.NoError(t, err)
	got := rc.ids()
	require.ElementsMatch(t, sent, got)
	require.NotEqual(t, sent, got, "delivered out of order")
}
