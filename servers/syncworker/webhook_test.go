package syncworker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

const secret = "webhook-secret"

var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func webhookBody(typ, videoID string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"webhook_type": typ,
		"data":         map[string]any{"video_uri": "/videos/" + videoID, "clip_uri": "/videos/" + videoID},
		"timestamp":    at.Unix(),
	})
	return b
}

func post(t testing.TB, h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, syncworker.WebhookPath, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig != "" {
		r.Header.Set("X-Webhook-Signature", sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newIntake(t testing.TB, s syncworker.IntakeStore, pub events.Publisher) *syncworker.Intake {
	t.Helper()
	v, err := vimeo.NewWebhookVerifier(secret, &vimeo.WebhookOptions{Clock: vimeotest.NewVirtualClock(now)})
	require.NoError(t, err)
	in, err := syncworker.NewIntake(v, s, pub, nil)
	require.NoError(t, err)
	return in
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestIntakeRejectsBadInputAndChangesNothing(t *testing.T) {
	good := webhookBody("video-updated", "42", now)
	big := append([]byte(`{"webhook_type":"video-updated","data":{},"pad":"`), bytes.Repeat([]byte("x"), 1<<20)...)
	big = append(big, `","timestamp":1}`...)
	stale := webhookBody("video-updated", "42", now.Add(-time.Hour))
	future := webhookBody("video-updated", "42", now.Add(time.Hour))
	notJSON := []byte("not json at all")
	noType := []byte(fmt.Sprintf(`{"data":{"video_uri":"/videos/42"},"timestamp":%d}`, now.Unix()))
	noTime := []byte(`{"webhook_type":"video-updated","data":{"video_uri":"/videos/42"}}`)

	cases := []struct {
		name   string
		method string
		body   []byte
		sig    string
		status int
		code   string
	}{
		{"no signature", "", good, "", 401, syncworker.CodeBadSignature},
		{"forged signature", "", good, vimeo.Sign("other-secret", good, vimeo.EncodingHex), 401, syncworker.CodeBadSignature},
		{"signature of another body", "", good, vimeo.Sign(secret, stale, vimeo.EncodingHex), 401, syncworker.CodeBadSignature},
		{"garbage signature", "", good, "zz-not-hex", 401, syncworker.CodeBadSignature},
		{"stale", "", stale, vimeo.Sign(secret, stale, vimeo.EncodingHex), 401, syncworker.CodeStale},
		{"from the future", "", future, vimeo.Sign(secret, future, vimeo.EncodingHex), 401, syncworker.CodeStale},
		{"signed but not JSON", "", notJSON, vimeo.Sign(secret, notJSON, vimeo.EncodingHex), 400, syncworker.CodeMalformed},
		{"signed without type", "", noType, vimeo.Sign(secret, noType, vimeo.EncodingHex), 400, syncworker.CodeMalformed},
		{"signed without timestamp", "", noTime, vimeo.Sign(secret, noTime, vimeo.EncodingHex), 400, syncworker.CodeMalformed},
		{"oversized", "", big, vimeo.Sign(secret, big, vimeo.EncodingHex), 413, syncworker.CodeTooLarge},
		{"GET", http.MethodGet, nil, "", 405, syncworker.CodeMethodNotAllowed},
	}
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			s := sc.open(t)
			pub := &recorder{}
			in := newIntake(t, s, pub)
			for _, c := range cases {
				var w *httptest.ResponseRecorder
				if c.method != "" {
					r := httptest.NewRequest(c.method, syncworker.WebhookPath, nil)
					w = httptest.NewRecorder()
					in.ServeHTTP(w, r)
				} else {
					w = post(t, in, c.body, c.sig)
				}
				require.Equal(t, c.status, w.Code, c.name)
				require.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"), c.name)
				var eb errorBody
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &eb), c.name)
				require.Equal(t, c.code, eb.Error.Code, c.name)
				require.NotEmpty(t, eb.Error.Message, c.name)
			}
			// Nothing changed: no provider event, nothing published.
			pes, err := s.ListProviderEvents(context.Background(), events.ProviderEventFilter{})
			require.NoError(t, err)
			require.Empty(t, pes)
			require.Empty(t, pub.msgs)
			// Every rejection is audited.
			audits := outbox(t, s, events.TopicAudit)
			require.Len(t, audits, len(cases))
			for i, a := range audits {
				rec, err := audit.FromEvent(a)
				require.NoError(t, err)
				require.Equal(t, audit.ActionWebhookRejected, rec.Action)
				require.Equal(t, audit.ActorProvider, rec.ActorKind)
				require.Equal(t, "vimeo", rec.ActorID)
				require.Equal(t, "webhook", rec.ObjectKind)
				require.Equal(t, audit.OutcomeDenied, rec.Outcome)
				require.Equal(t, cases[i].code, rec.Details["code"], cases[i].name)
			}
		})
	}
}

