package memstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/storetest"
	"github.com/vidlib/vidlib/tree"
)

func TestEventsOutbox(t *testing.T) {
	storetest.TestOutbox(t, func(*testing.T) storetest.OutboxStore { return memstore.New() })
}

func TestEventsDeadLetters(t *testing.T) {
	storetest.TestDeadLetters(t, func(*testing.T) events.DeadLetterStore { return memstore.New() })
}

func TestEventsDeadLetterCount(t *testing.T) {
	storetest.TestDeadLetterCount(t, func(*testing.T) storetest.DeadLetterCountStore { return memstore.New() })
}

func TestEventsProviderEvents(t *testing.T) {
	storetest.TestProviderEvents(t, func(*testing.T) events.ProviderEventStore { return memstore.New() })
}

func TestEventsDeduper(t *testing.T) {
	storetest.TestDeduper(t, func(*testing.T) events.Deduper { return memstore.New() })
}

func TestEventsTxDeduper(t *testing.T) {
	storetest.TestTxDeduper(t, func(*testing.T) storetest.TxDeduperHarness[struct{}] {
		var mu sync.Mutex
		writes := map[string]int{}
		return storetest.TxDeduperHarness[struct{}]{
			Store: memstore.New(),
			Write: func(_ context.Context, _ struct{}, key string) error {
				mu.Lock()
				defer mu.Unlock()
				writes[key]++
				return nil
			},
			Count: func(_ *testing.T, key string) int {
				mu.Lock()
				defer mu.Unlock()
				return writes[key]
			},
			Atomic: false,
		}
	})
}

// Rows that tree transactions write are relayed, once, in order with the
// store's own rows.
func TestEventsTreeOutboxIsRelayed(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		return tx.EnqueueOutbox(ctx, events.TopicVimeoSyncNormalized, "video:1", []byte(`{"n":1}`))
	})
	require.NoError(t, err)
	require.NoError(t, s.EnqueueOutbox(ctx, events.TopicAudit, "video:1", []byte(`{"n":2}`)))
	var got []string
	relay := func() int {
		n, err := s.RelayOutbox(ctx, 10, func(_ context.Context, batch []events.OutboxRecord) []error {
			for _, r := range batch {
				got = append(got, r.Topic+" "+string(r.Payload))
			}
			return nil
		})
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 2, relay())
	require.Zero(t, relay(), "imported tree rows are relayed once")
	require.Equal(t, []string{events.TopicVimeoSyncNormalized + ` {"n":1}`, events.TopicAudit + ` {"n":2}`}, got)
}
