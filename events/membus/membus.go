package membus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/internal/dispatch"
)

// Options configure a Bus. The zero value is valid.
type Options struct {
	// Partitions per topic (0: 8). Ordering is per key; more partitions let
	// more group members share the work.
	Partitions int
	// DrainTimeout bounds how long a stopping or rebalancing member waits for
	// its handlers in flight before cancelling them (0: 10 s).
	DrainTimeout time.Duration
	// Retention drops messages older than this, as Kafka's retention.ms does;
	// a group that has not consumed them by then skips them (0: keep every
	// message for the life of the Bus).
	Retention time.Duration
	Logger    *zap.Logger
}

// Bus is an in-process message bus with Kafka's semantics: topics of
// partitions, consumer groups that share partitions among their members,
// committed offsets, at-least-once delivery. It implements events.Publisher
// and events.Subscriber and is safe for concurrent use.
type Bus struct {
	parts        int
	drainTimeout time.Duration
	retention    time.Duration
	log          *zap.Logger
	now          func() time.Time // the clock, replaced in tests

	mu     sync.Mutex
	topics map[string]*topic
	groups map[string]*group

	gate      *dispatch.Gate
	rr        atomic.Uint64
	memberSeq atomic.Int64
}

var (
	_ events.Publisher  = (*Bus)(nil)
	_ events.Subscriber = (*Bus)(nil)
)

// New returns an empty bus.
func New(opts *Options) (*Bus, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.Partitions < 0 || opts.DrainTimeout < 0 || opts.Retention < 0 {
		return nil, fmt.Errorf("%w: membus options must not be negative", events.ErrInvalid)
	}
	b := &Bus{
		parts: opts.Partitions, drainTimeout: opts.DrainTimeout, retention: opts.Retention, log: opts.Logger,
		topics: map[string]*topic{}, groups: map[string]*group{}, gate: dispatch.NewGate(), now: time.Now,
	}
	if b.parts == 0 {
		b.parts = 8
	}
	if b.drainTimeout == 0 {
		b.drainTimeout = 10 * time.Second
	}
	if b.log == nil {
		b.log = zap.NewNop()
	}
	b.log = b.log.Named("membus")
	return b, nil
}

// Close stops every subscription cleanly (each drains and commits, then
// Subscribe returns events.ErrClosed) and makes Publish fail with ErrClosed.
// Published messages stay readable by nobody: the bus is in memory only.
func (b *Bus) Close() error {
	b.gate.Close()
	b.gate.Wait()
	return nil
}

type record struct {
	key     string
	value   []byte
	headers map[string]string
	time    time.Time
}

type topic struct {
	name  string
	parts []*partition
}

type partition struct {
	mu     sync.Mutex
	base   int64         // offset of recs[0]; grows as retention drops old records
	recs   []record      // offsets base, base+1, …
	signal chan struct{} // closed and replaced on every append
}

// trim drops the records older than cutoff. p.mu is held.
func (p *partition) trim(cutoff time.Time) {
	n := 0
	for n < len(p.recs) && p.recs[n].time.Before(cutoff) {
		n++
	}
	if n > 0 {
		clear(p.recs[:n])
		p.recs = p.recs[n:]
		p.base += int64(n)
	}
}

func (b *Bus) topic(name string) *topic {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		t = &topic{name: name, parts: make([]*partition, b.parts)}
		for i := range t.parts {
			t.parts[i] = &partition{signal: make(chan struct{})}
		}
		b.topics[name] = t
	}
	return t
}

