package eventstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

// Bus is what the suite tests: a publisher and a subscriber on one broker.
// Every call to Subscribe is a separate member of its group.
type Bus interface {
	events.Publisher
	events.Subscriber
}

// Env is a bus for one test.
type Env struct {
	Bus Bus
	// Restart restarts the broker behind Bus, keeping its data (topics,
	// records, committed offsets). nil when there is no broker to restart
	// (membus): the restart test is then skipped.
	Restart func()
}

// Harness tells the suite how to get a bus.
type Harness struct {
	// New returns a bus on a namespace of its own for one test (fresh topics
	// and groups), and registers its cleanup with t. Every topic the suite uses
	// is one of events.Topics(). Tests run in parallel.
	New func(t *testing.T) Env
	// Timeout bounds every wait for deliveries (0: 30 s).
	Timeout time.Duration
}

func (h Harness) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return 30 * time.Second
}

// The topic the suite publishes to, and its dead-letter topic.
const topic = events.TopicRankingFeatures

var deadTopic = events.DeadLetterTopic(topic)

// Run runs the conformance suite: every bus implementation must pass it.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"RejectsBadInput", testRejectsBadInput},
		{"OrderPerKey", testOrderPerKey},
		{"BoundedInFlight", testBoundedInFlight},
		{"RedeliveryOnError", testRedeliveryOnError},
		{"PanicIsRecovered", testPanicIsRecovered},
		{"CleanStopCommits", testCleanStopCommits},
		{"CrashRedelivers", testCrashRedelivers},
		{"Rebalance", testRebalance},
		{"Dedup", testDedup},
		{"DeadLetterAfterRetries", testDeadLetterAfterRetries},
		{"BadInputDeadLettered", testBadInputDeadLettered},
		{"Replay", testReplay},
		{"NoLossAcrossRestart", testNoLossAcrossRestart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h)
		})
	}
}

// payload is the data of the suite's events.
type payload struct {
	Key string `json:"key"`
	Seq int    `json:"seq"`
}

// makeEvents returns n events per key, seq 0…n-1, interleaved by seq.
func makeEvents(t *testing.T, keys []string, n int) []events.Event {
	t.Helper()
	var out []events.Event
	for seq := range n {
		for _, k := range keys {
			e, err := events.New(context.Background(), events.Event{Type: "test.event", Source: "eventstest", Key: k}, payload{Key: k, Seq: seq})
			require.NoError(t, err)
			out = append(out, e)
		}
	}
	return out
}

func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func publish(t *testing.T, p events.Publisher, topic string, evs []events.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for chunk := range slices.Chunk(evs, 500) {
		require.NoError(t, events.PublishEvents(ctx, p, topic, chunk...))
	}
}

// delivery is one handler call as the recorder saw it.
type delivery struct {
	member    string
	id        string
	key       string
	seq       int
	partition int
	offset    int64
	delivery  int
	headers   map[string]string
	value     []byte
	topic     string
	time      time.Time
}

// recorder collects deliveries and lets a test wait for a condition on them.
type recorder struct {
	mu      sync.Mutex
	list    []delivery
	count   map[string]int // event id → deliveries
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{count: map[string]int{}, changed: make(chan struct{})}
}

func (r *recorder) add(d delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, d)
	r.count[d.id]++
	close(r.changed)
	r.changed = make(chan struct{})
}

// handler records every delivery of a decodable event for member and then
// calls next (nil: succeed).
func (r *recorder) handler(member string, next events.Handler) events.Handler {
	return func(ctx context.Context, m *events.Message) error {
		d := delivery{member: member, partition: m.Partition, offset: m.Offset, delivery: m.Delivery,
			headers: m.Headers, value: m.Value, topic: m.Topic, time: m.Time, seq: -1}
		if e, err := m.Event(); err == nil {
			var p payload
			if e.DecodeData(&p) == nil {
				d.seq = p.Seq
			}
			d.id, d.key = e.ID, e.Key
		} else {
			d.id = events.EventIDOf(m)
		}
		r.add(d)
		if next == nil {
			return nil
		}
		return next(ctx, m)
	}
}

