package library

import "context"

// LocalVersions carries version changes from writers to readers inside one
// process (the embedded default, `vidlib all`, the demo): Publish hands every
// subscriber the change without ever blocking the publisher, and a
// subscriber that is behind gets the newest versions when it reads again
// (changes beyond its 16-deep buffer are dropped: a slow reader still polls
// the store). Across processes use Redis pub/sub instead. It is a Versions;
// the zero value is not usable: call NewLocalVersions.
type LocalVersions struct {
	hub *localHub[VersionChange]
}

var _ Versions = (*LocalVersions)(nil)

// NewLocalVersions returns an in-process notifier with no subscribers.
func NewLocalVersions() *LocalVersions {
	return &LocalVersions{hub: newLocalHub[VersionChange](16, nil)}
}

// Publish tells every current subscriber that name is now at version v. It
// never blocks and never fails.
func (l *LocalVersions) Publish(_ context.Context, name string, v int64) error {
	l.hub.send(VersionChange{Name: name, Version: v})
	return nil
}

// Subscribe returns the changes published from now on until ctx ends or
// stop is called; the channel is closed then.
func (l *LocalVersions) Subscribe(ctx context.Context) (<-chan VersionChange, func()) {
	return l.hub.subscribe(ctx)
}
