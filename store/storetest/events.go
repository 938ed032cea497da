package storetest

import (
	"bytes"
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

// OutboxStore is the outbox contract as the suite tests it: the relay's side
// and a writer for rows without a transaction.
type OutboxStore interface {
	events.OutboxStore
	events.OutboxWriter
}

// TestOutbox runs the outbox conformance suite. newStore must return a fresh,
// empty store for each call.
func TestOutbox(t *testing.T, newStore func(t *testing.T) OutboxStore) {
	t.Run("RelayInIDOrder", func(t *testing.T) { testOutboxOrder(t, newStore(t)) })
	t.Run("LimitAndBacklog", func(t *testing.T) { testOutboxLimit(t, newStore(t)) })
	t.Run("FailedRowsStayUnsent", func(t *testing.T) { testOutboxFailures(t, newStore(t)) })
	t.Run("BadInputChangesNothing", func(t *testing.T) { testOutboxBadInput(t, newStore(t)) })
	t.Run("ClaimsAreExclusiveAndKeepKeyOrder", func(t *testing.T) { testOutboxClaims(t, newStore(t)) })
	t.Run("ConcurrentRelaysNeverRepeatOrReorder", func(t *testing.T) { testOutboxConcurrent(t, newStore(t)) })
}

func enqueue(t *testing.T, s events.OutboxWriter, topic, key string, payload string) {
	t.Helper()
	require.NoError(t, s.EnqueueOutbox(context.Background(), topic, key, []byte(payload)))
}

func backlog(t *testing.T, s events.OutboxStore) int64 {
	t.Helper()
	n, err := s.OutboxBacklog(context.Background())
	require.NoError(t, err)
	return n
}

// relay runs one RelayOutbox with publish results from fail (nil: all sent)
// and returns the batch it was given.
func relay(t *testing.T, s events.OutboxStore, limit int, fail func(events.OutboxRecord) error) ([]events.OutboxRecord, int) {
	t.Helper()
	var got []events.OutboxRecord
	n, err := s.RelayOutbox(context.Background(), limit, func(_ context.Context, batch []events.OutboxRecord) []error {
		got = slices.Clone(batch)
		if fail == nil {
			return nil
		}
		errs := make([]error, len(batch))
		for i, r := range batch {
			errs[i] = fail(r)
		}
		return errs
	})
	require.NoError(t, err)
	return got, n
}

func testOutboxOrder(t *testing.T, s OutboxStore) {
	type row struct{ topic, key, payload string }
	var want []row
	for i := range 12 {
		r := row{events.TopicAudit, "k" + strconv.Itoa(i%3), fmt.Sprintf(`{"n":%d}`, i)}
		if i%5 == 4 {
			r.key = "" // no ordering needed
		}
		want = append(want, r)
		enqueue(t, s, r.topic, r.key, r.payload)
	}
	require.EqualValues(t, 12, backlog(t, s))
	batch, n := relay(t, s, 100, nil)
	require.Equal(t, 12, n)
	require.Len(t, batch, 12)
	for i, rec := range batch {
		require.Equal(t, want[i].topic, rec.Topic)
		require.Equal(t, want[i].key, rec.Key)
		require.Equal(t, want[i].payload, string(rec.Payload))
		require.Zero(t, rec.Attempts)
		require.False(t, rec.CreatedAt.IsZero())
		if i > 0 {
			require.Greater(t, rec.ID, batch[i-1].ID, "rows come in id order")
		}
	}
	require.Zero(t, backlog(t, s))
	again, n := relay(t, s, 100, nil)
	require.Empty(t, again, "sent rows are not handed out again")
	require.Zero(t, n)
}

func testOutboxLimit(t *testing.T, s OutboxStore) {
	for i := range 25 {
		enqueue(t, s, events.TopicAnalytics, "user-"+strconv.Itoa(i), "x")
	}
	batch, n := relay(t, s, 10, nil)
	require.Len(t, batch, 10)
	require.Equal(t, 10, n)
	require.EqualValues(t, 15, backlog(t, s))
	batch, _ = relay(t, s, 10, nil)
	require.Equal(t, "user-10", batch[0].Key, "the next batch starts where the last one ended")
	relay(t, s, 10, nil)
	require.Zero(t, backlog(t, s))
}

func testOutboxFailures(t *testing.T, s OutboxStore) {
	for i := range 6 {
		enqueue(t, s, events.TopicAudit, "k"+strconv.Itoa(i), "p"+strconv.Itoa(i))
	}
	boom := errors.New("broker said no")
	batch, n := relay(t, s, 10, func(r events.OutboxRecord) error {
		if r.Key == "k1" || r.Key == "k4" {
			return boom
		}
		return nil
	})
	require.Len(t, batch, 6)
	require.Equal(t, 4, n)
	require.EqualValues(t, 2, backlog(t, s), "failed rows stay unsent")
	batch, n = relay(t, s, 10, nil)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"k1", "k4"}, []string{batch[0].Key, batch[1].Key})
	for _, r := range batch {
		require.Equal(t, 1, r.Attempts, "a failed publish is counted")
	}
	// A publish that fails as a whole keeps every row.
	enqueue(t, s, events.TopicAudit, "k9", "p9")
	_, n = relay(t, s, 10, func(events.OutboxRecord) error { return boom })
	require.Zero(t, n)
	require.EqualValues(t, 1, backlog(t, s))
}

