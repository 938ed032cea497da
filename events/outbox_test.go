package events_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

// fakeOutbox is a single-relay outbox: enough to test the Relay's logic.
type fakeOutbox struct {
	mu       sync.Mutex
	rows     []events.OutboxRecord
	sent     map[int64]bool
	attempts map[int64]int
	claimErr error
}

func newFakeOutbox() *fakeOutbox {
	return &fakeOutbox{sent: map[int64]bool{}, attempts: map[int64]int{}}
}

func (f *fakeOutbox) EnqueueOutbox(_ context.Context, topic, key string, payload []byte) error {
	if err := events.ValidateOutbox(topic, key, payload); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, events.OutboxRecord{ID: int64(len(f.rows) + 1), Topic: topic, Key: key, Payload: payload})
	return nil
}

func (f *fakeOutbox) RelayOutbox(ctx context.Context, limit int, publish func(context.Context, []events.OutboxRecord) []error) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claimErr != nil {
		return 0, f.claimErr
	}
	var batch []events.OutboxRecord
	for _, r := range f.rows {
		if !f.sent[r.ID] && len(batch) < limit {
			r.Attempts = f.attempts[r.ID]
			batch = append(batch, r)
		}
	}
	if len(batch) == 0 {
		return 0, nil
	}
	errs := publish(ctx, batch)
	n := 0
	for i, r := range batch {
		if errs == nil || errs[i] == nil {
			f.sent[r.ID] = true
			n++
		} else {
			f.attempts[r.ID]++
		}
	}
	return n, nil
}

func (f *fakeOutbox) OutboxBacklog(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.rows) - len(f.sent)), nil
}

func TestRelayPublishesInOrder(t *testing.T) {
	ctx := context.Background()
	store, pub := newFakeOutbox(), &fakePublisher{}
	for i := range 7 {
		e := newEvent(t)
		e.Key = "k" + strconv.Itoa(i%2)
		require.NoError(t, events.Enqueue(ctx, store, events.TopicAudit, e))
	}
	r, err := events.NewRelay(store, pub, &events.RelayOptions{BatchSize: 3})
	require.NoError(t, err)
	for _, want := range []int{3, 3, 1, 0} {
		n, err := r.RelayOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, want, n)
	}
	got := pub.published()
	require.Len(t, got, 7)
	for i, m := range got {
		require.Equal(t, strconv.Itoa(i+1), m.Headers[events.HeaderOutboxID])
		require.Equal(t, events.TopicAudit, m.Topic)
		_, err := m.Event()
		require.NoError(t, err, "the payload is the encoded event")
	}
	n, err := r.Backlog(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	bad := newEvent(t)
	bad.ID = "nope"
	require.ErrorIs(t, events.Enqueue(ctx, store, events.TopicAudit, bad), events.ErrInvalid)
}

// A failing batch falls back to one row at a time: rows of other keys go
// out, rows behind a failed one of their key wait, and the next round
// delivers them in order.
func TestRelayIsolatesAFailingRow(t *testing.T) {
	ctx := context.Background()
	store := newFakeOutbox()
	for i, key := range []string{"a", "b", "a", "c", "b"} {
		require.NoError(t, store.EnqueueOutbox(ctx, events.TopicAudit, key, []byte(strconv.Itoa(i))))
	}
	poisoned := true
	pub := &fakePublisher{failIf: func(m events.Message) bool { return poisoned && string(m.Value) == "1" }} // first "b"
	r, err := events.NewRelay(store, pub, nil)
	require.NoError(t, err)

	n, err := r.RelayOnce(ctx)
	require.Error(t, err, "the round reports the failure")
	require.Equal(t, 5, n)
	var values []string
	for _, m := range pub.published() {
		values = append(values, string(m.Value))
	}
	require.Equal(t, []string{"0", "2", "3"}, values, "a and c go out; b's second row waits behind its first")
	backlog, _ := store.OutboxBacklog(ctx)
	require.EqualValues(t, 2, backlog)

	poisoned = false
	_, err = r.RelayOnce(ctx)
	require.NoError(t, err)
	values = nil
	for _, m := range pub.published() {
		values = append(values, string(m.Value))
	}
	require.Equal(t, []string{"0", "2", "3", "1", "4"}, values, "b's rows follow in order")
	require.Equal(t, 1, store.attempts[2], "the failure was counted")
}

func TestRelayStopsTryingAfterRepeatedFailures(t *testing.T) {
	ctx := context.Background()
	store := newFakeOutbox()
	for i := range 10 {
		require.NoError(t, store.EnqueueOutbox(ctx, events.TopicAudit, "k"+strconv.Itoa(i), []byte("x")))
	}
	pub := &fakePublisher{err: errors.New("broker down")}
	r, err := events.NewRelay(store, pub, nil)
	require.NoError(t, err)
	_, err = r.RelayOnce(ctx)
	require.ErrorContains(t, err, "10 of 10 rows not published")
	require.Equal(t, 1+3, pub.calls, "one batch, then three single rows, then it gives up for this round")
}

func TestRelayRun(t *testing.T) {
	store, pub := newFakeOutbox(), &fakePublisher{}
	backlogs := make(chan int64, 100)
	r, err := events.NewRelay(store, pub, &events.RelayOptions{
		PollInterval: time.Hour, BacklogInterval: time.Nanosecond,
		Backlog: func(n int64) { backlogs <- n },
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	require.EqualValues(t, 0, <-backlogs, "the backlog is reported when idle")

	require.NoError(t, store.EnqueueOutbox(ctx, events.TopicAudit, "k", []byte("x")))
	r.Notify() // wakes the relay long before PollInterval
	for n := range backlogs {
		if n == 0 && len(pub.published()) == 1 {
			break
		}
	}
	cancel()
	require.NoError(t, <-done, "Run returns nil when its context ends")
}

func TestNewRelayValidates(t *testing.T) {
	_, err := events.NewRelay(nil, &fakePublisher{}, nil)
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = events.NewRelay(newFakeOutbox(), nil, nil)
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = events.NewRelay(newFakeOutbox(), &fakePublisher{}, &events.RelayOptions{BatchSize: -1})
	require.ErrorIs(t, err, events.ErrInvalid)
}
