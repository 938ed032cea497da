package vimeotest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// WebhookOptions configures the App Webhook emitter. The zero value is valid.
// Vimeo has not published the signature details; everything uncertain is
// configurable.
type WebhookOptions struct {
	// AppID is the app whose webhooks /apps/{app_id}/webhooks manages.
	// Default 58479.
	AppID int64
	// Header carrying the signature; default "X-Webhook-Signature".
	Header string
	// Encoding of the HMAC-SHA256: "hex" (default) or "base64". Prefix is
	// prepended (e.g. "sha256=").
	Encoding string
	Prefix   string
	// TimestampHeader, if set, carries the delivery time in Unix seconds,
	// and the HMAC covers "<timestamp>.<body>" instead of the body.
	TimestampHeader string
	// DropRate, DuplicateRate: shares of deliveries lost or sent twice.
	DropRate      float64
	DuplicateRate float64
	// Reorder shuffles each batch of deliveries.
	Reorder bool
	// DisableAfter consecutive failed deliveries disable the webhook, as Vimeo
	// does when the failure rate gets too high. Default 5.
	DisableAfter int
	// Client sends the deliveries; default a client with a 5 s timeout.
	Client *http.Client
	// Seed for drops, duplicates and reordering; 0 means 1.
	Seed uint64
}

// Webhook is a registered App Webhook.
type Webhook struct {
	ID         int64
	URL        string
	Type       string // one event type per webhook, e.g. "video-updated"
	Secret     string
	Enabled    bool
	Sent       int // deliveries attempted
	Failed     int // deliveries that failed
	Streak     int // consecutive failures
	CreatedOn  time.Time
	ModifiedOn time.Time
	EnabledOn  time.Time
	DisabledOn time.Time
}

// webhookTypes are the event types Vimeo lists; only the video ones fire here.
var webhookTypes = map[string]bool{
	"video-created": true, "video-updated": true, "video-deleted": true, "video-upload-failed": true,
	"video-transcode-playable": true, "video-transcode-fully-playable": true, "video-transcode-complete": true,
	"automatic-thumbnail-available": true, "content-scan-completed": true,
	"transcript-status-updated": true, "transcript-status-complete": true,
	"live-event-started": true, "live-event-updated": true, "live-event-ended": true,
	"live-event-deleted": true, "live-event-archive-available": true, "live-event-clip-created": true,
}

type delivery struct {
	hook    int64
	typ     string
	videoID int64
	at      time.Time
}

type webhookHub struct {
	s    *Server
	opts WebhookOptions

	mu      sync.Mutex
	rng     *rand.Rand
	hooks   map[int64]*Webhook
	next    int64
	pending []delivery
}

func newWebhookHub(s *Server, o WebhookOptions) *webhookHub {
	if o.AppID <= 0 {
		o.AppID = 58479
	}
	if o.Header == "" {
		o.Header = "X-Webhook-Signature"
	}
	if o.Encoding == "" {
		o.Encoding = "hex"
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = 5
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return &webhookHub{s: s, opts: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0xabcdef)),
		hooks: map[int64]*Webhook{}, next: 1000}
}

// onEvent queues a delivery for every enabled webhook of the event's type.
// Folder events never reach webhooks: Vimeo has none.
func (h *webhookHub) onEvent(e Event) {
	if e.VideoID == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]int64, 0, len(h.hooks))
	for id := range h.hooks {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		wh := h.hooks[id]
		if wh.Enabled && wh.Type == e.Type {
			h.pending = append(h.pending, delivery{hook: id, typ: e.Type, videoID: e.VideoID, at: e.At})
		}
	}
}