func testOutboxBadInput(t *testing.T, s OutboxStore) {
	ctx := context.Background()
	long := string(bytes.Repeat([]byte("k"), 513))
	for _, tc := range []struct {
		name, topic, key string
		payload          []byte
	}{
		{"empty topic", "", "k", []byte("x")},
		{"empty payload", events.TopicAudit, "k", nil},
		{"key too long", events.TopicAudit, long, []byte("x")},
		{"control character in key", events.TopicAudit, "a\nb", []byte("x")},
		{"payload too large", events.TopicAudit, "k", make([]byte, events.MaxEventSize+1)},
	} {
		err := s.EnqueueOutbox(ctx, tc.topic, tc.key, tc.payload)
		require.ErrorIs(t, err, events.ErrInvalid, tc.name)
		var ve *events.ValidationError
		require.ErrorAs(t, err, &ve, tc.name)
	}
	require.Zero(t, backlog(t, s), "nothing was written")
	for _, limit := range []int{0, -1, 10001} {
		_, err := s.RelayOutbox(ctx, limit, func(context.Context, []events.OutboxRecord) []error { return nil })
		require.ErrorIs(t, err, events.ErrInvalid, "limit %d", limit)
	}
}

func testOutboxClaims(t *testing.T, s OutboxStore) {
	ctx := context.Background()
	enqueue(t, s, events.TopicAudit, "k1", "k1-first")
	enqueue(t, s, events.TopicAudit, "k2", "k2-first")

	inside := make(chan []events.OutboxRecord)
	release := make(chan struct{})
	var once sync.Once
	releaseA := func() { once.Do(func() { close(release) }) }
	defer releaseA() // a failing assertion must not leave relay A holding its rows
	done := make(chan error, 1)
	go func() {
		_, err := s.RelayOutbox(ctx, 2, func(_ context.Context, batch []events.OutboxRecord) []error {
			inside <- slices.Clone(batch)
			<-release
			return nil
		})
		done <- err
	}()
	first := <-inside
	require.Len(t, first, 2)

	// While relay A holds k1 and k2, relay B must not get them, nor anything
	// of k1 that comes after the row A holds.
	enqueue(t, s, events.TopicAudit, "k1", "k1-second")
	enqueue(t, s, events.TopicAudit, "k3", "k3-first")
	enqueue(t, s, events.TopicAudit, "", "no-key")
	second, n := relay(t, s, 10, nil)
	var payloads []string
	for _, r := range second {
		payloads = append(payloads, string(r.Payload))
	}
	require.Equal(t, []string{"k3-first", "no-key"}, payloads, "B gets neither A's rows nor a later row of a key A holds")
	require.Equal(t, 2, n)

	releaseA()
	require.NoError(t, <-done)
	third, _ := relay(t, s, 10, nil)
	require.Len(t, third, 1)
	require.Equal(t, "k1-second", string(third[0].Payload), "once A is done, the key moves on")
	require.Zero(t, backlog(t, s))
}

