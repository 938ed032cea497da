package api

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProgressCacheIsBounded: the cache never holds more users than its
// bound; replacing a user's entry evicts nothing; drop and clear forget.
func TestProgressCacheIsBounded(t *testing.T) {
	c := newProgressCache(3)
	for i := range 10 {
		c.put(fmt.Sprint("u", i), &progressEntry{version: "1"})
		require.LessOrEqual(t, c.len(), 3)
	}
	require.Equal(t, 3, c.len())
	require.NotNil(t, c.get("u9"), "the newest entry is kept")
	c.put("u9", &progressEntry{version: "2"})
	require.Equal(t, 3, c.len())
	require.Equal(t, "2", c.get("u9").version)
	c.drop("u9")
	require.Nil(t, c.get("u9"))
	c.clear()
	require.Zero(t, c.len())
}
