package consumers

import (
	"context"
	"sync"
)

// groupCommit merges the items of concurrent handler calls (the analytics
// consumer's batches, the audit consumer's records) into shared store
// transactions, without goroutines of its own: a call that finds fewer than
// max transactions running leads, applying the waiting items (its own among
// them) in groups of up to maxSize (each item counts size(item), or 1 when
// size is nil; a group holds at least one item) until its own is done; then
// it hands the lead to a waiting call, or steps down when none waits. The
// other calls wait for their item to be done.
type groupCommit[T any] struct {
	max, maxSize int
	size         func(T) int

	mu      sync.Mutex
	pending []*commitReq[T]
	leaders int
}

// commitReq is one handler call's item.
type commitReq[T any] struct {
	item  T
	woken bool          // handed the lead (under mu)
	lead  chan struct{} // closed when handed the lead
	// Set by the leader that applied it, before done is closed.
	err  error
	dup  bool
	done chan struct{}
}

func newCommitReq[T any](item T) *commitReq[T] {
	return &commitReq[T]{item: item, done: make(chan struct{}), lead: make(chan struct{})}
}

// answer sets the outcome of r and wakes its call.
func (r *commitReq[T]) answer(err error, dup bool) {
	r.err, r.dup = err, dup
	close(r.done)
}

// apply returns once r is applied, with its error. fn applies a group and
// answers every request of it.
func (g *groupCommit[T]) apply(ctx context.Context, r *commitReq[T], fn func(context.Context, []*commitReq[T])) error {
	g.mu.Lock()
	g.pending = append(g.pending, r)
	leading := g.leaders < g.max
	if leading {
		g.leaders++
	}
	g.mu.Unlock()
	if !leading {
		select {
		case <-r.lead:
			leading = true
		case <-r.done:
			g.mu.Lock()
			leading = r.woken // handed the lead as it was applied by another
			g.mu.Unlock()
		}
	}
	if leading {
		g.lead(ctx, r, fn)
	}
	<-r.done
	return r.err
}

func (g *groupCommit[T]) lead(ctx context.Context, own *commitReq[T], fn func(context.Context, []*commitReq[T])) {
	for {
		g.mu.Lock()
		if isClosed(own.done) || len(g.pending) == 0 {
			g.stepDown()
			g.mu.Unlock()
			return
		}
		n, size := 0, 0
		for n < len(g.pending) && (n == 0 || size+g.sizeOf(g.pending[n].item) <= g.maxSize) {
			size += g.sizeOf(g.pending[n].item)
			n++
		}
		group := make([]*commitReq[T], n)
		copy(group, g.pending)
		g.pending = g.pending[n:]
		g.mu.Unlock()
		fn(ctx, group)
	}
}

func (g *groupCommit[T]) sizeOf(item T) int {
	if g.size == nil {
		return 1
	}
	return g.size(item)
}

// stepDown hands the lead to the first waiting call not handed it yet, or
// gives the leader's place up. Called with mu held.
func (g *groupCommit[T]) stepDown() {
	for _, r := range g.pending {
		if !r.woken {
			r.woken = true
			close(r.lead)
			return
		}
	}
	g.leaders--
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