// AddWebhook registers a webhook as POST /apps/{app_id}/webhooks would.
func (s *Server) AddWebhook(url, typ, secret string, enabled bool) (int64, error) {
	if !webhookTypes[typ] {
		return 0, fmt.Errorf("%w: webhook type %q", ErrInvalid, typ)
	}
	if url == "" || secret == "" {
		return 0, fmt.Errorf("%w: webhook url and secret are required", ErrInvalid)
	}
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	now := s.opts.Clock.Now().UTC().Truncate(time.Second)
	h.next++
	wh := &Webhook{ID: h.next, URL: url, Type: typ, Secret: secret, Enabled: enabled, CreatedOn: now, ModifiedOn: now}
	if enabled {
		wh.EnabledOn = now
	}
	h.hooks[wh.ID] = wh
	return wh.ID, nil
}

// Webhook returns a copy of webhook id.
func (s *Server) Webhook(id int64) (Webhook, bool) {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	wh := h.hooks[id]
	if wh == nil {
		return Webhook{}, false
	}
	return *wh, true
}

// PendingWebhooks returns the number of queued deliveries.
func (s *Server) PendingWebhooks() int {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return len(s.hooks.pending)
}

// WebhookBody returns the payload and signature header value the emitter sends
// for an event: {"webhook_type", "data": {"video_uri", "clip_uri"}, "timestamp"}.
// With WebhookOptions.TimestampHeader the signature covers at too (see
// FlushWebhooks).
func (s *Server) WebhookBody(typ string, videoID int64, at time.Time, secret string) (body []byte, signature string) {
	uri := "/videos/" + strconv.FormatInt(videoID, 10)
	body, _ = json.Marshal(map[string]any{
		"webhook_type": typ,
		"data":         map[string]any{"video_uri": uri, "clip_uri": uri},
		"timestamp":    at.Unix(),
	})
	mac := hmac.New(sha256.New, []byte(secret))
	if s.hooks.opts.TimestampHeader != "" {
		mac.Write([]byte(strconv.FormatInt(at.Unix(), 10) + "."))
	}
	mac.Write(body)
	sum := mac.Sum(nil)
	enc := hex.EncodeToString(sum)
	if s.hooks.opts.Encoding == "base64" {
		enc = base64.StdEncoding.EncodeToString(sum)
	}
	return body, s.hooks.opts.Prefix + enc
}

// FlushWebhooks delivers every queued event now, applying drops, duplicates and
// reordering, and returns how many deliveries got a 2xx. Deliveries to disabled
// webhooks are discarded; DisableAfter consecutive failures disable a webhook.
func (s *Server) FlushWebhooks(ctx context.Context) (delivered int, err error) {
	h := s.hooks
	h.mu.Lock()
	batch := h.pending
	h.pending = nil
	var out []delivery
	for _, d := range batch {
		if h.opts.DropRate > 0 && h.rng.Float64() < h.opts.DropRate {
			continue
		}
		out = append(out, d)
		if h.opts.DuplicateRate > 0 && h.rng.Float64() < h.opts.DuplicateRate {
			out = append(out, d)
		}
	}
	if h.opts.Reorder {
		h.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	h.mu.Unlock()

	for _, d := range out {
		if err := ctx.Err(); err != nil {
			return delivered, err
		}
		h.mu.Lock()
		wh := h.hooks[d.hook]
		if wh == nil || !wh.Enabled {
			h.mu.Unlock()
			continue
		}
		url, secret := wh.URL, wh.Secret
		h.mu.Unlock()

		body, sig := s.WebhookBody(d.typ, d.videoID, d.at, secret)
		ok := false
		req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if rerr == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(h.opts.Header, sig)
			if h.opts.TimestampHeader != "" {
				req.Header.Set(h.opts.TimestampHeader, strconv.FormatInt(d.at.Unix(), 10))
			}
			req.Header.Set("User-Agent", "Vimeo-Webhooks/1.0")
			if resp, derr := h.opts.Client.Do(req); derr == nil {
				ok = resp.StatusCode >= 200 && resp.StatusCode < 300
				resp.Body.Close()
			}
		}
		h.mu.Lock()
		wh.Sent++
		if ok {
			delivered++
			wh.Streak = 0
		} else {
			wh.Failed++
			wh.Streak++
			if wh.Streak >= h.opts.DisableAfter {
				wh.Enabled = false
				wh.DisabledOn = s.opts.Clock.Now().UTC().Truncate(time.Second)
			}
		}
		h.mu.Unlock()
	}
	return delivered, nil
}