func testOutboxConcurrent(t *testing.T, s OutboxStore) {
	ctx := context.Background()
	const rows, keyCount, relays = 600, 20, 4
	for i := range rows {
		key := "k" + strconv.Itoa(i%keyCount)
		if i%17 == 0 {
			key = ""
		}
		require.NoError(t, s.EnqueueOutbox(ctx, events.TopicAnalytics, key, []byte(strconv.Itoa(i))))
	}

	var (
		mu        sync.Mutex
		busy      = map[string]bool{} // keys some relay is publishing right now
		log       []events.OutboxRecord
		problem   error
		failedOne = map[int64]bool{}
	)
	publish := func(_ context.Context, batch []events.OutboxRecord) []error {
		mu.Lock()
		keys := map[string]bool{}
		for _, r := range batch {
			if r.Key != "" && busy[r.Key] && !keys[r.Key] && problem == nil {
				problem = fmt.Errorf("key %s handed to two relays at once", r.Key)
			}
			keys[r.Key] = true
		}
		for k := range keys {
			if k != "" {
				busy[k] = true
			}
		}
		mu.Unlock()
		time.Sleep(200 * time.Microsecond) // widen the window for overlap

		errs := make([]error, len(batch))
		failedKeys := map[string]bool{}
		mu.Lock()
		defer mu.Unlock()
		for i, r := range batch {
			switch {
			case r.Key != "" && failedKeys[r.Key]:
				errs[i] = errors.New("held back behind an earlier failure of its key")
			case r.ID%13 == 0 && !failedOne[r.ID]:
				failedOne[r.ID] = true
				errs[i] = errors.New("injected failure")
				failedKeys[r.Key] = true
			default:
				log = append(log, r)
			}
		}
		for k := range keys {
			delete(busy, k)
		}
		return errs
	}

	var wg sync.WaitGroup
	for range relays {
		wg.Go(func() {
			for range 100000 {
				if _, err := s.RelayOutbox(ctx, 7, publish); err != nil {
					mu.Lock()
					problem = err
					mu.Unlock()
					return
				}
				n, err := s.OutboxBacklog(ctx)
				if err != nil || n == 0 {
					return
				}
				time.Sleep(50 * time.Microsecond) // a relay polls; do not starve the others
			}
		})
	}
	wg.Wait()
	require.NoError(t, problem)
	require.Zero(t, backlog(t, s))
	require.Len(t, log, rows, "every row published once")
	seen := map[int64]bool{}
	last := map[string]int64{}
	for _, r := range log {
		require.False(t, seen[r.ID], "row %d published twice", r.ID)
		seen[r.ID] = true
		if r.Key != "" {
			require.Greater(t, r.ID, last[r.Key], "key %s out of order", r.Key)
			last[r.Key] = r.ID
		}
	}
}

// TestDeadLetters runs the events.DeadLetterStore conformance suite.
func TestDeadLetters(t *testing.T, newStore func(t *testing.T) events.DeadLetterStore) {
	t.Run("RoundTrip", func(t *testing.T) { testDeadRoundTrip(t, newStore(t)) })
	t.Run("UpsertByTopicAndEventID", func(t *testing.T) { testDeadUpsert(t, newStore(t)) })
	t.Run("ListNewestFirstWithCursor", func(t *testing.T) { testDeadList(t, newStore(t)) })
	t.Run("StatusTransitions", func(t *testing.T) { testDeadTransitions(t, newStore(t)) })
	t.Run("BadInputChangesNothing", func(t *testing.T) { testDeadBadInput(t, newStore(t)) })
}

func letter(event, topic string) events.DeadLetter {
	return events.DeadLetter{
		EventID: event, Topic: topic, DeadTopic: events.DeadLetterTopic(topic), Key: "video:7",
		Payload: []byte(`{"v":1,"id":"` + event + `"}`), Error: "failed 3 attempt(s): boom", Attempts: 3,
		FirstFailedAt: t0, LastFailedAt: t0.Add(2 * time.Second),
	}
}

func record(t *testing.T, s events.DeadLetterStore, d events.DeadLetter) events.DeadLetter {
	t.Helper()
	out, err := s.RecordDeadLetter(context.Background(), d)
	require.NoError(t, err)
	return out
}

func testDeadRoundTrip(t *testing.T, s events.DeadLetterStore) {
	ctx := context.Background()
	in := letter("e1", events.TopicAnalytics)
	out := record(t, s, in)
	require.Positive(t, out.ID)
	require.Equal(t, events.DeadLetterOpen, out.Status)
	got, err := s.GetDeadLetter(ctx, out.ID)
	require.NoError(t, err)
	for _, d := range []events.DeadLetter{out, got} {
		require.Equal(t, in.EventID, d.EventID)
		require.Equal(t, in.Topic, d.Topic)
		require.Equal(t, events.TopicDeadLettersAnalytics, d.DeadTopic)
		require.Equal(t, in.Key, d.Key)
		require.Equal(t, in.Payload, d.Payload)
		require.Equal(t, in.Error, d.Error)
		require.Equal(t, 3, d.Attempts)
		require.True(t, d.FirstFailedAt.Equal(t0), "first failure %v", d.FirstFailedAt)
		require.True(t, d.LastFailedAt.Equal(t0.Add(2*time.Second)))
		require.Zero(t, d.ReplayCount)
		require.True(t, d.ReplayedAt.IsZero())
		require.Empty(t, d.Note)
	}
	_, err = s.GetDeadLetter(ctx, out.ID+1000)
	require.ErrorIs(t, err, events.ErrNotFound)

	// Zero failure times mean now; an empty payload is kept as empty.
	now := time.Now()
	d := record(t, s, events.DeadLetter{EventID: "sha256:00", Topic: events.TopicAudit, Payload: []byte{}, Error: "not JSON", Attempts: 1})
	require.WithinDuration(t, now, d.FirstFailedAt, time.Minute)
	require.WithinDuration(t, now, d.LastFailedAt, time.Minute)
	require.NotNil(t, d.Payload)
	require.Empty(t, d.Payload)
}