// handlerDone calls next first and records the delivery only when it
// returned nil: waiting for a record then means the handler has finished.
func (r *recorder) handlerDone(member string, next events.Handler) events.Handler {
	return func(ctx context.Context, m *events.Message) error {
		if err := next(ctx, m); err != nil {
			return err
		}
		return r.handler(member, nil)(ctx, m)
	}
}

func (r *recorder) snapshot() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.list)
}

func (r *recorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.count)
}

// waitUntil blocks until cond (called under the recorder's lock) holds, or
// fails the test after timeout.
func (r *recorder) waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		ch := r.changed
		n := len(r.list)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s (%d deliveries so far)", timeout, what, n)
		}
	}
}

// waitIDs waits until every id has been delivered at least once.
func (r *recorder) waitIDs(t *testing.T, timeout time.Duration, evs []events.Event) {
	t.Helper()
	r.waitUntil(t, timeout, fmt.Sprintf("%d events", len(evs)), func() bool {
		for _, e := range evs {
			if r.count[e.ID] == 0 {
				return false
			}
		}
		return true
	})
}

// running is a Subscribe call in a goroutine.
type running struct {
	cancel context.CancelCauseFunc
	done   chan error
	once   sync.Once
	err    error
}

func start(t *testing.T, s events.Subscriber, sub events.Subscription, h events.Handler) *running {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Subscribe(ctx, sub, h) }()
	t.Cleanup(func() { _ = r.stop(t, nil) }) // a failure to stop is reported by the test that stopped it first
	return r
}

// stop cancels the subscription with cause (nil: a clean stop) and returns
// what Subscribe returned.
func (r *running) stop(t *testing.T, cause error) error {
	r.once.Do(func() {
		r.cancel(cause)
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			r.err = errors.New("eventstest: Subscribe did not return within 60 s of its cancellation")
			t.Error(r.err)
		}
	})
	return r.err
}

func sub(group string, maxInFlight int) events.Subscription {
	return events.Subscription{Group: group, Topics: []string{topic}, MaxInFlight: maxInFlight, RedeliveryDelay: 10 * time.Millisecond}
}

func testRoundTrip(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, keys("k", 5), 10)
	msgs := make([]events.Message, len(evs))
	for i, e := range evs {
		m, err := e.Message(topic)
		require.NoError(t, err)
		m.Headers["x-test"] = strconv.Itoa(i)
		msgs[i] = m
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	require.NoError(t, bus.Publish(ctx, msgs...))

	rec := newRecorder()
	start(t, bus, sub("roundtrip", 8), rec.handler("a", nil))
	rec.waitIDs(t, h.timeout(), evs)

	byID := map[string]delivery{}
	for _, d := range rec.snapshot() {
		byID[d.id] = d
	}
	for i, e := range evs {
		d := byID[e.ID]
		require.Equal(t, topic, d.topic, "the logical topic is reported, without any prefix")
		require.Equal(t, e.Key, d.key)
		require.Equal(t, msgs[i].Value, d.value, "the value arrives byte for byte")
		require.Equal(t, strconv.Itoa(i), d.headers["x-test"], "headers are kept")
		require.Equal(t, e.ID, d.headers[events.HeaderEventID])
		require.Equal(t, 1, d.delivery)
		require.False(t, d.time.IsZero(), "the broker time is set")
		require.GreaterOrEqual(t, d.offset, int64(0))
	}
}

