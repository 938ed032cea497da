package library

import (
	"context"
	"sync"
)

// LocalVersions carries version changes from writers to readers inside one
// process (the embedded default, `vidlib all`, the demo): Publish hands every
// subscriber the change without ever blocking the publisher, and a
// subscriber that is behind gets the newest versions when it reads again
// (changes beyond its 16-deep buffer are dropped: a slow reader still polls
// the store). Across processes use Redis pub/sub instead. It is a Versions;
// the zero value is not usable: call NewLocalVersions.
type LocalVersions struct {
	mu   sync.Mutex
	subs map[chan VersionChange]struct{}
}

var _ Versions = (*LocalVersions)(nil)

// NewLocalVersions returns an in-process notifier with no subscribers.
func NewLocalVersions() *LocalVersions {
	return &LocalVersions{subs: map[chan VersionChange]struct{}{}}
}

// Publish tells every current subscriber that name is now at version v. It
// never blocks and never fails.
func (l *LocalVersions) Publish(_ context.Context, name string, v int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		select {
		case ch <- VersionChange{Name: name, Version: v}:
		default: // a slow reader still polls the store
		}
	}
	return nil
}

// Subscribe returns the changes published from now on until ctx ends or
// stop is called; the channel is closed then.
func (l *LocalVersions) Subscribe(ctx context.Context) (<-chan VersionChange, func()) {
	in := make(chan VersionChange, 16)
	out := make(chan VersionChange)
	l.mu.Lock()
	l.subs[in] = struct{}{}
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(out)
		defer func() {
			l.mu.Lock()
			delete(l.subs, in)
			l.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-in:
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, cancel
}