func TestIntakeStoresPublishesAndDeduplicates(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			s := sc.open(t)
			pub := &recorder{}
			in := newIntake(t, s, pub)
			body := webhookBody("video-updated", "42", now)
			sig := "sha256=" + vimeo.Sign(secret, body, vimeo.EncodingHex)

			w := post(t, in, body, sig)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Contains(t, w.Body.String(), `"accepted"`)
			pes, err := s.ListProviderEvents(ctx, events.ProviderEventFilter{})
			require.NoError(t, err)
			require.Len(t, pes, 1)
			pe := pes[0]
			require.Equal(t, "vimeo", pe.Provider)
			require.Equal(t, "video-updated", pe.EventType)
			require.Equal(t, "42", pe.ObjectID)
			require.Equal(t, events.ProviderEventKey("vimeo", "42", "video-updated", now), pe.EventKey)
			require.JSONEq(t, string(body), string(pe.Payload))
			require.Equal(t, events.ProviderEventReceived, pe.Status)

			raw := pub.on(events.TopicVimeoWebhooksRaw)
			require.Len(t, raw, 1)
			require.Equal(t, syncworker.EventWebhookReceived, raw[0].Type)
			require.Equal(t, "42", raw[0].Key)
			var rw syncworker.RawWebhook
			require.NoError(t, raw[0].DecodeData(&rw))
			require.Equal(t, syncworker.RawWebhook{ProviderEventID: pe.ID, EventKey: pe.EventKey, WebhookType: "video-updated",
				VideoID: "42", Timestamp: now, Payload: body}, rw)
			accepted := outbox(t, s, events.TopicAudit)
			require.Len(t, accepted, 1)
			rec, err := audit.FromEvent(accepted[0])
			require.NoError(t, err)
			require.Equal(t, audit.ActionWebhookReceived, rec.Action)
			require.Equal(t, audit.Record{ID: rec.ID, Time: rec.Time, ActorKind: audit.ActorProvider, ActorID: "vimeo",
				Action: audit.ActionWebhookReceived, ObjectKind: "provider_event", ObjectID: strconv.FormatInt(pe.ID, 10),
				Outcome: audit.OutcomeOK, Details: map[string]string{"webhook_type": "video-updated", "video_id": "42", "event_key": pe.EventKey}}, rec)

			// A redelivery before the normaliser took it: published again
			// (the normaliser deduplicates), no second row.
			w = post(t, in, body, sig)
			require.Equal(t, http.StatusOK, w.Code)
			require.Contains(t, w.Body.String(), `"duplicate"`)
			require.Len(t, pub.on(events.TopicVimeoWebhooksRaw), 2)

			// Once processed, a redelivery changes nothing at all.
			require.NoError(t, s.MarkProviderEventProcessed(ctx, pe.ID))
			w = post(t, in, body, sig)
			require.Equal(t, http.StatusOK, w.Code)
			require.Contains(t, w.Body.String(), `"duplicate"`)
			require.Len(t, pub.on(events.TopicVimeoWebhooksRaw), 2)
			pes, err = s.ListProviderEvents(ctx, events.ProviderEventFilter{})
			require.NoError(t, err)
			require.Len(t, pes, 1)
			require.Empty(t, outbox(t, s, events.TopicAudit), "duplicates are not audited as receipts again")

			// A later event of the same video is a new event.
			body2 := webhookBody("video-updated", "42", now.Add(time.Second))
			w = post(t, in, body2, vimeo.Sign(secret, body2, vimeo.EncodingHex))
			require.Equal(t, http.StatusOK, w.Code)
			require.Contains(t, w.Body.String(), `"accepted"`)
			require.Len(t, pub.on(events.TopicVimeoWebhooksRaw), 3)
		})
	}
}