func testDeadUpsert(t *testing.T, s events.DeadLetterStore) {
	ctx := context.Background()
	first := record(t, s, letter("e1", events.TopicAnalytics))
	_, err := s.MarkDeadLetterIgnored(ctx, first.ID, "looked at it")
	require.NoError(t, err)

	again := letter("e1", events.TopicAnalytics)
	again.Attempts, again.Error, again.Payload = 2, "failed again", []byte("new payload")
	again.FirstFailedAt, again.LastFailedAt = t0.Add(time.Hour), t0.Add(time.Hour+time.Second)
	second := record(t, s, again)
	require.Equal(t, first.ID, second.ID, "the same event on the same topic is one letter")
	require.Equal(t, 5, second.Attempts, "attempts add up")
	require.Equal(t, "failed again", second.Error)
	require.Equal(t, []byte("new payload"), second.Payload)
	require.True(t, second.FirstFailedAt.Equal(t0), "the first failure stays the earliest")
	require.True(t, second.LastFailedAt.Equal(t0.Add(time.Hour+time.Second)))
	require.Equal(t, events.DeadLetterOpen, second.Status, "a new failure reopens the letter")
	require.Equal(t, "looked at it", second.Note, "the note is kept")

	other := record(t, s, letter("e1", events.TopicVimeoSyncNormalized))
	require.NotEqual(t, first.ID, other.ID, "another topic is another letter")
	require.Equal(t, events.TopicDeadLettersVimeo, other.DeadTopic)
}

func testDeadList(t *testing.T, s events.DeadLetterStore) {
	ctx := context.Background()
	var all []events.DeadLetter
	for i := range 25 {
		topic := events.TopicAnalytics
		if i%3 == 0 {
			topic = events.TopicVimeoWebhooksRaw
		}
		d := record(t, s, letter("e"+strconv.Itoa(i), topic))
		if i%4 == 0 {
			var err error
			d, err = s.MarkDeadLetterIgnored(ctx, d.ID, "")
			require.NoError(t, err)
		}
		all = append(all, d)
	}
	slices.Reverse(all) // the oracle: newest first

	for _, f := range []events.DeadLetterFilter{
		{Limit: 7},
		{Status: events.DeadLetterOpen, Limit: 4},
		{Status: events.DeadLetterIgnored, Limit: 3},
		{Topic: events.TopicVimeoWebhooksRaw, Limit: 2},
		{Topic: events.TopicAnalytics, Status: events.DeadLetterOpen, Limit: 5},
		{EventID: "e3", Limit: 5},
		{EventID: "nope", Limit: 5},
		{Limit: 1000},
	} {
		var want []int64
		for _, d := range all {
			if (f.Status == "" || d.Status == f.Status) && (f.Topic == "" || d.Topic == f.Topic) && (f.EventID == "" || d.EventID == f.EventID) {
				want = append(want, d.ID)
			}
		}
		var got []int64
		cursor := f
		for range 100 {
			page, err := s.ListDeadLetters(ctx, cursor)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), f.Limit)
			for _, d := range page {
				got = append(got, d.ID)
			}
			if len(page) < f.Limit {
				break
			}
			cursor.Before = page[len(page)-1].ID
		}
		require.Equal(t, want, got, "filter %+v", f)
	}
	page, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, page, 25, "the default limit is 50")
	require.Equal(t, all[0].Payload, page[0].Payload, "listings include the payload")
}

