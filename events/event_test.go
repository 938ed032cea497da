package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func newEvent(t *testing.T) events.Event {
	t.Helper()
	e, err := events.New(context.Background(), events.Event{Type: "analytics.heartbeat", Source: "vidlib/api", Subject: "video:42", Key: "user-7"},
		map[string]any{"position": 12.5})
	require.NoError(t, err)
	return e
}

func TestNewCompletesTheEnvelope(t *testing.T) {
	ctx := events.ContextWithTraceParent(context.Background(), tp)
	before := time.Now()
	e, err := events.New(ctx, events.Event{Type: "audit.login", Source: "vidlib/api"}, struct {
		User string `json:"user"`
	}{"u1"})
	require.NoError(t, err)
	id, err := uuid.Parse(e.ID)
	require.NoError(t, err)
	require.EqualValues(t, 7, id.Version())
	require.WithinDuration(t, before, e.Time, time.Minute)
	require.Equal(t, time.UTC, e.Time.Location())
	require.Equal(t, tp, e.Trace, "the trace comes from the context")
	require.JSONEq(t, `{"user":"u1"}`, string(e.Data))

	e2, err := events.New(ctx, events.Event{Type: "audit.login", Source: "s"}, nil)
	require.NoError(t, err)
	require.NotEqual(t, e.ID, e2.ID)
	require.Empty(t, e2.Data)

	_, err = events.New(ctx, events.Event{Type: "Bad Type", Source: "s"}, nil)
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = events.New(ctx, events.Event{Type: "a.b", Source: "s"}, func() {})
	require.ErrorIs(t, err, events.ErrInvalid, "data that cannot be JSON")
}

func TestMarshalDecodeRoundTrip(t *testing.T) {
	e := newEvent(t)
	e.Trace = tp
	b, err := e.Marshal()
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	require.EqualValues(t, events.Version, raw["v"], "the version is on the wire")

	got, err := events.Decode(b)
	require.NoError(t, err)
	require.Equal(t, e.ID, got.ID)
	require.True(t, e.Time.Equal(got.Time))
	got.Time = e.Time
	require.Equal(t, e, got)

	var data struct{ Position float64 }
	require.NoError(t, got.DecodeData(&data))
	require.Equal(t, 12.5, data.Position)
	require.ErrorIs(t, events.Event{}.DecodeData(&data), events.ErrInvalid)
}