func TestIntakeBusDownAnswers503AndRedeliveryPublishes(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			s := sc.open(t)
			pub := &recorder{}
			in := newIntake(t, s, pub)
			body := webhookBody("video-deleted", "7", now)
			sig := vimeo.Sign(secret, body, vimeo.EncodingHex)

			pub.setFail(errors.New("broker unreachable"))
			w := post(t, in, body, sig)
			require.Equal(t, http.StatusServiceUnavailable, w.Code)
			var eb errorBody
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &eb))
			require.Equal(t, syncworker.CodeUnavailable, eb.Error.Code)
			require.Empty(t, pub.on(events.TopicVimeoWebhooksRaw))

			// Vimeo delivers again once the bus is back: the stored event is
			// published then.
			pub.setFail(nil)
			w = post(t, in, body, sig)
			require.Equal(t, http.StatusOK, w.Code)
			raw := pub.on(events.TopicVimeoWebhooksRaw)
			require.Len(t, raw, 1)
			pes, err := s.ListProviderEvents(ctx, events.ProviderEventFilter{})
			require.NoError(t, err)
			require.Len(t, pes, 1)
		})
	}
}

func TestIntakeWebhookWithoutVideo(t *testing.T) {
	s := storeCases[0].open(t)
	pub := &recorder{}
	in := newIntake(t, s, pub)
	body := []byte(fmt.Sprintf(`{"webhook_type":"live-event-started","data":{"live_event_uri":"/live_events/9"},"timestamp":%d}`, now.Unix()))
	sig := vimeo.Sign(secret, body, vimeo.EncodingHex)
	require.Equal(t, http.StatusOK, post(t, in, body, sig).Code)
	require.Contains(t, post(t, in, body, sig).Body.String(), `"duplicate"`, "keyed by the body's hash")
	raw := pub.on(events.TopicVimeoWebhooksRaw)
	require.Len(t, raw, 2)
	var rw syncworker.RawWebhook
	require.NoError(t, raw[0].DecodeData(&rw))
	require.Empty(t, rw.VideoID)
	require.Contains(t, rw.EventKey, "sha256:")
}

func TestNewIntakeValidates(t *testing.T) {
	_, err := syncworker.NewIntake(nil, nil, nil, nil)
	require.ErrorIs(t, err, syncworker.ErrInvalid)
}

// TestIntakeWithoutASecretRefusesEverything: without a verifier (no webhook
// secret configured) even a delivery signed with some secret gets 401 and
// nothing is stored or published.
func TestIntakeWithoutASecretRefusesEverything(t *testing.T) {
	s := memstore.New()
	pub := &recorder{}
	in, err := syncworker.NewIntake(nil, s, pub, nil)
	require.NoError(t, err)
	body := webhookBody("video-updated", "1", now)
	rec := post(t, in, body, vimeo.Sign(secret, body, vimeo.EncodingHex))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Body.String(), syncworker.CodeBadSignature)
	require.Empty(t, pub.on(events.TopicVimeoWebhooksRaw))
	pes, err := s.ListProviderEvents(context.Background(), events.ProviderEventFilter{})
	require.NoError(t, err)
	require.Empty(t, pes)
}

func TestRedrivePublishesStoredButUnpublishedWebhooks(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			s := sc.open(t)
			pub := &recorder{}
			in := newIntake(t, s, pub)
			lost := webhookBody("video-updated", "1", now)
			handled := webhookBody("video-updated", "2", now)
			pub.setFail(errors.New("broker unreachable"))
			require.Equal(t, http.StatusServiceUnavailable, post(t, in, lost, vimeo.Sign(secret, lost, vimeo.EncodingHex)).Code)
			require.Equal(t, http.StatusServiceUnavailable, post(t, in, handled, vimeo.Sign(secret, handled, vimeo.EncodingHex)).Code)
			pub.setFail(nil)
			// The normaliser handled "2" (a publish that failed late, say)
			// but could not mark it.
			_, err := s.MarkProcessed(ctx, syncworker.GroupNormalizer, events.ProviderEventKey("vimeo", "2", "video-updated", now))
			require.NoError(t, err)

			// Too young: left alone.
			n, err := in.Redrive(ctx, s, &syncworker.RedriveOptions{OlderThan: time.Hour})
			require.NoError(t, err)
			require.Zero(t, n)
			require.Empty(t, pub.on(events.TopicVimeoWebhooksRaw))

			n, err = in.Redrive(ctx, s, &syncworker.RedriveOptions{OlderThan: time.Nanosecond})
			require.NoError(t, err)
			require.Equal(t, 1, n)
			raw := pub.on(events.TopicVimeoWebhooksRaw)
			require.Len(t, raw, 1)
			require.Equal(t, "1", raw[0].Key)
			pes, err := s.ListProviderEvents(ctx, events.ProviderEventFilter{Status: events.ProviderEventProcessed})
			require.NoError(t, err)
			require.Len(t, pes, 1)
			require.Equal(t, "2", pes[0].ObjectID)
		})
	}
}