func testRejectsBadInput(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	ctx := context.Background()
	err := bus.Publish(ctx, events.Message{Topic: "", Value: []byte("x")})
	require.ErrorIs(t, err, events.ErrInvalid, "an empty topic is rejected")
	err = bus.Publish(ctx, events.Message{Topic: topic, Value: make([]byte, events.MaxEventSize+1)})
	require.ErrorIs(t, err, events.ErrInvalid, "an oversized value is rejected")

	for _, s := range []events.Subscription{
		{Topics: []string{topic}},
		{Group: "g"},
		{Group: "g", Topics: []string{topic, topic}},
		{Group: "g", Topics: []string{topic}, MaxInFlight: -1},
	} {
		err := bus.Subscribe(ctx, s, func(context.Context, *events.Message) error { return nil })
		require.ErrorIs(t, err, events.ErrInvalid, "subscription %+v", s)
	}
	// A valid message published after bad ones is the only one delivered.
	good := makeEvents(t, []string{"k"}, 1)
	publish(t, bus, topic, good)
	rec := newRecorder()
	start(t, bus, sub("bad-input", 4), rec.handler("a", nil))
	rec.waitIDs(t, h.timeout(), good)
	require.Equal(t, 1, rec.distinct())
}

// checkOrder asserts that, per key, no delivery skips ahead: every seq is at
// most one more than the highest seq delivered before it for that key
// (redeliveries may repeat earlier ones).
func checkOrder(t *testing.T, ds []delivery) {
	t.Helper()
	maxSeen := map[string]int{}
	for _, d := range ds {
		if d.seq < 0 {
			continue
		}
		m, ok := maxSeen[d.key]
		if !ok {
			m = -1
		}
		require.LessOrEqualf(t, d.seq, m+1, "key %s: seq %d delivered after seq %d only (member %s)", d.key, d.seq, m, d.member)
		maxSeen[d.key] = max(m, d.seq)
	}
}

func testOrderPerKey(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	ks := keys("order-", 20)
	evs := makeEvents(t, ks, 40)
	publish(t, bus, topic, evs)

	rec := newRecorder()
	var mu sync.Mutex
	busy := map[string]bool{}
	next := map[string]int{}
	var violation atomic.Value
	start(t, bus, sub("order", 16), rec.handlerDone("a", func(ctx context.Context, m *events.Message) error {
		e, err := m.Event()
		if err != nil {
			return err
		}
		var p payload
		if err := e.DecodeData(&p); err != nil {
			return err
		}
		mu.Lock()
		if busy[e.Key] {
			violation.Store("two handlers ran at once for key " + e.Key)
		}
		if p.Seq != next[e.Key] {
			violation.Store(fmt.Sprintf("key %s: got seq %d, want %d", e.Key, p.Seq, next[e.Key]))
		}
		busy[e.Key] = true
		mu.Unlock()
		time.Sleep(time.Duration(p.Seq%3) * 100 * time.Microsecond) // let other keys interleave
		mu.Lock()
		busy[e.Key] = false
		next[e.Key] = p.Seq + 1
		mu.Unlock()
		return nil
	}))
	rec.waitIDs(t, h.timeout(), evs)
	require.Nil(t, violation.Load())
	for _, k := range ks {
		require.Equal(t, 40, next[k], "key %s", k)
	}
	checkOrder(t, rec.snapshot())
}

func testBoundedInFlight(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, keys("bound-", 24), 1)
	publish(t, bus, topic, evs)

	const limit = 4
	var cur, peak atomic.Int32
	release := make(chan struct{})
	rec := newRecorder()
	start(t, bus, sub("bounded", limit), rec.handler("a", func(ctx context.Context, m *events.Message) error {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		cur.Add(-1)
		return nil
	}))
	rec.waitUntil(t, h.timeout(), "the in-flight limit to be reached", func() bool { return len(rec.list) >= limit })
	close(release)
	rec.waitIDs(t, h.timeout(), evs)
	require.LessOrEqual(t, peak.Load(), int32(limit), "never more than MaxInFlight handlers at once")
	require.Equal(t, int32(limit), peak.Load(), "the limit was reached")
}

