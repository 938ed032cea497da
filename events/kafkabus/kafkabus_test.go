package kafkabus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/eventstest"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testOptions are fast settings for tests: testenv's kfake allows group
// sessions down to 100 ms.
func testOptions(k *testenv.KafkaCluster) *kafkabus.Options {
	return &kafkabus.Options{
		TopicPrefix:       k.TopicPrefix(),
		Partitions:        4,
		SessionTimeout:    3 * time.Second,
		HeartbeatInterval: 100 * time.Millisecond,
		RebalanceTimeout:  4 * time.Second,
		JoinGroupBackoff:  100 * time.Millisecond,
		DrainTimeout:      2 * time.Second,
		CommitInterval:    20 * time.Millisecond,
		MaxWait:           50 * time.Millisecond,
	}
}

func newBus(t *testing.T, k *testenv.KafkaCluster) *kafkabus.Bus {
	t.Helper()
	b, err := kafkabus.New(k.Brokers(), testOptions(k))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.Provision(ctx))
	return b
}

func TestConformance(t *testing.T) {
	eventstest.Run(t, eventstest.Harness{
		New: func(t *testing.T) eventstest.Env {
			k := testenv.Kafka(t)
			return eventstest.Env{Bus: newBus(t, k), Restart: func() { k.Restart(t) }}
		},
		Timeout: 30 * time.Second,
	})
}

func TestLagAndProvision(t *testing.T) {
	k := testenv.Kafka(t)
	bus := newBus(t, k)
	ctx := context.Background()
	require.NoError(t, bus.Provision(ctx), "provisioning again is harmless")

	evs := make([]events.Message, 40)
	for i := range evs {
		evs[i] = events.Message{Topic: events.TopicAudit, Key: "k" + strconv.Itoa(i), Value: []byte("x")}
	}
	require.NoError(t, bus.Publish(ctx, evs...))
	lag, err := bus.Lag(ctx, "audit-consumer", events.TopicAudit)
	require.NoError(t, err)
	require.Len(t, lag[events.TopicAudit], 4, "the topic was provisioned with 4 partitions")
	require.EqualValues(t, 40, sum(lag[events.TopicAudit]), "nothing consumed yet")

	// Consume 40, stop cleanly: the lag drops to zero.
	sctx, stop := context.WithCancel(ctx)
	var n atomic.Int32
	all := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- bus.Subscribe(sctx, events.Subscription{Group: "audit-consumer", Topics: []string{events.TopicAudit}},
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
	lag, err = bus.Lag(ctx, "audit-consumer", events.TopicAudit)
	require.NoError(t, err)
	require.Zero(t, sum(lag[events.TopicAudit]), "a clean stop committed everything")

	_, err = bus.Lag(ctx, "", events.TopicAudit)
	require.ErrorIs(t, err, events.ErrInvalid)
}

func sum(m map[int]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

func TestNewValidatesOptions(t *testing.T) {
	_, err := kafkabus.New(nil, nil)
	require.ErrorIs(t, err, events.ErrInvalid)
	for _, o := range []kafkabus.Options{
		{BatchTimeout: -1},
		{Partitions: -1},
		{DrainTimeout: 20 * time.Second, RebalanceTimeout: 10 * time.Second},
		{HeartbeatInterval: 10 * time.Second, SessionTimeout: 6 * time.Second},
	} {
		_, err := kafkabus.New([]string{"127.0.0.1:1"}, &o)
		require.ErrorIs(t, err, events.ErrInvalid, "%+v", o)
	}
	b, err := kafkabus.New([]string{"127.0.0.1:1"}, nil)
	require.NoError(t, err, "nil options are valid; New does not connect")
	require.NoError(t, b.Close())
	require.ErrorIs(t, b.Publish(context.Background(), events.Message{Topic: "t", Value: []byte("x")}), events.ErrClosed)
	err = b.Subscribe(context.Background(), events.Subscription{Group: "g", Topics: []string{"t"}}, func(context.Context, *events.Message) error { return nil })
	require.ErrorIs(t, err, events.ErrClosed)
}
