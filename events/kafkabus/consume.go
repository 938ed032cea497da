package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/internal/dispatch"

	"github.com/vidlib/vidlib/internal/clock"
)

// Subscribe implements events.Subscriber with a kafka-go consumer group.
//
// Each generation of the group (every rebalance starts one) runs like this:
// one partition reader per assigned partition, starting at the group's
// committed offset (the earliest offset for a new group); messages go to the
// shared dispatcher (ordered per key, bounded in flight); finished offsets are
// committed every CommitInterval. When the generation ends (a member joined or
// left) or ctx is cancelled, the readers stop, the handlers in flight get up to
// DrainTimeout to finish, and what finished is committed before the member
// rejoins, so the next owner of a partition starts right after it. Offsets are
// committed only with the generation that owns them: a commit that the broker
// refuses leaves the messages to be delivered again (at least once).
func (b *Bus) Subscribe(ctx context.Context, sub events.Subscription, h events.Handler) error {
	sub, runCtx, done, err := b.gate.Subscribe(ctx, sub, h)
	if err != nil {
		return err
	}
	defer done()

	topics := make([]string, len(sub.Topics))
	for i, t := range sub.Topics {
		topics[i] = b.wireTopic(t)
	}
	log := b.log.With(zap.String("group", sub.Group))
	var debug kafka.Logger // kafka-go formats its debug lines only when given a logger
	if log.Core().Enabled(zap.DebugLevel) {
		debug = kafka.LoggerFunc(func(msg string, args ...any) { log.Debug(fmt.Sprintf(msg, args...)) })
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                     b.wireTopic(sub.Group),
		Brokers:                b.brokers,
		Dialer:                 b.dialer,
		Topics:                 topics,
		HeartbeatInterval:      b.opts.HeartbeatInterval,
		SessionTimeout:         b.opts.SessionTimeout,
		RebalanceTimeout:       b.opts.RebalanceTimeout,
		JoinGroupBackoff:       b.opts.JoinGroupBackoff,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 10 * time.Second,
		StartOffset:            kafka.FirstOffset,
		Timeout:                10 * time.Second,
		Logger:                 debug,
		ErrorLogger:            kafka.LoggerFunc(func(msg string, args ...any) { log.Info(fmt.Sprintf(msg, args...)) }),
	})
	if err != nil {
		return fmt.Errorf("%w: kafkabus: consumer group: %v", events.ErrInvalid, err)
	}
	defer cg.Close() // leaves the group
	// Closing the group as soon as the subscription stops ends the current
	// generation for good: without it, kafka-go would rejoin the group between
	// our drain and our Close, and make every other member rebalance twice.
	// Our drain and final commit still run (Close waits for them) on the
	// generation's connection, within the session timeout.
	stopClose := context.AfterFunc(runCtx, func() { _ = cg.Close() })
	defer stopClose()

	for runCtx.Err() == nil {
		gen, err := cg.Next(runCtx)
		if err != nil {
			if runCtx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			log.Info("joining the group failed; retrying", zap.Error(err))
			_ = clock.Sleep(runCtx, 100*time.Millisecond) // the loop checks runCtx
			continue
		}
		done := make(chan struct{})
		gen.Start(func(gctx context.Context) {
			defer close(done)
			b.consume(runCtx, gctx, gen, sub, h, log)
		})
		<-done
	}
	_ = cg.Close()
	return dispatch.Ended(runCtx, "kafkabus", sub.Group)
}

// consume runs one generation until it ends (gctx) or the subscription stops
// (ctx).
func (b *Bus) consume(ctx, gctx context.Context, gen *kafka.Generation, sub events.Subscription, h events.Handler, log *zap.Logger) {
	d := dispatch.New(dispatch.Config{
		Handler: h, BaseContext: ctx, MaxInFlight: sub.MaxInFlight, RedeliveryDelay: sub.RedeliveryDelay,
		MaxRedelivery: events.MaxRedeliveryDelay, Logger: log,
	})
	defer d.Close()

	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	stop := context.AfterFunc(gctx, fcancel)
	defer stop()

	committed := map[dispatch.TopicPartition]int64{}
	var fetchers sync.WaitGroup
	for wt, parts := range gen.Assignments {
		for _, pa := range parts {
			committed[dispatch.TopicPartition{Topic: b.logicalTopic(wt), Partition: pa.ID}] = pa.Offset
			fetchers.Go(func() { b.fetch(fctx, d, wt, pa.ID, pa.Offset, log) })
		}
	}
	log.Debug("generation started", zap.Int32("generation", gen.ID), zap.Int("partitions", len(committed)))

	tick := time.NewTicker(b.opts.CommitInterval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-tick.C:
			b.commit(gen, d, committed, log)
		case <-fctx.Done():
			break loop
		}
	}
	fetchers.Wait()
	if errors.Is(context.Cause(ctx), events.ErrAbort) {
		d.Abort(b.opts.DrainTimeout)
		return
	}
	d.Drain(b.opts.DrainTimeout)
	b.commit(gen, d, committed, log)
}

// commit commits the watermarks that moved since the last successful commit.
func (b *Bus) commit(gen *kafka.Generation, d *dispatch.Dispatcher, committed map[dispatch.TopicPartition]int64, log *zap.Logger) {
	offsets := map[string]map[int]int64{}
	moved := map[dispatch.TopicPartition]int64{}
	for tp, off := range d.Watermarks() {
		if off <= committed[tp] {
			continue
		}
		wt := b.wireTopic(tp.Topic)
		if offsets[wt] == nil {
			offsets[wt] = map[int]int64{}
		}
		offsets[wt][tp.Partition] = off
		moved[tp] = off
	}
	if len(moved) == 0 {
		return
	}
	if err := gen.CommitOffsets(offsets); err != nil {
		log.Info("commit failed; the messages will be delivered again if it does not succeed later",
			zap.Int32("generation", gen.ID), zap.Error(err))
		return
	}
	for tp, off := range moved {
		committed[tp] = off
	}
}

// fetch reads one partition from offset and submits its messages in order.
func (b *Bus) fetch(ctx context.Context, d *dispatch.Dispatcher, wireTopic string, partition int, offset int64, log *zap.Logger) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        b.brokers,
		Topic:          wireTopic,
		Partition:      partition,
		Dialer:         b.dialer,
		MinBytes:       1,
		MaxBytes:       4 << 20,
		MaxWait:        b.opts.MaxWait,
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: time.Second,
		ErrorLogger:    kafka.LoggerFunc(func(msg string, args ...any) { log.Info(fmt.Sprintf(msg, args...)) }),
	})
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		log.Error("set offset", zap.String("topic", wireTopic), zap.Int("partition", partition), zap.Error(err))
		return
	}
	topic := b.logicalTopic(wireTopic)
	for {
		km, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Info("fetch failed; retrying", zap.String("topic", wireTopic), zap.Int("partition", partition), zap.Error(err))
			if clock.Sleep(ctx, 200*time.Millisecond) != nil {
				return
			}
			continue
		}
		m := &events.Message{
			Topic: topic, Key: string(km.Key), Value: km.Value, Headers: fromHeaders(km.Headers),
			Partition: km.Partition, Offset: km.Offset, Time: km.Time,
		}
		if err := d.Submit(ctx, m); err != nil {
			return
		}
	}
}
