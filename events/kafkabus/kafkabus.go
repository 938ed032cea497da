package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/internal/dispatch"
)

// Options configure a Bus. Zero fields take the documented defaults.
type Options struct {
	// TopicPrefix is put before every topic and group name on the wire
	// ("staging." → "staging.audit.events"). Handlers and dead letters see the
	// logical names.
	TopicPrefix string
	ClientID    string // 0: "vidlib"

	// Producer.
	BatchTimeout time.Duration // how long a partial batch waits (0: 2 ms)
	BatchSize    int           // messages per batch (0: 1000)
	BatchBytes   int64         // bytes per batch (0: 1 MiB, Kafka's default message.max.bytes)
	MaxAttempts  int           // attempts per batch before Publish fails (0: 20, about 15 s with backoff)
	WriteTimeout time.Duration // per produce request (0: 10 s)

	// Consumer.
	SessionTimeout    time.Duration // group session (0: 10 s; the broker allows ≥ 6 s by default)
	HeartbeatInterval time.Duration // 0: 1 s
	RebalanceTimeout  time.Duration // how long the group waits for members to rejoin (0: 15 s)
	JoinGroupBackoff  time.Duration // pause after a failed join (0: 1 s)
	CommitInterval    time.Duration // how often finished offsets are committed (0: 100 ms)
	DrainTimeout      time.Duration // wait for handlers in flight on stop or rebalance (0: 5 s; < SessionTimeout and RebalanceTimeout)
	MaxWait           time.Duration // fetch long-poll (0: 100 ms)

	// Provisioning (Provision).
	Topics              []string      // logical topics to create (nil: events.Topics())
	Partitions          int           // per topic (0: 12)
	ReplicationFactor   int           // 0: the broker's default
	Retention           time.Duration // of event topics (0: 7 days)
	DeadLetterRetention time.Duration // of dead-letter topics (0: 30 days)

	Logger *zap.Logger
}

func (o Options) withDefaults() (Options, error) {
	for name, d := range map[string]time.Duration{
		"BatchTimeout": o.BatchTimeout, "WriteTimeout": o.WriteTimeout, "SessionTimeout": o.SessionTimeout,
		"HeartbeatInterval": o.HeartbeatInterval, "RebalanceTimeout": o.RebalanceTimeout,
		"JoinGroupBackoff": o.JoinGroupBackoff, "CommitInterval": o.CommitInterval,
		"DrainTimeout": o.DrainTimeout, "MaxWait": o.MaxWait, "Retention": o.Retention,
		"DeadLetterRetention": o.DeadLetterRetention,
	} {
		if d < 0 {
			return o, fmt.Errorf("%w: kafkabus: %s must not be negative", events.ErrInvalid, name)
		}
	}
	if o.BatchSize < 0 || o.BatchBytes < 0 || o.MaxAttempts < 0 || o.Partitions < 0 || o.ReplicationFactor < 0 {
		return o, fmt.Errorf("%w: kafkabus: sizes must not be negative", events.ErrInvalid)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.BatchTimeout, 2*time.Millisecond)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.SessionTimeout, 10*time.Second)
	def(&o.HeartbeatInterval, time.Second)
	def(&o.RebalanceTimeout, 15*time.Second)
	def(&o.JoinGroupBackoff, time.Second)
	def(&o.CommitInterval, 100*time.Millisecond)
	def(&o.DrainTimeout, 5*time.Second)
	def(&o.MaxWait, 100*time.Millisecond)
	def(&o.Retention, 7*24*time.Hour)
	def(&o.DeadLetterRetention, 30*24*time.Hour)
	if o.ClientID == "" {
		o.ClientID = "vidlib"
	}
	if o.BatchSize == 0 {
		o.BatchSize = 1000
	}
	if o.BatchBytes == 0 {
		o.BatchBytes = 1 << 20
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 20
	}
	if o.Partitions == 0 {
		o.Partitions = 12
	}
	if o.Topics == nil {
		o.Topics = events.Topics()
	}
	if o.DrainTimeout >= o.SessionTimeout {
		return o, fmt.Errorf("%w: kafkabus: DrainTimeout (%v) must be shorter than SessionTimeout (%v)", events.ErrInvalid, o.DrainTimeout, o.SessionTimeout)
	}
	if o.DrainTimeout >= o.RebalanceTimeout {
		return o, fmt.Errorf("%w: kafkabus: DrainTimeout (%v) must be shorter than RebalanceTimeout (%v)", events.ErrInvalid, o.DrainTimeout, o.RebalanceTimeout)
	}
	if o.HeartbeatInterval >= o.SessionTimeout {
		return o, fmt.Errorf("%w: kafkabus: HeartbeatInterval (%v) must be shorter than SessionTimeout (%v)", events.ErrInvalid, o.HeartbeatInterval, o.SessionTimeout)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o, nil
}

// Bus publishes to and consumes from Kafka. It implements events.Publisher and
// events.Subscriber and is safe for concurrent use.
type Bus struct {
	brokers []string
	opts    Options
	log     *zap.Logger
	dialer  *kafka.Dialer
	writer  *kafka.Writer

	gate *dispatch.Gate
}

var (
	_ events.Publisher  = (*Bus)(nil)
	_ events.Subscriber = (*Bus)(nil)
)