func testRedeliveryOnError(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, []string{"same"}, 3) // seq 0, 1, 2 on one key
	publish(t, bus, topic, evs)

	var failures atomic.Int32
	rec := newRecorder()
	start(t, bus, sub("redeliver", 8), rec.handler("a", func(ctx context.Context, m *events.Message) error {
		if e, _ := m.Event(); e.ID == evs[0].ID && failures.Add(1) <= 2 {
			return errors.New("transient")
		}
		return nil
	}))
	rec.waitIDs(t, h.timeout(), evs)
	ds := rec.snapshot()
	require.GreaterOrEqual(t, len(ds), 5)
	for i, want := range []int{1, 2, 3} {
		require.Equal(t, evs[0].ID, ds[i].id, "the failed message is delivered again before the next one of its key")
		require.Equal(t, want, ds[i].delivery)
	}
	require.Equal(t, evs[1].ID, ds[3].id)
	require.Equal(t, evs[2].ID, ds[4].id)
}

func testPanicIsRecovered(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, []string{"p"}, 2)
	publish(t, bus, topic, evs)
	var panicked atomic.Bool
	rec := newRecorder()
	r := start(t, bus, sub("panic", 4), rec.handler("a", func(ctx context.Context, m *events.Message) error {
		if e, _ := m.Event(); e.ID == evs[0].ID && panicked.CompareAndSwap(false, true) {
			panic("boom")
		}
		return nil
	}))
	rec.waitIDs(t, h.timeout(), evs)
	ds := rec.snapshot()
	require.Equal(t, evs[0].ID, ds[0].id)
	require.Equal(t, evs[0].ID, ds[1].id, "the message whose handler panicked is delivered again")
	require.Equal(t, 2, ds[1].delivery)
	require.NoError(t, r.stop(t, nil), "the subscription survived the panic and stops cleanly")
}

func testCleanStopCommits(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	ks := keys("clean-", 8)
	first := makeEvents(t, ks, 10)
	publish(t, bus, topic, first)
	rec1 := newRecorder()
	r := start(t, bus, sub("clean", 8), rec1.handler("a", nil))
	rec1.waitIDs(t, h.timeout(), first)
	require.NoError(t, r.stop(t, nil), "a clean stop returns nil")

	second := makeEvents(t, ks, 5)
	publish(t, bus, topic, second)
	rec2 := newRecorder()
	start(t, bus, sub("clean", 8), rec2.handler("b", nil))
	rec2.waitIDs(t, h.timeout(), second)
	// Each key's new events come after its old ones in the partition, so any
	// redelivered old event would have arrived before the last new one.
	old := map[string]bool{}
	for _, e := range first {
		old[e.ID] = true
	}
	for _, d := range rec2.snapshot() {
		require.False(t, old[d.id], "an event handled before a clean stop is not delivered again (offset %d)", d.offset)
	}
}

func testCrashRedelivers(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, keys("crash-", 16), 8)
	blocker := evs[len(evs)/2]
	publish(t, bus, topic, evs)

	rec1 := newRecorder()
	blocked := make(chan struct{})
	var once sync.Once
	r := start(t, bus, sub("crash", 32), rec1.handler("a", func(ctx context.Context, m *events.Message) error {
		if e, _ := m.Event(); e.ID == blocker.ID {
			once.Do(func() { close(blocked) })
			<-ctx.Done() // never finishes: the crash comes first
			return ctx.Err()
		}
		return nil
	}))
	<-blocked
	// Wait until everything else that can be handled is: every event except
	// the blocker and the later events of its key.
	rec1.waitUntil(t, h.timeout(), "all other keys", func() bool {
		for _, e := range evs {
			if e.Key != blocker.Key && rec1.count[e.ID] == 0 {
				return false
			}
		}
		return true
	})
	err := r.stop(t, events.ErrAbort)
	require.ErrorIs(t, err, events.ErrAbort, "an aborted Subscribe returns the cause")

	var blockerD delivery
	for _, d := range rec1.snapshot() {
		if d.id == blocker.ID {
			blockerD = d
		}
	}
	// Redelivered must be: the blocker, the later events of its key, and what
	// the first member handled after it in its partition (not committed).
	want := map[string]bool{}
	for i, e := range evs {
		if e.Key == blocker.Key && i >= len(evs)/2 {
			want[e.ID] = true
		}
	}
	require.True(t, want[blocker.ID])
	require.Len(t, want, 4)
	for _, d := range rec1.snapshot() {
		if d.partition == blockerD.partition && d.offset > blockerD.offset {
			want[d.id] = true
		}
	}
	rec2 := newRecorder()
	start(t, bus, sub("crash", 32), rec2.handler("b", nil))
	rec2.waitUntil(t, h.timeout(), "the uncommitted events", func() bool {
		for id := range want {
			if rec2.count[id] == 0 {
				return false
			}
		}
		return true
	})
	all := map[string]bool{}
	for _, d := range append(rec1.snapshot(), rec2.snapshot()...) {
		all[d.id] = true
	}
	require.Len(t, all, len(evs), "nothing is lost")
}

