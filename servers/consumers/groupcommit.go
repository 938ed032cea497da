package consumers

import (
	"context"
	"sync"

	"github.com/vidlib/vidlib/analytics"
)

// groupCommit merges the batches of concurrent handler calls into shared
// store transactions, without goroutines of its own: a call that finds
// fewer than max transactions running leads, applying the waiting batches
// (its own among them) in groups of up to maxEvents events until its own is
// done; then it hands the lead to a waiting call, or steps down when none
// waits. The other calls wait for their batch to be done.
type groupCommit struct {
	max, maxEvents int

	mu      sync.Mutex
	pending []*applyReq
	leaders int
}

// applyReq is one handler call's batch.
type applyReq struct {
	evs   []analytics.Event
	woken bool          // handed the lead (under mu)
	lead  chan struct{} // closed when handed the lead
	// Set by the leader that applied it, before done is closed.
	err  error
	dup  bool
	done chan struct{}
}

// apply returns once r is applied, with its error.
func (g *groupCommit) apply(ctx context.Context, r *applyReq, fn func(context.Context, []*applyReq)) error {
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

func (g *groupCommit) lead(ctx context.Context, own *applyReq, fn func(context.Context, []*applyReq)) {
	for {
		g.mu.Lock()
		if isClosed(own.done) || len(g.pending) == 0 {
			g.stepDown()
			g.mu.Unlock()
			return
		}
		n, events := 0, 0
		for n < len(g.pending) && (n == 0 || events+len(g.pending[n].evs) <= g.maxEvents) {
			events += len(g.pending[n].evs)
			n++
		}
		group := make([]*applyReq, n)
		copy(group, g.pending)
		g.pending = g.pending[n:]
		g.mu.Unlock()
		fn(ctx, group)
	}
}

// stepDown hands the lead to the first waiting call not handed it yet, or
// gives the leader's place up. Called with mu held.
func (g *groupCommit) stepDown() {
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
