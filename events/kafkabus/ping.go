package kafkabus

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Ping asks the cluster for its metadata through the seed brokers: nil when
// a broker answers within ctx. Servers register it as the "kafka" readiness
// check.
func (b *Bus) Ping(ctx context.Context) error {
	t := b.newTransport()
	defer t.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(b.brokers...), Timeout: 5 * time.Second, Transport: t}
	if _, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}}); err != nil {
		return fmt.Errorf("kafkabus: ping: %w", err)
	}
	return nil
}