func testRebalance(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	ks := keys("reb-", 24)
	rec := newRecorder()
	a := start(t, bus, sub("rebalance", 16), rec.handler("a", nil))
	batch1 := makeEvents(t, ks, 3)
	publish(t, bus, topic, batch1)
	rec.waitIDs(t, h.timeout(), batch1)

	start(t, bus, sub("rebalance", 16), rec.handler("b", nil))
	// Keep publishing until the new member has received some of the work.
	deadline := time.Now().Add(h.timeout())
	var all []events.Event
	all = append(all, batch1...)
	for {
		batch := makeEvents(t, ks, 1)
		all = append(all, batch...)
		publish(t, bus, topic, batch)
		rec.waitIDs(t, h.timeout(), batch)
		handledByB := 0
		for _, d := range rec.snapshot() {
			if d.member == "b" {
				handledByB++
			}
		}
		if handledByB > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the second member never got a partition")
	}
	require.NoError(t, a.stop(t, nil))
	before := len(rec.snapshot())
	last := makeEvents(t, ks, 3)
	all = append(all, last...)
	publish(t, bus, topic, last)
	rec.waitIDs(t, h.timeout(), all)
	ds := rec.snapshot()
	for _, d := range ds[before:] {
		require.Equal(t, "b", d.member, "after a left, b handles everything")
	}
	checkOrder(t, ds)
}

func testDedup(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, keys("dup-", 4), 5)
	publish(t, bus, topic, evs)
	publish(t, bus, topic, evs[:7]) // the same events (same ids) again

	ded := NewDeduper()
	var mu sync.Mutex
	applied := map[string]int{}
	var dups atomic.Int32
	apply := func(ctx context.Context, m *events.Message) error {
		e, err := m.Event()
		if err != nil {
			return err
		}
		mu.Lock()
		applied[e.ID]++
		mu.Unlock()
		return nil
	}
	rec := newRecorder()
	start(t, bus, sub("dedup", 8), rec.handlerDone("a", events.Chain(apply,
		events.Observe(func(o events.Observation) {
			if o.Outcome == events.OutcomeDuplicate {
				dups.Add(1)
			}
		}),
		events.Dedup(ded, "suite", nil))))
	rec.waitUntil(t, h.timeout(), "27 deliveries", func() bool { return len(rec.list) >= len(evs)+7 })
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, applied, len(evs))
	for id, n := range applied {
		require.Equal(t, 1, n, "event %s applied once", id)
	}
	require.Equal(t, int32(7), dups.Load(), "the repeats are reported as duplicates")
}

// dlqChain is the standard chain with a tiny retry policy.
func dlqChain(t *testing.T, bus Bus, store events.DeadLetterStore, attempts int, h events.Handler) events.Handler {
	t.Helper()
	dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: bus, Store: store})
	require.NoError(t, err)
	return events.Chain(h, dlq, events.Retry(events.RetryPolicy{MaxAttempts: attempts, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}), events.Recover())
}