func testDeadTransitions(t *testing.T, s events.DeadLetterStore) {
	ctx := context.Background()
	d := record(t, s, letter("e1", events.TopicAnalytics))

	r, err := s.MarkDeadLetterReplayed(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterReplayed, r.Status)
	require.Equal(t, 1, r.ReplayCount)
	require.WithinDuration(t, time.Now(), r.ReplayedAt, time.Minute)

	_, err = s.MarkDeadLetterReplayed(ctx, d.ID)
	require.ErrorIs(t, err, events.ErrConflict, "replayed twice")
	_, err = s.MarkDeadLetterIgnored(ctx, d.ID, "")
	require.ErrorIs(t, err, events.ErrConflict, "only an open letter can be ignored")

	a, err := s.AnnotateDeadLetter(ctx, d.ID, "replayed after the fix in #42")
	require.NoError(t, err)
	require.Equal(t, "replayed after the fix in #42", a.Note)
	require.Equal(t, events.DeadLetterReplayed, a.Status, "a note does not change the status")

	// It fails again: open again, then ignored, then replayed from ignored.
	record(t, s, letter("e1", events.TopicAnalytics))
	i, err := s.MarkDeadLetterIgnored(ctx, d.ID, "known bad data")
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterIgnored, i.Status)
	require.Equal(t, "known bad data", i.Note)
	r, err = s.MarkDeadLetterReplayed(ctx, d.ID)
	require.NoError(t, err, "an ignored letter can still be replayed")
	require.Equal(t, 2, r.ReplayCount)

	for name, fn := range map[string]func() error{
		"replay":   func() error { _, err := s.MarkDeadLetterReplayed(ctx, 999999); return err },
		"ignore":   func() error { _, err := s.MarkDeadLetterIgnored(ctx, 999999, ""); return err },
		"annotate": func() error { _, err := s.AnnotateDeadLetter(ctx, 999999, "x"); return err },
	} {
		require.ErrorIs(t, fn(), events.ErrNotFound, name)
	}
}

func testDeadBadInput(t *testing.T, s events.DeadLetterStore) {
	ctx := context.Background()
	for name, mut := range map[string]func(*events.DeadLetter){
		"no event id":       func(d *events.DeadLetter) { d.EventID = "" },
		"no topic":          func(d *events.DeadLetter) { d.Topic = "" },
		"no error":          func(d *events.DeadLetter) { d.Error = "" },
		"zero attempts":     func(d *events.DeadLetter) { d.Attempts = 0 },
		"nil payload":       func(d *events.DeadLetter) { d.Payload = nil },
		"last before first": func(d *events.DeadLetter) { d.LastFailedAt = t0.Add(-time.Hour) },
	} {
		d := letter("e1", events.TopicAnalytics)
		mut(&d)
		_, err := s.RecordDeadLetter(ctx, d)
		var ve *events.ValidationError
		require.ErrorAs(t, err, &ve, name)
		require.ErrorIs(t, err, events.ErrInvalid, name)
	}
	page, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Empty(t, page, "nothing was written")

	d := record(t, s, letter("e1", events.TopicAnalytics))
	long := string(bytes.Repeat([]byte("n"), events.MaxNote+1))
	_, err = s.AnnotateDeadLetter(ctx, d.ID, long)
	require.ErrorIs(t, err, events.ErrInvalid)
	_, err = s.MarkDeadLetterIgnored(ctx, d.ID, long)
	require.ErrorIs(t, err, events.ErrInvalid)
	got, err := s.GetDeadLetter(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, events.DeadLetterOpen, got.Status)
	require.Empty(t, got.Note)

	for _, f := range []events.DeadLetterFilter{{Limit: -1}, {Limit: 1001}, {Status: "lost"}, {Before: -5}} {
		_, err := s.ListDeadLetters(ctx, f)
		require.ErrorIs(t, err, events.ErrInvalid, "filter %+v", f)
	}
}

// DeadLetterCountStore is a dead-letter store that counts its letters.
type DeadLetterCountStore interface {
	events.DeadLetterStore
	events.DeadLetterCounter
}

// TestDeadLetterCount runs the events.DeadLetterCounter conformance suite:
// counts follow every status change, in step with ListDeadLetters.
func TestDeadLetterCount(t *testing.T, newStore func(t *testing.T) DeadLetterCountStore) {
	s := newStore(t)
	ctx := context.Background()
	count := func(status events.DeadLetterStatus) int64 {
		t.Helper()
		n, err := s.CountDeadLetters(ctx, status)
		require.NoError(t, err)
		return n
	}
	listed := func(status events.DeadLetterStatus) int64 {
		t.Helper()
		page, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{Status: status, Limit: 1000})
		require.NoError(t, err)
		return int64(len(page))
	}
	check := func(open, replayed, ignored int64) {
		t.Helper()
		require.Equal(t, open, count(events.DeadLetterOpen), "open")
		require.Equal(t, replayed, count(events.DeadLetterReplayed), "replayed")
		require.Equal(t, ignored, count(events.DeadLetterIgnored), "ignored")
		require.Equal(t, open+replayed+ignored, count(""), "any status")
		for _, st := range []events.DeadLetterStatus{"", events.DeadLetterOpen, events.DeadLetterReplayed, events.DeadLetterIgnored} {
			require.Equal(t, listed(st), count(st), "count and list agree on %q", st)
		}
	}
	check(0, 0, 0)

	a := record(t, s, letter("e1", events.TopicAnalytics))
	b := record(t, s, letter("e2", events.TopicVimeoWebhooksRaw))
	record(t, s, letter("e3", events.TopicAudit))
	check(3, 0, 0)
	record(t, s, letter("e1", events.TopicAnalytics))
	check(3, 0, 0) // the same event failing again is the same letter

	_, err := s.MarkDeadLetterReplayed(ctx, a.ID)
	require.NoError(t, err)
	check(2, 1, 0)
	_, err = s.MarkDeadLetterIgnored(ctx, b.ID, "known bad")
	require.NoError(t, err)
	check(1, 1, 1)
	record(t, s, letter("e1", events.TopicAnalytics)) // the replay failed: open again
	check(2, 0, 1)

	// Bad input is an error, not a count.
	_, err = s.CountDeadLetters(ctx, "lost")
	require.ErrorIs(t, err, events.ErrInvalid)
	var ve *events.ValidationError
	require.ErrorAs(t, err, &ve)
}

