package membus_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events/eventstest"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/internal/testenv"
)

func TestConformance(t *testing.T) {
	eventstest.Run(t, eventstest.Harness{
		New: func(t *testing.T) eventstest.Env {
			b, err := membus.New(&membus.Options{Partitions: 4})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, b.Close()) })
			return eventstest.Env{Bus: b}
		},
	})
}

func TestMain(m *testing.M) { testenv.Main(m) }