func (h *webhookHub) render(wh *Webhook) map[string]any {
	t := func(x time.Time) any { return ts(x, nil) }
	return map[string]any{
		"uri":          fmt.Sprintf("/apps/%d/webhooks/%d", h.opts.AppID, wh.ID),
		"app_uri":      fmt.Sprintf("/apps/%d", h.opts.AppID),
		"webhook_type": wh.Type, "webhook_url": wh.URL, "is_enabled": wh.Enabled, "secret": wh.Secret,
		"created_on": t(wh.CreatedOn), "modified_on": t(wh.ModifiedOn), "enabled_on": t(wh.EnabledOn),
		"disabled_on":                        t(wh.DisabledOn),
		"requests_executed_before_disabling": wh.Sent, "requests_failed_before_disabling": wh.Failed,
	}
}

// routeWebhooks serves /apps/{app_id}/webhooks[/{id}].
func (s *Server) routeWebhooks(w http.ResponseWriter, r *http.Request, segs []string) {
	h := s.hooks
	if len(segs) < 3 || segs[1] != strconv.FormatInt(h.opts.AppID, 10) || segs[2] != "webhooks" || len(segs) > 4 {
		s.notFound(w, "page")
		return
	}
	if len(segs) == 3 {
		switch r.Method {
		case http.MethodGet:
			h.mu.Lock()
			ids := make([]int64, 0, len(h.hooks))
			for id := range h.hooks {
				ids = append(ids, id)
			}
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			list := make([]any, 0, len(ids))
			for _, id := range ids {
				list = append(list, h.render(h.hooks[id]))
			}
			h.mu.Unlock()
			s.collection(w, r, "application/vnd.vimeo.webhook+json", len(list), 0, func(a, b int) []any { return list[a:b] })
		case http.MethodPost:
			body := readBody(r)
			id, err := s.AddWebhook(body["webhook_url"], body["webhook_type"], body["secret"], body["is_enabled"] == "true")
			if err != nil {
				s.writeError(w, invalidParam("webhook_type", err.Error()))
				return
			}
			h.mu.Lock()
			out := h.render(h.hooks[id])
			h.mu.Unlock()
			s.writeJSON(w, r, http.StatusCreated, "application/vnd.vimeo.webhook+json", out)
		default:
			s.methodNotAllowed(w)
		}
		return
	}
	id, err := strconv.ParseInt(segs[3], 10, 64)
	h.mu.Lock()
	wh := h.hooks[id]
	h.mu.Unlock()
	if err != nil || wh == nil {
		s.notFound(w, "webhook")
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPatch:
		body := readBody(r)
		h.mu.Lock()
		now := s.opts.Clock.Now().UTC().Truncate(time.Second)
		if v, ok := body["webhook_url"]; ok && v != "" {
			wh.URL = v
		}
		if v, ok := body["secret"]; ok && v != "" {
			wh.Secret = v
		}
		if v, ok := body["is_enabled"]; ok {
			on := v == "true"
			if on && !wh.Enabled {
				wh.EnabledOn, wh.Streak = now, 0
			} else if !on && wh.Enabled {
				wh.DisabledOn = now
			}
			wh.Enabled = on
		}
		wh.ModifiedOn = now
		h.mu.Unlock()
	case http.MethodDelete:
		h.mu.Lock()
		delete(h.hooks, id)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		s.methodNotAllowed(w)
		return
	}
	h.mu.Lock()
	out := h.render(wh)
	h.mu.Unlock()
	s.writeJSON(w, r, http.StatusOK, "application/vnd.vimeo.webhook+json", out)
}