// TestProviderEvents runs the events.ProviderEventStore conformance suite.
func TestProviderEvents(t *testing.T, newStore func(t *testing.T) events.ProviderEventStore) {
	t.Run("RecordAndDuplicate", func(t *testing.T) { testProviderDuplicate(t, newStore(t)) })
	t.Run("DerivedKey", func(t *testing.T) { testProviderDerivedKey(t, newStore(t)) })
	t.Run("StatusTransitions", func(t *testing.T) { testProviderTransitions(t, newStore(t)) })
	t.Run("ListNewestFirstWithCursor", func(t *testing.T) { testProviderList(t, newStore(t)) })
	t.Run("ConcurrentDuplicates", func(t *testing.T) { testProviderConcurrent(t, newStore(t)) })
	t.Run("BadInputChangesNothing", func(t *testing.T) { testProviderBadInput(t, newStore(t)) })
}

func webhook(key string) events.ProviderEvent {
	return events.ProviderEvent{
		Provider: "vimeo", EventKey: key, EventType: "video.updated", ObjectID: "76979871",
		SourceTimestamp: t0, Payload: []byte(`{"type":"video.updated","uri":"/videos/76979871"}`),
	}
}

func testProviderDuplicate(t *testing.T, s events.ProviderEventStore) {
	ctx := context.Background()
	e, dup, err := s.RecordProviderEvent(ctx, webhook("evt_1"))
	require.NoError(t, err)
	require.False(t, dup)
	require.Positive(t, e.ID)
	require.Equal(t, events.ProviderEventReceived, e.Status)
	require.Equal(t, "evt_1", e.EventKey)
	require.True(t, e.SourceTimestamp.Equal(t0))
	require.WithinDuration(t, time.Now(), e.ReceivedAt, time.Minute)

	again := webhook("evt_1")
	again.Payload = []byte(`{"different":true}`)
	d, dup, err := s.RecordProviderEvent(ctx, again)
	require.NoError(t, err, "a duplicate is not an error")
	require.True(t, dup)
	require.Equal(t, e.ID, d.ID)
	require.Equal(t, webhook("evt_1").Payload, d.Payload, "the first one is kept")

	other := webhook("evt_1")
	other.Provider = "hubspot"
	o, dup, err := s.RecordProviderEvent(ctx, other)
	require.NoError(t, err)
	require.False(t, dup, "keys are unique per provider")
	require.NotEqual(t, e.ID, o.ID)

	got, err := s.GetProviderEvent(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, e.Payload, got.Payload)
	_, err = s.GetProviderEvent(ctx, 999999)
	require.ErrorIs(t, err, events.ErrNotFound)
}

func testProviderDerivedKey(t *testing.T, s events.ProviderEventStore) {
	ctx := context.Background()
	e, dup, err := s.RecordProviderEvent(ctx, webhook(""))
	require.NoError(t, err)
	require.False(t, dup)
	require.Equal(t, events.ProviderEventKey("vimeo", "76979871", "video.updated", t0), e.EventKey)
	_, dup, err = s.RecordProviderEvent(ctx, webhook(""))
	require.NoError(t, err)
	require.True(t, dup, "the same provider, object, type and source time is the same event")
	later := webhook("")
	later.SourceTimestamp = t0.Add(time.Second)
	_, dup, err = s.RecordProviderEvent(ctx, later)
	require.NoError(t, err)
	require.False(t, dup)
}

