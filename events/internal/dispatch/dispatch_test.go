package dispatch

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

// waitFor waits until cond holds, re-checking whenever a watermark advances.
func waitFor(t *testing.T, d *Dispatcher, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-d.Progress():
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatal("condition not reached")
		}
	}
}

// Property: whatever order handlers are released in, the watermark of a
// partition is the first offset whose message has not completed, where a
// message completes once it is released and every earlier message of its key
// has completed.
func TestWatermarkProperty(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 7))
		n := 5 + r.IntN(40)
		keys := make([]string, n)
		gates := make([]chan struct{}, n)
		for i := range keys {
			if r.IntN(5) > 0 {
				keys[i] = "k" + strconv.Itoa(r.IntN(4))
			}
			gates[i] = make(chan struct{})
		}
		d := New(Config{MaxInFlight: n, Handler: func(ctx context.Context, m *events.Message) error {
			<-gates[m.Offset]
			return nil
		}})
		for i := range n {
			require.NoError(t, d.Submit(context.Background(), &events.Message{Topic: "t", Key: keys[i], Offset: int64(i)}))
		}
		released := make([]bool, n)
		oracle := func() int64 {
			done := make([]bool, n)
			last := map[string]bool{} // key → its previous message completed
			for i := range n {
				prevOK, seen := last[keys[i]]
				if keys[i] == "" {
					prevOK, seen = true, true
				}
				done[i] = released[i] && (!seen || prevOK)
				if keys[i] != "" {
					last[keys[i]] = done[i]
				}
			}
			for i := range n {
				if !done[i] {
					return int64(i)
				}
			}
			return int64(n)
		}
		for _, i := range r.Perm(n) {
			released[i] = true
			close(gates[i])
			want := oracle()
			waitFor(t, d, func() bool {
				w, ok := d.Watermarks()[TopicPartition{"t", 0}]
				if want == 0 {
					return !ok
				}
				return ok && w == want
			})
		}
		require.True(t, d.Drain(time.Second))
		require.Equal(t, int64(n), d.Watermarks()[TopicPartition{"t", 0}])
		d.Close()
	}
}

func TestRedeliveryAndPanics(t *testing.T) {
	var mu sync.Mutex
	var deliveries []int
	calls := 0
	d := New(Config{MaxInFlight: 4, RedeliveryDelay: time.Millisecond, Handler: func(ctx context.Context, m *events.Message) error {
		mu.Lock()
		defer mu.Unlock()
		deliveries = append(deliveries, m.Delivery)
		calls++
		switch calls {
		case 1:
			return errors.New("transient")
		case 2:
			panic("boom")
		}
		return nil
	}})
	defer d.Close()
	require.NoError(t, d.Submit(context.Background(), &events.Message{Topic: "t", Key: "k", Offset: 10}))
	require.True(t, d.Drain(5*time.Second))
	require.Equal(t, []int{1, 2, 3}, deliveries)
	require.Equal(t, map[TopicPartition]int64{{"t", 0}: 11}, d.Watermarks())
}

func TestInFlightBoundAndAbort(t *testing.T) {
	block := make(chan struct{})
	d := New(Config{MaxInFlight: 2, Handler: func(ctx context.Context, m *events.Message) error {
		select {
		case <-block:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	ctx := context.Background()
	require.NoError(t, d.Submit(ctx, &events.Message{Topic: "t", Key: "a", Offset: 0}))
	require.NoError(t, d.Submit(ctx, &events.Message{Topic: "t", Key: "b", Offset: 1}))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, d.Submit(cancelled, &events.Message{Topic: "t", Key: "c", Offset: 2}), context.Canceled,
		"a third message waits for room")

	d.Abort(5 * time.Second)
	require.Empty(t, d.Watermarks(), "nothing finished, nothing to commit")
	require.Error(t, d.Submit(ctx, &events.Message{Topic: "t", Key: "d", Offset: 3}), "an aborted dispatcher takes nothing")
	close(block)
}

func TestDrainTimeoutCancelsHandlers(t *testing.T) {
	d := New(Config{MaxInFlight: 2, Handler: func(ctx context.Context, m *events.Message) error {
		if m.Offset == 0 {
			return nil
		}
		<-ctx.Done() // stuck until cancelled
		return ctx.Err()
	}})
	ctx := context.Background()
	require.NoError(t, d.Submit(ctx, &events.Message{Topic: "t", Key: "a", Offset: 0}))
	require.NoError(t, d.Submit(ctx, &events.Message{Topic: "t", Key: "b", Offset: 1}))
	require.False(t, d.Drain(20*time.Millisecond), "the stuck handler did not finish")
	require.Equal(t, map[TopicPartition]int64{{"t", 0}: 1}, d.Watermarks(), "only the finished prefix counts")
}