// Publish appends msgs to their topics (created on first use). Messages with a
// key go to the partition its hash selects, others round-robin. Every message
// is validated first: bad input publishes nothing.
func (b *Bus) Publish(ctx context.Context, msgs ...events.Message) error {
	if b.gate.Closed() {
		return events.ErrClosed
	}
	for i := range msgs {
		if err := events.ValidateMessage(&msgs[i]); err != nil {
			return fmt.Errorf("membus: message %d: %w", i, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := b.now().UTC()
	for _, m := range msgs {
		t := b.topic(m.Topic)
		var p int
		if m.Key == "" {
			p = int(b.rr.Add(1) % uint64(len(t.parts)))
		} else {
			h := fnv.New32a()
			h.Write([]byte(m.Key))
			p = int(h.Sum32() % uint32(len(t.parts)))
		}
		part := t.parts[p]
		part.mu.Lock()
		part.recs = append(part.recs, record{
			key: m.Key, value: append([]byte(nil), m.Value...), headers: maps.Clone(m.Headers), time: now,
		})
		if b.retention > 0 {
			part.trim(now.Add(-b.retention))
		}
		close(part.signal)
		part.signal = make(chan struct{})
		part.mu.Unlock()
	}
	return nil
}

// read returns the record at offset — or, when retention has dropped it, the
// oldest one left — and its offset, waiting for it to be published; false when
// ctx ends first.
func (p *partition) read(ctx context.Context, offset int64) (record, int64, bool) {
	for {
		p.mu.Lock()
		offset = max(offset, p.base)
		if i := offset - p.base; i < int64(len(p.recs)) {
			r := p.recs[i]
			p.mu.Unlock()
			return r, offset, true
		}
		sig := p.signal
		p.mu.Unlock()
		select {
		case <-sig:
		case <-ctx.Done():
			return record{}, 0, false
		}
	}
}

// EndOffsets returns, for a topic, the number of messages in each partition
// (the offset the next message will get). For tests and lag metrics.
func (b *Bus) EndOffsets(topicName string) []int64 {
	t := b.topic(topicName)
	out := make([]int64, len(t.parts))
	for i, p := range t.parts {
		p.mu.Lock()
		out[i] = p.base + int64(len(p.recs))
		p.mu.Unlock()
	}
	return out
}

// Committed returns the offsets a group has committed on a topic, per
// partition (0 where nothing was committed). For tests and lag metrics.
func (b *Bus) Committed(groupName, topicName string) []int64 {
	t := b.topic(topicName)
	g := b.group(groupName)
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]int64, len(t.parts))
	for i := range out {
		out[i] = g.committed[dispatch.TopicPartition{Topic: topicName, Partition: i}]
	}
	return out
}

// Lag returns, for each topic and partition, how many messages group has not
// committed yet: the end offset less the committed offset, or less the
// partition's first retained offset when the group has committed nothing
// there or retention dropped what it had not read. It has the signature of
// kafkabus.Bus.Lag, so a consumer-lag metric reads either bus. Topics nobody
// published to are reported with lag 0 per partition; neither the topic nor
// the group is created.
func (b *Bus) Lag(ctx context.Context, group string, topics ...string) (map[string]map[int]int64, error) {
	if group == "" || len(topics) == 0 {
		return nil, fmt.Errorf("%w: membus: Lag needs a group and topics", events.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	g := b.groups[group]
	ts := make([]*topic, len(topics))
	for i, name := range topics {
		ts[i] = b.topics[name]
	}
	b.mu.Unlock()
	out := make(map[string]map[int]int64, len(topics))
	for i, name := range topics {
		lag := make(map[int]int64, b.parts)
		out[name] = lag
		t := ts[i]
		if t == nil {
			for p := range b.parts {
				lag[p] = 0
			}
			continue
		}
		for p, part := range t.parts {
			part.mu.Lock()
			first, end := part.base, part.base+int64(len(part.recs))
			part.mu.Unlock()
			from := first
			if g != nil {
				from = max(g.committedOffset(dispatch.TopicPartition{Topic: name, Partition: p}), first)
			}
			lag[p] = max(end-from, 0)
		}
	}
	return out, nil
}

// Subscribe implements events.Subscriber. Each call is one member of
// sub.Group; members share the partitions of their topics, and every change
// of membership reassigns them all (eager rebalancing, as Kafka does): every
// member stops, drains and commits before any starts on its new partitions,
// so a partition is never handled by two members at once.
func (b *Bus) Subscribe(ctx context.Context, sub events.Subscription, h events.Handler) error {
	sub, runCtx, done, err := b.gate.Subscribe(ctx, sub, h)
	if err != nil {
		return err
	}
	defer done()

	for _, name := range sub.Topics {
		b.topic(name)
	}
	g := b.group(sub.Group)
	m := &member{id: b.memberSeq.Add(1), topics: slices.Clone(sub.Topics)}
	g.join(m)
	defer g.leave(m)

	for {
		assigned, genDone, ok := g.next(runCtx, m)
		if !ok {
			break
		}
		b.runGeneration(runCtx, g, assigned, genDone, sub, h)
		g.finished(m)
		if runCtx.Err() != nil {
			break
		}
	}
	return dispatch.Ended(runCtx, "membus", sub.Group)
}

// runGeneration consumes the assigned partitions until the generation ends or
// ctx is done, then drains and commits (or, when aborted, does not commit).
func (b *Bus) runGeneration(ctx context.Context, g *group, assigned []dispatch.TopicPartition,
	genDone <-chan struct{}, sub events.Subscription, h events.Handler) {
	d := dispatch.New(dispatch.Config{
		Handler: h, BaseContext: ctx, MaxInFlight: sub.MaxInFlight, RedeliveryDelay: sub.RedeliveryDelay,
		MaxRedelivery: events.MaxRedeliveryDelay, Logger: b.log.With(zap.String("group", g.name)),
	})
	defer d.Close()

	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	go func() {
		select {
		case <-genDone:
			fcancel()
		case <-fctx.Done():
		}
	}()

	var fetchers sync.WaitGroup
	for _, tp := range assigned {
		start := g.committedOffset(tp)
		part := b.topic(tp.Topic).parts[tp.Partition]
		fetchers.Go(func() {
			for off := start; ; off++ {
				r, at, ok := part.read(fctx, off)
				if !ok {
					return
				}
				off = at
				msg := &events.Message{
					Topic: tp.Topic, Key: r.key, Value: append([]byte(nil), r.value...),
					Headers: maps.Clone(r.headers), Partition: tp.Partition, Offset: off, Time: r.time,
				}
				if err := d.Submit(fctx, msg); err != nil {
					return
				}
			}
		})
	}

commits:
	for {
		select {
		case <-d.Progress():
			g.commit(d.Watermarks())
		case <-fctx.Done():
			break commits
		}
	}
	fetchers.Wait()
	if errors.Is(context.Cause(ctx), events.ErrAbort) {
		d.Abort(b.drainTimeout)
		return
	}
	d.Drain(b.drainTimeout)
	g.commit(d.Watermarks())
}

type member struct {
	id     int64
	topics []string
}

// group coordinates the members of a consumer group: generations, assignment
// and committed offsets.
type group struct {
	name  string
	parts func(topic string) int

	mu        sync.Mutex
	cond      *sync.Cond
	members   map[*member]bool
	running   map[*member]bool  // members still working in the current generation
	ran       map[*member]int64 // the last generation each member started
	gen       int64
	genDone   chan struct{}
	genClosed bool
	pending   bool // membership changed: a new generation is due
	assign    map[*member][]dispatch.TopicPartition
	committed map[dispatch.TopicPartition]int64
}

func (b *Bus) group(name string) *group {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.groups[name]
	if g == nil {
		g = &group{
			name:    name,
			parts:   func(t string) int { return len(b.topic(t).parts) },
			members: map[*member]bool{}, running: map[*member]bool{}, ran: map[*member]int64{},
			genDone: make(chan struct{}), committed: map[dispatch.TopicPartition]int64{},
		}
		g.cond = sync.NewCond(&g.mu)
		b.groups[name] = g
	}
	return g
}

// endGeneration asks every running member to stop. g.mu is held.
func (g *group) endGeneration() {
	g.pending = true
	if !g.genClosed {
		close(g.genDone)
		g.genClosed = true
	}
	g.cond.Broadcast()
}

func (g *group) join(m *member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members[m] = true
	g.endGeneration()
}

// leave removes m. A member that was aborted may still have handlers that
// ignored their cancellation; that is the zombie a crashed Kafka consumer
// leaves too, and dedup covers it.
func (g *group) leave(m *member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.members, m)
	delete(g.running, m)
	delete(g.ran, m)
	g.endGeneration()
}

func (g *group) finished(m *member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.running, m)
	g.cond.Broadcast()
}

// next waits until m may start a new generation and returns its partitions
// and the channel that closes when that generation ends; false when ctx ends.
func (g *group) next(ctx context.Context, m *member) ([]dispatch.TopicPartition, <-chan struct{}, bool) {
	stop := context.AfterFunc(ctx, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		if ctx.Err() != nil || !g.members[m] {
			return nil, nil, false
		}
		if g.pending && len(g.running) == 0 {
			g.rebalance()
		}
		if !g.pending && g.ran[m] < g.gen {
			g.ran[m] = g.gen
			g.running[m] = true
			return g.assign[m], g.genDone, true
		}
		g.cond.Wait()
	}
}

// rebalance starts a new generation: topic by topic, the partitions go
// round-robin to the members that subscribe to the topic, in join order.
// g.mu is held.
func (g *group) rebalance() {
	g.gen++
	g.genDone = make(chan struct{})
	g.genClosed = false
	g.pending = false
	g.assign = map[*member][]dispatch.TopicPartition{}
	members := slices.SortedFunc(maps.Keys(g.members), func(a, b *member) int { return int(a.id - b.id) })
	topics := map[string][]*member{}
	for _, m := range members {
		for _, t := range m.topics {
			topics[t] = append(topics[t], m)
		}
	}
	for _, t := range slices.Sorted(maps.Keys(topics)) {
		ms := topics[t]
		for p := range g.parts(t) {
			m := ms[p%len(ms)]
			g.assign[m] = append(g.assign[m], dispatch.TopicPartition{Topic: t, Partition: p})
		}
	}
	g.cond.Broadcast()
}

func (g *group) committedOffset(tp dispatch.TopicPartition) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.committed[tp]
}

func (g *group) commit(offsets map[dispatch.TopicPartition]int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for tp, off := range offsets {
		if off > g.committed[tp] {
			g.committed[tp] = off
		}
	}
}
