package library_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
)

// TestLocalVersions: every subscriber gets what is published after it
// subscribed; a publisher never blocks on a subscriber that does not read;
// stop closes the channel and ends the subscription.
func TestLocalVersions(t *testing.T) {
	v := library.NewLocalVersions()
	ctx := context.Background()
	a, stopA := v.Subscribe(ctx)
	b, stopB := v.Subscribe(ctx)
	require.NoError(t, v.Publish(ctx, library.VersionContent, 7))
	for _, ch := range []<-chan library.VersionChange{a, b} {
		select {
		case c := <-ch:
			require.Equal(t, library.VersionChange{Name: library.VersionContent, Version: 7}, c)
		case <-time.After(5 * time.Second):
			t.Fatal("no change delivered")
		}
	}
	// b stops reading: a hundred publishes still return at once.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			_ = v.Publish(ctx, library.VersionEntitlement, int64(i))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	stopA()
	for range a { // drains what was buffered, then closes
	}
	stopB()
	for range b {
	}
}
