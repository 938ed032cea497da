package consumers

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// commitRecorder is a group commit's apply function that records the groups
// it is given and how many run at once, and blocks the first blocked calls
// until release is closed.
type commitRecorder struct {
	release chan struct{}
	blocked int // how many of the first calls wait for release

	mu      sync.Mutex
	groups  [][]int
	running int
	most    int
}

var errItem = errors.New("item refused")

func (c *commitRecorder) apply(_ context.Context, reqs []*commitReq[int]) {
	items := make([]int, len(reqs))
	for i, r := range reqs {
		items[i] = r.item
	}
	c.mu.Lock()
	c.running++
	c.most = max(c.most, c.running)
	c.groups = append(c.groups, items)
	wait := len(c.groups) <= c.blocked
	c.mu.Unlock()
	if wait {
		<-c.release
	}
	c.mu.Lock()
	c.running--
	c.mu.Unlock()
	for _, r := range reqs {
		var err error
		if r.item == 4 {
			err = errItem
		}
		r.answer(err, r.item%2 == 0)
	}
}

func (c *commitRecorder) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.groups)
}

// waitFor spins until cond holds (a hang is caught by the test timeout).
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

func (g *groupCommit[T]) state() (pending, leaders int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending), g.leaders
}

type commitResult struct {
	item int
	err  error
	dup  bool
}

func startApply(g *groupCommit[int], c *commitRecorder, item int, out chan<- commitResult) {
	go func() {
		r := newCommitReq(item)
		err := g.apply(context.Background(), r, c.apply)
		out <- commitResult{item: item, err: err, dup: r.dup}
	}()
}

// The items that wait while a transaction runs are applied together, in
// arrival order, in groups of up to maxSize (an item larger than that goes
// alone), one transaction at a time with max 1; every call gets its own
// outcome, and the lead passes from call to call until none waits.
func TestGroupCommitGroupsWaitingItemsBySize(t *testing.T) {
	g := &groupCommit[int]{max: 1, maxSize: 5, size: func(n int) int { return n }}
	c := &commitRecorder{release: make(chan struct{}), blocked: 1}
	out := make(chan commitResult, 5)
	startApply(g, c, 1, out)
	waitFor(func() bool { return c.calls() == 1 })
	for i, item := range []int{2, 3, 4, 9} {
		startApply(g, c, item, out)
		waitFor(func() bool { p, _ := g.state(); return p == i+1 })
	}
	close(c.release)
	got := map[int]commitResult{}
	for range 5 {
		r := <-out
		got[r.item] = r
	}
	require.Equal(t, [][]int{{1}, {2, 3}, {4}, {9}}, c.groups)
	require.Equal(t, 1, c.most, "one transaction at a time")
	for _, item := range []int{1, 2, 3, 9} {
		require.NoError(t, got[item].err, "item %d", item)
		require.Equal(t, item%2 == 0, got[item].dup, "item %d", item)
	}
	require.ErrorIs(t, got[4].err, errItem)
	pending, leaders := g.state()
	require.Zero(t, pending)
	require.Zero(t, leaders, "the last leader stepped down")
}

// With max 2, a second call leads a transaction of its own while the first
// runs; a third waits and is applied by whichever leader finds it.
func TestGroupCommitRunsUpToMaxTransactions(t *testing.T) {
	g := &groupCommit[int]{max: 2, maxSize: 10}
	c := &commitRecorder{release: make(chan struct{}), blocked: 2}
	out := make(chan commitResult, 3)
	startApply(g, c, 1, out)
	waitFor(func() bool { return c.calls() == 1 })
	startApply(g, c, 3, out)
	waitFor(func() bool { return c.calls() == 2 })
	startApply(g, c, 5, out)
	waitFor(func() bool { p, l := g.state(); return p == 1 && l == 2 })
	close(c.release)
	for range 3 {
		require.NoError(t, (<-out).err)
	}
	require.Equal(t, [][]int{{1}, {3}, {5}}, c.groups)
	require.Equal(t, 2, c.most)
	pending, leaders := g.state()
	require.Zero(t, pending)
	require.Zero(t, leaders)
}
