package vimeo_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// seedFiles adds every JSON file of the testdata directories to f.
func seedFiles(f *testing.F, dirs ...string) {
	f.Helper()
	for _, dir := range dirs {
		names, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(names) == 0 {
			f.Fatalf("no seeds in %s: %v", dir, err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzVideoJSON: any body decodes into a Video, a Folder, an Item and a
// page of videos without panicking, and what decodes has canonical ids.
func FuzzVideoJSON(f *testing.F) {
	seedFiles(f, "testdata", "testdata/recordings")
	f.Add([]byte(`{"uri":"/videos/0900000047:abc","link":"https://vimeo.com/0900000047/abc"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var v vimeo.Video
		if json.Unmarshal(body, &v) == nil && v.ID != "" {
			if c, ok := tree.CanonicalID(v.ID); !ok || c != v.ID {
				t.Fatalf("video id %q is not canonical", v.ID)
			}
		}
		var fo vimeo.Folder
		if json.Unmarshal(body, &fo) == nil && fo.ID != "" {
			if c, ok := tree.CanonicalID(fo.ID); !ok || c != fo.ID {
				t.Fatalf("folder id %q is not canonical", fo.ID)
			}
		}
		var it vimeo.Item
		_ = json.Unmarshal(body, &it)
		var page vimeo.Page[vimeo.Video]
		_ = json.Unmarshal(body, &page)
	})
}

// FuzzWebhookVerify: a delivery passes only with the signature of its exact
// body; a passing one names a canonical video id.
func FuzzWebhookVerify(f *testing.F) {
	now := time.Unix(1789412698, 0).UTC()
	v, err := vimeo.NewWebhookVerifier("s3cret", &vimeo.WebhookOptions{Clock: vimeotest.NewVirtualClock(now)})
	if err != nil {
		f.Fatal(err)
	}
	names, err := filepath.Glob("testdata/webhooks/*.json")
	if err != nil || len(names) == 0 {
		f.Fatalf("no webhook seeds: %v", err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, vimeo.Sign("s3cret", b, vimeo.EncodingHex))
	}
	body := `{"webhook_type":"video-deleted","data":{"clip_uri":"/videos/456789123","video_uri":"/videos/456789123"},"timestamp":1789412698}`
	f.Add([]byte(body), "sha256="+vimeo.Sign("s3cret", []byte(body), vimeo.EncodingHex))
	f.Add([]byte(body), "")
	f.Add([]byte(`{"webhook_type":"x","timestamp":"2026-09-01T00:00:00Z"}`), "00")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set("X-Webhook-Signature", sig)
		ev, err := v.Verify(h, body)
		if err != nil {
			return
		}
		want := vimeo.Sign("s3cret", body, vimeo.EncodingHex)
		got := strings.ToLower(strings.TrimSpace(sig))
		if i := strings.IndexByte(got, '='); i > 0 && got[:i] == "sha256" {
			got = got[i+1:]
		}
		if got != want {
			t.Fatalf("accepted signature %q, want %q", sig, want)
		}
		if ev.VideoID != "" {
			if c, ok := tree.CanonicalID(ev.VideoID); !ok || c != ev.VideoID {
				t.Fatalf("video id %q is not canonical", ev.VideoID)
			}
		}
	})
}
