package events_test

import (
	"context"
	"fmt"
	"log"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/eventstest"
	"github.com/vidlib/vidlib/events/membus"
)

// A consumer with the standard middleware: a repeated event is applied once,
// and input that is not an event is set aside as a dead letter with the reason
// while the partition moves on.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus, err := membus.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()

	e, err := events.New(ctx, events.Event{Type: "analytics.heartbeat", Source: "example", Key: "user-7"},
		map[string]any{"video": 42, "position": 12.5})
	if err != nil {
		log.Fatal(err)
	}
	m, err := e.Message(events.TopicAnalytics)
	if err != nil {
		log.Fatal(err)
	}
	garbage := events.Message{Topic: events.TopicAnalytics, Key: "user-7", Value: []byte("not an event")}
	last, _ := events.New(ctx, events.Event{Type: "analytics.paused", Source: "example", Key: "user-7"}, nil)
	lm, _ := last.Message(events.TopicAnalytics)
	if err := bus.Publish(ctx, m, m, garbage, lm); err != nil { // m twice: a redelivery
		log.Fatal(err)
	}

	letters := eventstest.NewDeadLetters() // store/pgstore in production
	dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: bus, Store: letters})
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan struct{})
	handle := events.HandleEvents(func(ctx context.Context, e events.Event) error {
		fmt.Println("handled", e.Type, "for", e.Key)
		if e.Type == "analytics.paused" {
			close(done)
		}
		return nil
	})
	h := events.Chain(handle, dlq, events.Retry(events.RetryPolicy{}), events.Recover(),
		events.Dedup(eventstest.NewDeduper(), "example", nil))
	go func() {
		_ = bus.Subscribe(ctx, events.Subscription{Group: "example", Topics: []string{events.TopicAnalytics}}, h)
	}()
	<-done

	ls, _ := letters.ListDeadLetters(ctx, events.DeadLetterFilter{})
	fmt.Println("dead letters:", len(ls), "→", ls[0].DeadTopic)
	fmt.Println(ls[0].Error)
	// Output:
	// handled analytics.heartbeat for user-7
	// handled analytics.paused for user-7
	// dead letters: 1 → deadletters.analytics
	// failed 1 attempt(s): events: invalid: event: envelope: not a JSON event: invalid character 'o' in literal null (expecting 'u')
}
