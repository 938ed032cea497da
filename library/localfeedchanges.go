package library

import (
	"context"
	"sync"
	"sync/atomic"
)

// LocalFeedChanges carries feed announcements from the ranking pipeline to
// the library inside one process (`vidlib all` or the demo without Redis):
// Announce hands every subscriber the user id without ever blocking, and a
// subscriber whose 64-deep buffer overflowed is told "" (any feed may have
// changed) before its next id. Across processes use Redis
// (servers/api.RedisFeedChanges). Where nobody announces, the Service
// still keeps the feeds it served and reads one again after FeedMaxAge. It
// is a FeedChanges; the zero value is not usable: call NewLocalFeedChanges.
type LocalFeedChanges struct {
	mu   sync.Mutex
	subs map[*feedSub]struct{}
}

type feedSub struct {
	ch     chan string
	missed atomic.Bool
}

var _ FeedChanges = (*LocalFeedChanges)(nil)

// NewLocalFeedChanges returns an in-process announcer with no subscribers.
func NewLocalFeedChanges() *LocalFeedChanges {
	return &LocalFeedChanges{subs: map[*feedSub]struct{}{}}
}

// Announce tells every current subscriber that user's stored feed changed.
// It never blocks.
func (l *LocalFeedChanges) Announce(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs {
		select {
		case s.ch <- user:
		default:
			s.missed.Store(true)
		}
	}
}

// Subscribe returns the announcements made from now on until ctx ends or
// stop is called; the channel is closed then.
func (l *LocalFeedChanges) Subscribe(ctx context.Context) (<-chan string, func()) {
	s := &feedSub{ch: make(chan string, 64)}
	out := make(chan string)
	l.mu.Lock()
	l.subs[s] = struct{}{}
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(out)
		defer func() {
			l.mu.Lock()
			delete(l.subs, s)
			l.mu.Unlock()
		}()
		for {
			var user string
			select {
			case <-ctx.Done():
				return
			case user = <-s.ch:
			}
			if s.missed.Swap(false) {
				user = "" // some were dropped: any feed may have changed
			}
			select {
			case <-ctx.Done():
				return
			case out <- user:
			}
		}
	}()
	return out, cancel
}