func testDeadLetterAfterRetries(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, []string{"poison", "fine"}, 3)
	poison := evs[0] // key "poison", seq 0
	publish(t, bus, topic, evs)

	store := NewDeadLetters()
	var attempts atomic.Int32
	rec := newRecorder()
	start(t, bus, sub("dlq", 8), rec.handler("a", dlqChain(t, bus, store, 3, func(ctx context.Context, m *events.Message) error {
		if e, _ := m.Event(); e.ID == poison.ID {
			attempts.Add(1)
			return errors.New("cannot apply this one")
		}
		return nil
	})))
	dead := newRecorder()
	start(t, bus, events.Subscription{Group: "dlq-watch", Topics: []string{deadTopic}}, dead.handler("w", nil))

	rec.waitIDs(t, h.timeout(), evs) // later events of the poisoned key are not blocked
	dead.waitIDs(t, h.timeout(), evs[:1])
	require.Equal(t, int32(3), attempts.Load(), "three attempts, then the dead letter")

	letters, err := store.ListDeadLetters(context.Background(), events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, letters, 1)
	l := letters[0]
	require.Equal(t, poison.ID, l.EventID)
	require.Equal(t, topic, l.Topic)
	require.Equal(t, deadTopic, l.DeadTopic)
	require.Equal(t, 3, l.Attempts)
	require.Contains(t, l.Error, "cannot apply this one")
	require.Equal(t, "poison", l.Key)
	wantValue, err := poison.Marshal()
	require.NoError(t, err)
	require.Equal(t, wantValue, l.Payload)

	dd := dead.snapshot()[0]
	require.Equal(t, deadTopic, dd.topic)
	require.Equal(t, wantValue, dd.value, "the dead-letter topic gets the message unchanged")
	require.Equal(t, "3", dd.headers[events.HeaderDeadAttempts])
	require.Equal(t, topic, dd.headers[events.HeaderDeadTopic])
	require.Contains(t, dd.headers[events.HeaderDeadError], "cannot apply this one")
}