func testProviderTransitions(t *testing.T, s events.ProviderEventStore) {
	ctx := context.Background()
	e, _, err := s.RecordProviderEvent(ctx, webhook("evt_1"))
	require.NoError(t, err)

	require.NoError(t, s.MarkProviderEventFailed(ctx, e.ID, "vimeo answered 503"))
	got, err := s.GetProviderEvent(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, events.ProviderEventFailed, got.Status)
	require.Equal(t, "vimeo answered 503", got.Error)
	require.NoError(t, s.MarkProviderEventFailed(ctx, e.ID, "vimeo answered 429"), "failing again updates the reason")

	require.NoError(t, s.MarkProviderEventProcessed(ctx, e.ID))
	got, err = s.GetProviderEvent(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, events.ProviderEventProcessed, got.Status)
	require.Empty(t, got.Error)
	require.WithinDuration(t, time.Now(), got.ProcessedAt, time.Minute)
	require.NoError(t, s.MarkProviderEventProcessed(ctx, e.ID), "processing twice is harmless")

	require.ErrorIs(t, s.MarkProviderEventFailed(ctx, e.ID, "late failure"), events.ErrConflict)
	require.ErrorIs(t, s.MarkProviderEventFailed(ctx, e.ID, ""), events.ErrInvalid)
	require.ErrorIs(t, s.MarkProviderEventProcessed(ctx, 999999), events.ErrNotFound)
	require.ErrorIs(t, s.MarkProviderEventFailed(ctx, 999999, "x"), events.ErrNotFound)
}

func testProviderList(t *testing.T, s events.ProviderEventStore) {
	ctx := context.Background()
	var all []events.ProviderEvent
	for i := range 12 {
		w := webhook("evt_" + strconv.Itoa(i))
		if i%3 == 0 {
			w.Provider = "hubspot"
		}
		e, _, err := s.RecordProviderEvent(ctx, w)
		require.NoError(t, err)
		if i%2 == 0 {
			require.NoError(t, s.MarkProviderEventProcessed(ctx, e.ID))
			e.Status = events.ProviderEventProcessed
		}
		all = append(all, e)
	}
	slices.Reverse(all)
	for _, f := range []events.ProviderEventFilter{
		{Limit: 5},
		{Provider: "vimeo", Limit: 3},
		{Status: events.ProviderEventReceived, Limit: 2},
		{Provider: "hubspot", Status: events.ProviderEventProcessed, Limit: 1},
	} {
		var want, got []int64
		for _, e := range all {
			if (f.Provider == "" || e.Provider == f.Provider) && (f.Status == "" || e.Status == f.Status) {
				want = append(want, e.ID)
			}
		}
		cursor := f
		for range 100 {
			page, err := s.ListProviderEvents(ctx, cursor)
			require.NoError(t, err)
			for _, e := range page {
				got = append(got, e.ID)
			}
			if len(page) < f.Limit {
				break
			}
			cursor.Before = page[len(page)-1].ID
		}
		require.Equal(t, want, got, "filter %+v", f)
	}
}

func testProviderConcurrent(t *testing.T, s events.ProviderEventStore) {
	ctx := context.Background()
	var firsts atomic.Int32
	ids := make([]int64, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			e, dup, err := s.RecordProviderEvent(ctx, webhook("evt_race"))
			if err != nil {
				t.Error(err)
				return
			}
			if !dup {
				firsts.Add(1)
			}
			ids[i] = e.ID
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), firsts.Load(), "exactly one caller stores it")
	for _, id := range ids {
		require.Equal(t, ids[0], id, "every caller sees the stored event")
	}
}

func testProviderBadInput(t *testing.T, s events.ProviderEventStore) {
	ctx := context.Background()
	for name, mut := range map[string]func(*events.ProviderEvent){
		"no provider":         func(e *events.ProviderEvent) { e.Provider = "" },
		"no event type":       func(e *events.ProviderEvent) { e.EventType = "" },
		"no payload":          func(e *events.ProviderEvent) { e.Payload = nil },
		"underivable key":     func(e *events.ProviderEvent) { e.EventKey, e.SourceTimestamp = "", time.Time{} },
		"control char in key": func(e *events.ProviderEvent) { e.EventKey = "a\x00b" },
	} {
		e := webhook("evt_bad")
		mut(&e)
		_, _, err := s.RecordProviderEvent(ctx, e)
		var ve *events.ValidationError
		require.ErrorAs(t, err, &ve, name)
	}
	page, err := s.ListProviderEvents(ctx, events.ProviderEventFilter{})
	require.NoError(t, err)
	require.Empty(t, page, "nothing was written")
	_, err = s.ListProviderEvents(ctx, events.ProviderEventFilter{Status: "odd"})
	require.ErrorIs(t, err, events.ErrInvalid)
}

