package library

import "context"

// LocalFeedChanges carries feed announcements from the ranking pipeline to
// the library inside one process (`vidlib all` or the demo without Redis):
// Announce hands every subscriber the user id without ever blocking, and a
// subscriber whose 64-deep buffer overflowed is told "" (any feed may have
// changed) before its next id. Across processes use Redis
// (servers/api.RedisFeedChanges). Where nobody announces, the Service
// still keeps the feeds it served and reads one again after FeedMaxAge. It
// is a FeedChanges; the zero value is not usable: call NewLocalFeedChanges.
type LocalFeedChanges struct {
	hub *localHub[string]
}

var _ FeedChanges = (*LocalFeedChanges)(nil)

// NewLocalFeedChanges returns an in-process announcer with no subscribers.
func NewLocalFeedChanges() *LocalFeedChanges {
	// Some were dropped: any feed may have changed.
	return &LocalFeedChanges{hub: newLocalHub(64, func(string) string { return "" })}
}

// Announce tells every current subscriber that user's stored feed changed.
// It never blocks.
func (l *LocalFeedChanges) Announce(user string) { l.hub.send(user) }

// Subscribe returns the announcements made from now on until ctx ends or
// stop is called; the channel is closed then.
func (l *LocalFeedChanges) Subscribe(ctx context.Context) (<-chan string, func()) {
	return l.hub.subscribe(ctx)
}
