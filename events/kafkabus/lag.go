package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vidlib/vidlib/events"
)

// Lag returns, for each logical topic and partition, how many messages group
// has not committed yet: the end offset minus the committed offset, or minus
// the partition's first offset when the group has committed nothing there.
// This is the consumer lag of the admin dashboard.
func (b *Bus) Lag(ctx context.Context, group string, topics ...string) (map[string]map[int]int64, error) {
	if group == "" || len(topics) == 0 {
		return nil, fmt.Errorf("%w: kafkabus: Lag needs a group and topics", events.ErrInvalid)
	}
	client := &kafka.Client{Addr: kafka.TCP(b.brokers...), Timeout: 10 * time.Second, Transport: b.newTransport()}
	wire := make([]string, len(topics))
	for i, t := range topics {
		wire[i] = b.wireTopic(t)
	}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: wire})
	if err != nil {
		return nil, fmt.Errorf("kafkabus: lag: metadata: %w", err)
	}
	offReq := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	fetchReq := &kafka.OffsetFetchRequest{GroupID: b.wireTopic(group), Topics: map[string][]int{}}
	for _, t := range meta.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("kafkabus: lag: topic %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			offReq.Topics[t.Name] = append(offReq.Topics[t.Name], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
			fetchReq.Topics[t.Name] = append(fetchReq.Topics[t.Name], p.ID)
		}
	}
	offs, err := client.ListOffsets(ctx, offReq)
	if err != nil {
		return nil, fmt.Errorf("kafkabus: lag: list offsets: %w", err)
	}
	committed, err := client.OffsetFetch(ctx, fetchReq)
	if err != nil {
		return nil, fmt.Errorf("kafkabus: lag: committed offsets: %w", err)
	}
	if committed.Error != nil && !errors.Is(committed.Error, kafka.GroupIdNotFound) { // no group yet: nothing committed
		return nil, fmt.Errorf("kafkabus: lag: committed offsets: %w", committed.Error)
	}
	done := map[string]map[int]int64{}
	for t, ps := range committed.Topics {
		done[t] = map[int]int64{}
		for _, p := range ps {
			done[t][p.Partition] = p.CommittedOffset
		}
	}
	out := map[string]map[int]int64{}
	for t, ps := range offs.Topics {
		lt := b.logicalTopic(t)
		out[lt] = map[int]int64{}
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("kafkabus: lag: %s/%d: %w", t, p.Partition, p.Error)
			}
			from := p.FirstOffset
			if c, ok := done[t][p.Partition]; ok && c >= 0 {
				from = max(c, p.FirstOffset)
			}
			out[lt][p.Partition] = max(p.LastOffset-from, 0)
		}
	}
	return out, nil
}
