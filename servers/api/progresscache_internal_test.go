package api

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
)

func entryOf(version string, rows int) *progressEntry {
	return newProgressEntry(version, make([]analytics.Progress, rows), rows < continueCandidates)
}

// TestProgressCacheIsBounded: the cache never holds more rows than its
// bound (a user without rows counts one); replacing a user's entry counts
// its rows once; an entry larger than the bound is not kept; drop and clear
// forget.
func TestProgressCacheIsBounded(t *testing.T) {
	c := newProgressCache(10)
	for i := range 20 {
		c.put(fmt.Sprint("u", i), entryOf("1", i%4))
		require.LessOrEqual(t, c.rows, 10)
		require.NotNil(t, c.get(fmt.Sprint("u", i)), "the newest entry is kept")
	}
	c.put("u19", entryOf("2", 4))
	c.put("u19", entryOf("3", 4))
	require.LessOrEqual(t, c.rows, 10)
	require.Equal(t, "3", c.get("u19").version)
	sum := 0
	for _, e := range c.m {
		sum += e.size()
	}
	require.Equal(t, sum, c.rows, "rows are counted exactly")
	c.put("big", entryOf("1", 11))
	require.Nil(t, c.get("big"))
	c.drop("u19")
	require.Nil(t, c.get("u19"))
	c.clear()
	require.Zero(t, c.len())
	require.Zero(t, c.rows)
}
