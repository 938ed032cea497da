package dispatch

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"

	"github.com/vidlib/vidlib/internal/clock"
)

// Config configures a Dispatcher.
type Config struct {
	Handler         events.Handler
	BaseContext     context.Context // handlers' context carries its values, not its cancellation (nil: Background)
	MaxInFlight     int             // ≥ 1
	RedeliveryDelay time.Duration   // first pause before a failed message is handed again
	MaxRedelivery   time.Duration   // cap of the doubling pause
	Logger          *zap.Logger
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int
}

// Dispatcher runs handlers for one generation. Submit is called by the bus's
// fetch loops (concurrently across partitions, in offset order within one);
// the other methods by its commit loop.
type Dispatcher struct {
	cfg      Config
	log      *zap.Logger
	sem      chan struct{}
	hctx     context.Context // handlers' context: cancelled on Abort or when a drain times out
	hcancel  context.CancelFunc
	wg       sync.WaitGroup // running lanes
	progress chan struct{}

	mu    sync.Mutex
	parts map[TopicPartition]*part
	lanes map[laneKey]*lane
}

type job struct {
	m    *events.Message
	tp   TopicPartition
	done bool
}

// part tracks the submitted, unfinished-prefix messages of a partition.
type part struct {
	queue []*job // in offset order; the front is the oldest not yet popped
	next  int64  // offset after the last popped (finished-prefix) message; -1 before any
}

type laneKey struct {
	tp  TopicPartition
	key string
}

// lane is the queue of one key; one goroutine works through it.
type lane struct {
	queue []*job
}

// New returns a Dispatcher. Handlers run with a context that carries the
// values of Config.BaseContext but not its cancellation, so that a clean stop
// lets them finish; Abort and a drain timeout cancel it.
func New(cfg Config) *Dispatcher {
	if cfg.MaxInFlight < 1 {
		cfg.MaxInFlight = 1
	}
	if cfg.RedeliveryDelay <= 0 {
		cfg.RedeliveryDelay = time.Second
	}
	if cfg.MaxRedelivery < cfg.RedeliveryDelay {
		cfg.MaxRedelivery = cfg.RedeliveryDelay
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	d := &Dispatcher{
		cfg: cfg, log: log, sem: make(chan struct{}, cfg.MaxInFlight),
		progress: make(chan struct{}, 1),
		parts:    map[TopicPartition]*part{}, lanes: map[laneKey]*lane{},
	}
	base := cfg.BaseContext
	if base == nil {
		base = context.Background()
	}
	d.hctx, d.hcancel = context.WithCancel(context.WithoutCancel(base))
	return d
}

// Submit hands over the next message of its partition. It blocks while
// MaxInFlight messages are outstanding, and returns ctx's error if ctx ends
// first (the message was not taken), or an error once the dispatcher is
// aborted. Offsets of one partition must increase.
func (d *Dispatcher) Submit(ctx context.Context, m *events.Message) error {
	if d.hctx.Err() != nil {
		return fmt.Errorf("dispatch: aborted")
	}
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.hctx.Done():
		return fmt.Errorf("dispatch: aborted")
	}
	tp := TopicPartition{m.Topic, m.Partition}
	j := &job{m: m, tp: tp}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.parts[tp]
	if p == nil {
		p = &part{next: -1}
		d.parts[tp] = p
	}
	p.queue = append(p.queue, j)
	if m.Key == "" { // no order needed: a lane of its own
		l := &lane{queue: []*job{j}}
		d.wg.Add(1)
		go d.run(laneKey{}, l, false)
		return nil
	}
	k := laneKey{tp, m.Key}
	if l, ok := d.lanes[k]; ok {
		l.queue = append(l.queue, j)
		return nil
	}
	l := &lane{queue: []*job{j}}
	d.lanes[k] = l
	d.wg.Add(1)
	go d.run(k, l, true)
	return nil
}

// run works through a lane until it is empty.
func (d *Dispatcher) run(k laneKey, l *lane, keyed bool) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		j := l.queue[0]
		d.mu.Unlock()

		ok := d.handle(j)

		d.mu.Lock()
		if ok {
			d.finish(j)
		}
		l.queue = l.queue[1:]
		empty := len(l.queue) == 0 || !ok
		if empty && keyed {
			delete(d.lanes, k)
		}
		d.mu.Unlock()
		<-d.sem
		if empty {
			return
		}
	}
}

// handle calls the handler until it succeeds; false means the dispatcher was
// aborted first and the message stays unfinished.
func (d *Dispatcher) handle(j *job) bool {
	delay := d.cfg.RedeliveryDelay
	for {
		if d.hctx.Err() != nil {
			return false
		}
		j.m.Delivery++
		err := call(d.hctx, d.cfg.Handler, j.m)
		if err == nil {
			return true
		}
		if d.hctx.Err() != nil {
			return false
		}
		d.log.Warn("handler failed; the message will be delivered again",
			zap.String("topic", j.m.Topic), zap.Int("partition", j.m.Partition), zap.Int64("offset", j.m.Offset),
			zap.Int("delivery", j.m.Delivery), zap.Duration("delay", delay), zap.Error(err))
		if clock.Sleep(d.hctx, delay) != nil {
			return false
		}
		delay = min(delay*2, d.cfg.MaxRedelivery)
	}
}

// call runs the handler, turning a panic into an error.
func call(ctx context.Context, h events.Handler, m *events.Message) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &events.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, m)
}

// finish marks j done and advances its partition's watermark. d.mu is held.
func (d *Dispatcher) finish(j *job) {
	j.done = true
	p := d.parts[j.tp]
	advanced := false
	for len(p.queue) > 0 && p.queue[0].done {
		p.next = p.queue[0].m.Offset + 1
		p.queue[0] = nil
		p.queue = p.queue[1:]
		advanced = true
	}
	if advanced {
		select {
		case d.progress <- struct{}{}:
		default:
		}
	}
}

// Progress receives a value (coalesced) whenever a watermark advances.
func (d *Dispatcher) Progress() <-chan struct{} { return d.progress }

// Watermarks returns, for every partition with finished messages, the offset
// to commit: one past the last message of its finished prefix.
func (d *Dispatcher) Watermarks() map[TopicPartition]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[TopicPartition]int64, len(d.parts))
	for tp, p := range d.parts {
		if p.next >= 0 {
			out[tp] = p.next
		}
	}
	return out
}

// Drain waits for the messages submitted so far to finish (the caller has
// stopped submitting). If they have not after timeout, it cancels the
// handlers' context and waits up to timeout more for them to return. It
// reports whether everything finished.
func (d *Dispatcher) Drain(timeout time.Duration) bool {
	if d.wait(timeout) {
		return true
	}
	d.log.Warn("drain timed out; cancelling the handlers in flight", zap.Duration("timeout", timeout))
	d.hcancel()
	d.wait(timeout)
	return false
}

// Abort cancels the handlers' context at once and waits up to timeout for
// them to return. What they had not finished stays uncommitted.
func (d *Dispatcher) Abort(timeout time.Duration) {
	d.hcancel()
	d.wait(timeout)
}

// Close releases the handlers' context; call it when the generation is over.
func (d *Dispatcher) Close() { d.hcancel() }

func (d *Dispatcher) wait(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