// Property: every valid event survives Marshal and Decode unchanged.
func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789_"
		n := 1 + r.IntN(10)
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		b[0] = 'a' + byte(r.IntN(26))
		return string(b)
	}
	for range 500 {
		in := events.Event{
			Type:    word() + "." + word(),
			Source:  "src/" + word(),
			Subject: []string{"", "video:" + word(), "ünïcödé " + word()}[r.IntN(3)],
			Key:     []string{"", word(), "user-" + word()}[r.IntN(3)],
			Time:    time.Unix(946684800+r.Int64N(3e9), r.Int64N(1e9)).UTC(),
		}
		if r.IntN(2) == 0 {
			in.Trace = fmt.Sprintf("00-%032x-%016x-01", r.Uint64()|1, r.Uint64()|1)
		}
		var data any
		if r.IntN(3) > 0 {
			data = map[string]any{"n": r.IntN(1000), "s": word(), "list": []int{r.IntN(9)}}
		}
		e, err := events.New(context.Background(), in, data)
		require.NoError(t, err)
		b, err := e.Marshal()
		require.NoError(t, err)
		got, err := events.Decode(b)
		require.NoError(t, err)
		require.True(t, e.Time.Equal(got.Time))
		got.Time = e.Time
		if len(e.Data) > 0 {
			require.JSONEq(t, string(e.Data), string(got.Data))
			got.Data = e.Data
		}
		require.Equal(t, e, got)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	good := newEvent(t)
	v4 := uuid.New().String()
	cases := []struct {
		name  string
		mut   func(*events.Event)
		field string
	}{
		{"empty id", func(e *events.Event) { e.ID = "" }, "id"},
		{"uuid v4", func(e *events.Event) { e.ID = v4 }, "id"},
		{"upper-case id", func(e *events.Event) { e.ID = strings.ToUpper(e.ID) }, "id"},
		{"no type", func(e *events.Event) { e.Type = "" }, "type"},
		{"type with space", func(e *events.Event) { e.Type = "video updated" }, "type"},
		{"type upper-case", func(e *events.Event) { e.Type = "Video.Updated" }, "type"},
		{"type too long", func(e *events.Event) { e.Type = strings.Repeat("a", 129) }, "type"},
		{"no source", func(e *events.Event) { e.Source = "" }, "source"},
		{"control char in source", func(e *events.Event) { e.Source = "a\x01" }, "source"},
		{"subject too long", func(e *events.Event) { e.Subject = strings.Repeat("s", 513) }, "subject"},
		{"invalid utf-8 key", func(e *events.Event) { e.Key = "\xff" }, "key"},
		{"zero time", func(e *events.Event) { e.Time = time.Time{} }, "time"},
		{"year 1999", func(e *events.Event) { e.Time = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
		{"data not JSON", func(e *events.Event) { e.Data = json.RawMessage("{nope") }, "data"},
		{"trace malformed", func(e *events.Event) { e.Trace = "00-abc" }, "trace"},
		{"trace zero id", func(e *events.Event) { e.Trace = "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }, "trace"},
		{"trace version ff", func(e *events.Event) { e.Trace = "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }, "trace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := good
			tc.mut(&e)
			err := e.Validate()
			var ve *events.ValidationError
			require.ErrorAs(t, err, &ve)
			require.ErrorIs(t, err, events.ErrInvalid)
			require.Len(t, ve.Problems, 1)
			require.Equal(t, tc.field, ve.Problems[0].Field)
			_, err = e.Marshal()
			require.ErrorIs(t, err, events.ErrInvalid, "Marshal validates too")
		})
	}
	require.NoError(t, good.Validate())

	// Several problems are reported together.
	err := events.Event{}.Validate()
	var ve *events.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 4) // id, type, source, time
	require.Contains(t, err.Error(), "id: ")
	require.Contains(t, err.Error(), "time: is required")
}

func TestDecodeRejects(t *testing.T) {
	good, err := newEvent(t).Marshal()
	require.NoError(t, err)
	cases := map[string]struct {
		in   string
		want string
	}{
		"not JSON":        {"hello", "not a JSON event"},
		"empty":           {"", "not a JSON event"},
		"array":           {"[1,2]", "not a JSON event"},
		"no version":      {strings.Replace(string(good), `"v":1,`, "", 1), "version field is missing"},
		"newer version":   {strings.Replace(string(good), `"v":1`, `"v":2`, 1), "version 2 is not supported"},
		"trailing data":   {string(good) + " {}", "trailing data"},
		"invalid field":   {strings.Replace(string(good), `"source":"vidlib/api"`, `"source":""`, 1), "source: is required"},
		"wrong time type": {strings.Replace(string(good), `"time":"`, `"time":1,"x":"`, 1), "not a JSON event"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := events.Decode([]byte(tc.in))
			require.ErrorIs(t, err, events.ErrInvalid)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	_, err = events.Decode(make([]byte, events.MaxEventSize+1))
	require.ErrorIs(t, err, events.ErrInvalid)

	// Unknown fields are ignored: a newer minor producer stays readable.
	withExtra := strings.Replace(string(good), `"v":1,`, `"v":1,"extra":{"a":1},`, 1)
	_, err = events.Decode([]byte(withExtra))
	require.NoError(t, err)
}

func TestMarshalRejectsOversizedEvents(t *testing.T) {
	e := newEvent(t)
	e.Data = json.RawMessage(`"` + strings.Repeat("x", events.MaxEventSize) + `"`)
	_, err := e.Marshal()
	require.ErrorIs(t, err, events.ErrInvalid)
	require.Contains(t, err.Error(), "limit")
}

func TestEventMessage(t *testing.T) {
	e := newEvent(t)
	e.Trace = tp
	m, err := e.Message(events.TopicAnalytics)
	require.NoError(t, err)
	require.Equal(t, events.TopicAnalytics, m.Topic)
	require.Equal(t, "user-7", m.Key)
	require.Equal(t, e.ID, m.Headers[events.HeaderEventID])
	require.Equal(t, e.Type, m.Headers[events.HeaderEventType])
	require.Equal(t, tp, m.Headers[events.HeaderTraceParent])
	got, err := m.Event()
	require.NoError(t, err)
	require.Equal(t, e.ID, got.ID)

	bad := e
	bad.ID = "x"
	_, err = bad.Message(events.TopicAnalytics)
	require.ErrorIs(t, err, events.ErrInvalid)
}

func TestTopics(t *testing.T) {
	all := events.Topics()
	require.Len(t, all, 9)
	seen := map[string]bool{}
	for _, topic := range all {
		require.False(t, seen[topic], "%s listed twice", topic)
		seen[topic] = true
		if events.IsDeadLetterTopic(topic) {
			require.Empty(t, events.DeadLetterTopic(topic), "a dead letter is not dead-lettered again")
			continue
		}
		require.True(t, seen[events.DeadLetterTopic(topic)] || contains(all, events.DeadLetterTopic(topic)),
			"the dead-letter topic of %s is provisioned", topic)
	}
	for in, want := range map[string]string{
		events.TopicVimeoWebhooksRaw:    events.TopicDeadLettersVimeo,
		events.TopicVimeoSyncNormalized: events.TopicDeadLettersVimeo,
		events.TopicAnalytics:           events.TopicDeadLettersAnalytics,
		events.TopicRankingFeatures:     events.TopicDeadLettersAnalytics,
		events.TopicRankingUpdated:      events.TopicDeadLettersAnalytics,
		events.TopicAudit:               events.TopicDeadLettersAudit,
		"billing.invoices":              "deadletters.billing.invoices",
		"vimeo":                         events.TopicDeadLettersVimeo,
		events.TopicDeadLettersVimeo:    "",
	} {
		require.Equal(t, want, events.DeadLetterTopic(in), in)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSubscriptionValidation(t *testing.T) {
	s := events.Subscription{Group: "g", Topics: []string{"a"}}.WithDefaults()
	require.Equal(t, events.DefaultMaxInFlight, s.MaxInFlight)
	require.Equal(t, events.DefaultRedeliveryDelay, s.RedeliveryDelay)
	require.NoError(t, s.Validate())
	for _, bad := range []events.Subscription{
		{Topics: []string{"a"}},
		{Group: "g"},
		{Group: "g", Topics: []string{""}},
		{Group: "g", Topics: []string{"a", "a"}},
		{Group: "g", Topics: []string{"a"}, MaxInFlight: -1},
		{Group: "g", Topics: []string{"a"}, RedeliveryDelay: -time.Second},
	} {
		require.ErrorIs(t, bad.Validate(), events.ErrInvalid, "%+v", bad)
	}
}

func TestProviderEventKeyAndNormalize(t *testing.T) {
	ts := time.Date(2026, 5, 1, 10, 0, 0, 500, time.FixedZone("x", 3600))
	require.Equal(t, "vimeo:123:video.updated:2026-05-01T09:00:00.0000005Z", events.ProviderEventKey("vimeo", "123", "video.updated", ts))
	e, err := events.ProviderEvent{Provider: "vimeo", EventType: "video.updated", ObjectID: "123", SourceTimestamp: ts, Payload: []byte("{}")}.Normalize()
	require.NoError(t, err)
	require.Equal(t, events.ProviderEventKey("vimeo", "123", "video.updated", ts), e.EventKey)
}
