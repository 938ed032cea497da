package membus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/eventstest"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/internal/testenv"
)

func TestConformance(t *testing.T) {
	eventstest.Run(t, eventstest.Harness{
		New: func(t *testing.T) eventstest.Env {
			b, err := membus.New(&membus.Options{Partitions: 4})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, b.Close()) })
			return eventstest.Env{Bus: b}
		},
	})
}

func TestMain(m *testing.M) { testenv.Main(m) }

func TestLag(t *testing.T) {
	b, err := membus.New(&membus.Options{Partitions: 4})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	ctx := context.Background()

	lag, err := b.Lag(ctx, "g", events.TopicAudit)
	require.NoError(t, err)
	require.Equal(t, map[string]map[int]int64{events.TopicAudit: {0: 0, 1: 0, 2: 0, 3: 0}}, lag, "nothing published yet")

	msgs := make([]events.Message, 40)
	for i := range msgs {
		msgs[i] = events.Message{Topic: events.TopicAudit, Key: "k" + strconv.Itoa(i), Value: []byte("x")}
	}
	require.NoError(t, b.Publish(ctx, msgs...))
	lag, err = b.Lag(ctx, "g", events.TopicAudit, events.TopicAnalytics)
	require.NoError(t, err)
	require.EqualValues(t, 40, sum(lag[events.TopicAudit]), "nothing consumed yet")
	require.Equal(t, b.EndOffsets(events.TopicAudit), perPartition(lag[events.TopicAudit]))
	require.Zero(t, sum(lag[events.TopicAnalytics]))

	// Consume all 40 and stop cleanly: the lag drops to zero; 5 more make 5.
	sctx, stop := context.WithCancel(ctx)
	var n atomic.Int32
	all := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- b.Subscribe(sctx, events.Subscription{Group: "g", Topics: []string{events.TopicAudit}},
			func(context.Context, *events.Message) error {
				if n.Add(1) == 40 {
					close(all)
				}
				return nil
			})
	}()
	<-all
	stop()
	require.NoError(t, <-done)
	lag, err = b.Lag(ctx, "g", events.TopicAudit)
	require.NoError(t, err)
	require.Zero(t, sum(lag[events.TopicAudit]), "a clean stop committed everything")
	require.NoError(t, b.Publish(ctx, msgs[:5]...))
	lag, err = b.Lag(ctx, "g", events.TopicAudit)
	require.NoError(t, err)
	require.EqualValues(t, 5, sum(lag[events.TopicAudit]))
	lag, err = b.Lag(ctx, "other", events.TopicAudit)
	require.NoError(t, err)
	require.EqualValues(t, 45, sum(lag[events.TopicAudit]), "a group that never consumed is behind by everything")

	_, err = b.Lag(ctx, "", events.TopicAudit)
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = b.Lag(ctx, "g")
	require.ErrorIs(t, err, events.ErrInvalid)
}

func sum(m map[int]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

func perPartition(m map[int]int64) []int64 {
	out := make([]int64, len(m))
	for p, v := range m {
		out[p] = v
	}
	return out
}
