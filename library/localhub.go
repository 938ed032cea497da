package library

import (
	"context"
	"sync"
	"sync/atomic"
)

// localHub is the in-process fan-out behind LocalVersions and
// LocalFeedChanges: send hands every subscriber a value without ever
// blocking, dropping it for a subscriber whose buffer (depth) is full; such
// a subscriber's next value goes through missed first, when set.
type localHub[T any] struct {
	depth  int
	missed func(next T) T // what a subscriber that lost values is told instead of next (nil: next)

	mu   sync.Mutex
	subs map[*localSub[T]]struct{}
}

type localSub[T any] struct {
	ch     chan T
	missed atomic.Bool
}

func newLocalHub[T any](depth int, missed func(T) T) *localHub[T] {
	return &localHub[T]{depth: depth, missed: missed, subs: map[*localSub[T]]struct{}{}}
}

func (h *localHub[T]) send(v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.ch <- v:
		default:
			s.missed.Store(true)
		}
	}
}

// subscribe returns the values sent from now on until ctx ends or stop is
// called; the channel is closed then.
func (h *localHub[T]) subscribe(ctx context.Context) (<-chan T, func()) {
	s := &localSub[T]{ch: make(chan T, h.depth)}
	out := make(chan T)
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(out)
		defer func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
		}()
		for {
			var v T
			select {
			case <-ctx.Done():
				return
			case v = <-s.ch:
			}
			if s.missed.Swap(false) && h.missed != nil {
				v = h.missed(v)
			}
			select {
			case <-ctx.Done():
				return
			case out <- v:
			}
		}
	}()
	return out, cancel
}
