package library_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
)

func TestLocalFeedChanges(t *testing.T) {
	l := library.NewLocalFeedChanges()
	l.Announce("before") // no subscriber yet: nobody is told
	ch, stop := l.Subscribe(context.Background())
	l.Announce("u1")
	require.Equal(t, "u1", <-ch)

	// A reader that falls behind is told "" instead of the ids it lost.
	for range 200 {
		l.Announce("u2")
	}
	got := <-ch
	for got == "u2" {
		got = <-ch
	}
	require.Equal(t, "", got, "an overflow is announced as a possible change of any feed")

	stop()
	for range ch { // drained and closed
	}
	l.Announce("after") // never blocks without subscribers
}