// TestDeduper runs the events.Deduper conformance suite.
func TestDeduper(t *testing.T, newStore func(t *testing.T) events.Deduper) {
	t.Run("MarkAndCheck", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		ok, err := s.Processed(ctx, "analytics", "e1")
		require.NoError(t, err)
		require.False(t, ok)
		first, err := s.MarkProcessed(ctx, "analytics", "e1")
		require.NoError(t, err)
		require.True(t, first)
		first, err = s.MarkProcessed(ctx, "analytics", "e1")
		require.NoError(t, err)
		require.False(t, first, "the second mark reports the duplicate")
		ok, err = s.Processed(ctx, "analytics", "e1")
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s.Processed(ctx, "audit", "e1")
		require.NoError(t, err)
		require.False(t, ok, "consumers are independent")
	})
	t.Run("ConcurrentMarks", func(t *testing.T) {
		s := newStore(t)
		var firsts atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				ok, err := s.MarkProcessed(context.Background(), "c", "race")
				if err != nil {
					t.Error(err)
				}
				if ok {
					firsts.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), firsts.Load())
	})
	t.Run("BadInput", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		for _, ck := range [][2]string{{"", "k"}, {"c", ""}, {"c", "a\nb"}} {
			_, err := s.MarkProcessed(ctx, ck[0], ck[1])
			require.ErrorIs(t, err, events.ErrInvalid, "%q", ck)
			_, err = s.Processed(ctx, ck[0], ck[1])
			require.ErrorIs(t, err, events.ErrInvalid, "%q", ck)
		}
	})
}

// TxDeduperHarness is what TestTxDeduper needs: the deduper, a write the
// handler makes inside its transaction, and a way to count those writes.
type TxDeduperHarness[Tx any] struct {
	Store events.TxDeduper[Tx]
	// Write is the handler's write for key, made with tx.
	Write func(ctx context.Context, tx Tx, key string) error
	// Count returns how many writes for key are stored.
	Count func(t *testing.T, key string) int
	// Atomic: the store runs fn in a real transaction, so a failing fn's
	// writes are undone (pgstore); false for stores without one (memstore).
	Atomic bool
}

// TestTxDeduper runs the events.TxDeduper conformance suite.
func TestTxDeduper[Tx any](t *testing.T, newHarness func(t *testing.T) TxDeduperHarness[Tx]) {
	t.Run("AppliesOnce", func(t *testing.T) {
		h := newHarness(t)
		ctx := context.Background()
		calls := 0
		fn := func(ctx context.Context, tx Tx) error {
			calls++
			return h.Write(ctx, tx, "e1")
		}
		applied, err := h.Store.ProcessOnce(ctx, "analytics", "e1", fn)
		require.NoError(t, err)
		require.True(t, applied)
		applied, err = h.Store.ProcessOnce(ctx, "analytics", "e1", fn)
		require.NoError(t, err)
		require.False(t, applied, "a repeat is skipped")
		require.Equal(t, 1, calls, "and its handler is not run")
		require.Equal(t, 1, h.Count(t, "e1"))
		applied, err = h.Store.ProcessOnce(ctx, "audit", "e1", func(context.Context, Tx) error { return nil })
		require.NoError(t, err)
		require.True(t, applied, "consumers are independent")
	})
	t.Run("FailureRecordsNothing", func(t *testing.T) {
		h := newHarness(t)
		ctx := context.Background()
		boom := errors.New("handler failed")
		applied, err := h.Store.ProcessOnce(ctx, "analytics", "e2", func(ctx context.Context, tx Tx) error {
			if err := h.Write(ctx, tx, "e2"); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom, "the handler's error comes back")
		require.False(t, applied)
		if h.Atomic {
			require.Zero(t, h.Count(t, "e2"), "the handler's writes are undone with it")
		}
		applied, err = h.Store.ProcessOnce(ctx, "analytics", "e2", func(ctx context.Context, tx Tx) error { return h.Write(ctx, tx, "e2") })
		require.NoError(t, err)
		require.True(t, applied, "a failed attempt does not count as processed")
	})
	t.Run("ConcurrentDeliveries", func(t *testing.T) {
		h := newHarness(t)
		var applied atomic.Int32
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				ok, err := h.Store.ProcessOnce(context.Background(), "analytics", "e3", func(ctx context.Context, tx Tx) error {
					return h.Write(ctx, tx, "e3")
				})
				if err != nil {
					t.Error(err)
				}
				if ok {
					applied.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), applied.Load())
		require.Equal(t, 1, h.Count(t, "e3"), "applied exactly once")
	})
	t.Run("BadInput", func(t *testing.T) {
		h := newHarness(t)
		called := false
		_, err := h.Store.ProcessOnce(context.Background(), "", "k", func(context.Context, Tx) error { called = true; return nil })
		require.ErrorIs(t, err, events.ErrInvalid)
		require.False(t, called)
	})
}
