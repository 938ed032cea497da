package syncworker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
)

// The consumers start their span with the producer's traceparent and publish
// what they produce under the span they started.
func TestConsumersStartSpans(t *testing.T) {
	const (
		producer = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		consumer = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"
	)
	var parents []string
	var ended []error
	start := func(ctx context.Context, _ *events.Message, parent string) (context.Context, func(error)) {
		parents = append(parents, parent)
		return events.ContextWithTraceParent(ctx, consumer), func(err error) { ended = append(ended, err) }
	}
	pub := &recorder{}
	n, err := syncworker.NewNormalizer(pub, memstore.New(), &syncworker.ConsumerOptions{StartSpan: start})
	require.NoError(t, err)

	ctx := context.Background()
	e, err := events.New(events.ContextWithTraceParent(ctx, producer), events.Event{
		Type: syncworker.EventWebhookReceived, Source: "test", Key: "42",
	}, syncworker.RawWebhook{EventKey: "vimeo:42:video.updated:1", WebhookType: "video.updated", VideoID: "42", Timestamp: time.Now()})
	require.NoError(t, err)
	m, err := e.Message(events.TopicVimeoWebhooksRaw)
	require.NoError(t, err)
	require.NoError(t, n.Handler()(ctx, &m))

	require.Equal(t, []string{producer}, parents, "the span's parent is the producer's")
	require.Equal(t, []error{nil}, ended, "the span ends with the handler's result")
	require.Len(t, pub.msgs, 1)
	out, err := pub.msgs[0].Event()
	require.NoError(t, err)
	require.Equal(t, syncworker.EventVideoRefetch, out.Type)
	require.Equal(t, consumer, out.Trace, "the refetch is a child of the normaliser's span")
	require.Equal(t, consumer, pub.msgs[0].Headers[events.HeaderTraceParent])
}