// New returns a bus for the given seed brokers. It does not connect: the
// first Publish or Subscribe does. Call Provision at start-up where the
// deployment allows the application to create topics.
func New(brokers []string, opts *Options) (*Bus, error) {
	if len(brokers) == 0 {
		return nil, fmt.Errorf("%w: kafkabus: no brokers", events.ErrInvalid)
	}
	if opts == nil {
		opts = &Options{}
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	log := o.Logger.Named("kafkabus")
	b := &Bus{
		brokers: slices.Clone(brokers), opts: o, log: log, gate: dispatch.NewGate(),
		dialer: &kafka.Dialer{ClientID: o.ClientID, Timeout: 10 * time.Second, DualStack: true},
	}
	b.writer = &kafka.Writer{
		Addr:            kafka.TCP(brokers...),
		Balancer:        &kafka.Murmur2Balancer{}, // Java's default partitioner: same key, same partition as other clients
		MaxAttempts:     o.MaxAttempts,
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: time.Second,
		BatchSize:       o.BatchSize,
		BatchBytes:      o.BatchBytes,
		BatchTimeout:    o.BatchTimeout,
		ReadTimeout:     o.WriteTimeout,
		WriteTimeout:    o.WriteTimeout,
		RequiredAcks:    kafka.RequireAll,
		Transport:       b.newTransport(),
		ErrorLogger:     kafka.LoggerFunc(func(msg string, args ...any) { log.Warn(fmt.Sprintf(msg, args...)) }),
	}
	return b, nil
}

// newTransport returns a transport of our own (not kafka-go's shared
// DefaultTransport, whose pooled connections go stale across a broker restart
// for every user in the process).
func (b *Bus) newTransport() *kafka.Transport {
	return &kafka.Transport{
		ClientID:    b.opts.ClientID,
		DialTimeout: 10 * time.Second,
		IdleTimeout: 30 * time.Second,
		MetadataTTL: 10 * time.Second,
	}
}

// Close stops every subscription cleanly (each drains, commits and leaves its
// group; Subscribe returns events.ErrClosed), then flushes and closes the
// producer. Publish fails with ErrClosed afterwards.
func (b *Bus) Close() error {
	if !b.gate.Close() {
		return nil
	}
	b.gate.Wait()
	return b.writer.Close()
}

func (b *Bus) wireTopic(t string) string { return b.opts.TopicPrefix + t }

func (b *Bus) logicalTopic(t string) string {
	if len(t) >= len(b.opts.TopicPrefix) && t[:len(b.opts.TopicPrefix)] == b.opts.TopicPrefix {
		return t[len(b.opts.TopicPrefix):]
	}
	return t
}

// Publish implements events.Publisher: it returns once every message is
// acknowledged by all in-sync replicas (acks=all). Messages with a key go to
// the partition the key's murmur2 hash selects (Kafka's default
// partitioner), so one key keeps its order; others are spread at random.
// kafka-go retries a failed batch up to MaxAttempts times; it has no
// idempotent producer, so a retry after a lost acknowledgement can store a
// message twice — consumers deduplicate by event id. Every message is validated
// first: bad input publishes nothing.
func (b *Bus) Publish(ctx context.Context, msgs ...events.Message) error {
	if b.gate.Closed() {
		return events.ErrClosed
	}
	if len(msgs) == 0 {
		return nil
	}
	kms := make([]kafka.Message, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if err := events.ValidateMessage(m); err != nil {
			return fmt.Errorf("kafkabus: message %d: %w", i, err)
		}
		kms[i] = kafka.Message{Topic: b.wireTopic(m.Topic), Value: m.Value, Headers: toHeaders(m.Headers)}
		if m.Key != "" {
			kms[i].Key = []byte(m.Key)
		}
	}
	if err := b.writer.WriteMessages(ctx, kms...); err != nil {
		if errors.Is(err, io.ErrClosedPipe) {
			return events.ErrClosed
		}
		return fmt.Errorf("kafkabus: publish %d message(s): %w", len(kms), err)
	}
	return nil
}

func toHeaders(h map[string]string) []kafka.Header {
	if len(h) == 0 {
		return nil
	}
	out := make([]kafka.Header, 0, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		out = append(out, kafka.Header{Key: k, Value: []byte(h[k])})
	}
	return out
}

func fromHeaders(hs []kafka.Header) map[string]string {
	if len(hs) == 0 {
		return nil
	}
	out := make(map[string]string, len(hs))
	for _, h := range hs {
		out[h.Key] = string(h.Value)
	}
	return out
}

// Provision creates the topics named in Options.Topics (with the prefix) with
// Options.Partitions partitions and their retention: Retention for event
// topics, DeadLetterRetention for dead-letter topics. Topics that exist are
// left as they are (a different partition count is logged, not changed).
func (b *Bus) Provision(ctx context.Context) error {
	client := &kafka.Client{Addr: kafka.TCP(b.brokers...), Timeout: 10 * time.Second, Transport: b.newTransport()}
	rf := b.opts.ReplicationFactor
	if rf == 0 {
		rf = -1
	}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range b.opts.Topics {
		ret := b.opts.Retention
		if events.IsDeadLetterTopic(t) {
			ret = b.opts.DeadLetterRetention
		}
		req.Topics = append(req.Topics, kafka.TopicConfig{
			Topic: b.wireTopic(t), NumPartitions: b.opts.Partitions, ReplicationFactor: rf,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(ret.Milliseconds(), 10)}},
		})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafkabus: create topics: %w", err)
	}
	var errs []error
	for t, e := range resp.Errors {
		switch {
		case e == nil:
			b.log.Info("created topic", zap.String("topic", t), zap.Int("partitions", b.opts.Partitions))
		case errors.Is(e, kafka.TopicAlreadyExists):
		default:
			errs = append(errs, fmt.Errorf("%s: %w", t, e))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafkabus: create topics: %w", err)
	}
	return nil
}
