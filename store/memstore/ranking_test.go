package memstore_test

import (
	"testing"

	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/storetest"
)

func TestRankingConformance(t *testing.T) {
	storetest.TestRankingStore(t, func(*testing.T) (storetest.RankingStore, string, string) {
		return memstore.New(), "u-1", "u-2"
	})
}