func testBadInputDeadLettered(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	good := makeEvents(t, []string{"k"}, 2)
	v2 := []byte(`{"v":2,"id":"0190f5e0-0000-7000-8000-000000000000","type":"x","source":"s","time":"2026-01-01T00:00:00Z"}`)
	msgs := []events.Message{
		{Topic: topic, Key: "k", Value: []byte("this is not json")},
		{Topic: topic, Key: "k", Value: v2},
		{Topic: topic, Key: "k", Value: []byte(`{"v":1,"id":"nope","type":"x"}`)},
	}
	for _, e := range good {
		m, err := e.Message(topic)
		require.NoError(t, err)
		msgs = append(msgs, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	require.NoError(t, bus.Publish(ctx, msgs...))

	store := NewDeadLetters()
	var handled atomic.Int32
	rec := newRecorder()
	start(t, bus, sub("badinput", 8), rec.handlerDone("a", dlqChain(t, bus, store, 5, events.HandleEvents(func(ctx context.Context, e events.Event) error {
		handled.Add(1)
		return nil
	}))))
	rec.waitIDs(t, h.timeout(), good) // the partition is not blocked by the bad ones before them
	require.Equal(t, int32(2), handled.Load())

	letters, err := store.ListDeadLetters(context.Background(), events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, letters, 3)
	slices.SortFunc(letters, func(a, b events.DeadLetter) int { return int(a.ID - b.ID) })
	require.Contains(t, letters[0].Error, "not a JSON event")
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, letters[0].EventID)
	require.Equal(t, []byte("this is not json"), letters[0].Payload)
	require.Contains(t, letters[1].Error, "version 2 is not supported")
	require.Equal(t, "0190f5e0-0000-7000-8000-000000000000", letters[1].EventID, "a readable id is kept")
	require.Contains(t, letters[2].Error, "id: must be a UUIDv7")
	for _, l := range letters {
		require.Equal(t, 1, l.Attempts, "bad input is not retried")
	}
}

func testReplay(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	evs := makeEvents(t, []string{"replay"}, 1)
	publish(t, bus, topic, evs)

	store := NewDeadLetters()
	var broken atomic.Bool
	broken.Store(true)
	var fixedDeliveries sync.Map
	rec := newRecorder()
	start(t, bus, sub("replay", 8), rec.handlerDone("a", dlqChain(t, bus, store, 2, func(ctx context.Context, m *events.Message) error {
		if broken.Load() {
			return errors.New("dependency down")
		}
		fixedDeliveries.Store(m.Headers[events.HeaderReplay], true)
		return nil
	})))
	audit := newRecorder()
	start(t, bus, events.Subscription{Group: "audit-watch", Topics: []string{events.TopicAudit}}, audit.handler("w", nil))

	dead := newRecorder()
	start(t, bus, events.Subscription{Group: "dlq-watch", Topics: []string{deadTopic}}, dead.handler("w", nil))
	dead.waitIDs(t, h.timeout(), evs) // recorded in the store before it is published
	letters, err := store.ListDeadLetters(context.Background(), events.DeadLetterFilter{Status: events.DeadLetterOpen})
	require.NoError(t, err)
	require.Len(t, letters, 1)
	letter := letters[0]
	require.Equal(t, 2, letter.Attempts)

	rp, err := events.NewReplayer(store, bus, nil)
	require.NoError(t, err)
	_, err = rp.Replay(context.Background(), letter.ID, "")
	require.ErrorIs(t, err, events.ErrInvalid, "an actor is required")

	broken.Store(false)
	got, err := rp.Replay(context.Background(), letter.ID, "admin@example.com")
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterReplayed, got.Status)
	require.Equal(t, 1, got.ReplayCount)
	rec.waitUntil(t, h.timeout(), "the replayed delivery", func() bool { return len(rec.list) >= 2 })
	ds := rec.snapshot()
	require.Equal(t, evs[0].ID, ds[1].id)
	require.Equal(t, "1", ds[1].headers[events.HeaderReplay], "the replay carries its count")
	_, ok := fixedDeliveries.Load("1")
	require.True(t, ok, "the fixed handler processed the replay")

	_, err = rp.Replay(context.Background(), letter.ID, "admin@example.com")
	require.ErrorIs(t, err, events.ErrConflict, "a replayed letter is not replayed again")

	audit.waitUntil(t, h.timeout(), "the audit event", func() bool { return len(audit.list) >= 1 })
	m := &events.Message{Value: audit.snapshot()[0].value}
	e, err := m.Event()
	require.NoError(t, err)
	require.Equal(t, events.AuditEventType, e.Type)
	var a events.AdminAction
	require.NoError(t, e.DecodeData(&a))
	require.Equal(t, "admin@example.com", a.Actor)
	require.Equal(t, events.ActionReplay, a.Action)
	require.Equal(t, fmt.Sprintf("dead_letter:%d", letter.ID), a.Target)
	require.Equal(t, "ok", a.Outcome)
}

func testNoLossAcrossRestart(t *testing.T, h Harness) {
	env := h.New(t)
	bus := env.Bus
	if env.Restart == nil {
		t.Skip("this bus has no broker to restart")
	}
	ks := keys("restart-", 10)
	before := makeEvents(t, ks, 10)
	publish(t, bus, topic, before)
	rec := newRecorder()
	start(t, bus, sub("restart", 16), rec.handler("a", nil))
	rec.waitIDs(t, h.timeout(), before)

	env.Restart()
	after := makeEvents(t, ks, 10)
	publish(t, bus, topic, after) // the publisher reconnects and retries
	rec.waitIDs(t, 2*h.timeout(), append(before, after...))
	checkOrder(t, rec.snapshot())
}
