package vimeoid_test

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/vimeoid"
)

// TestMapAgainstMap checks Map against a map[string]int on ids of every
// kind: decimal, leading zeros, too long for a uint64, not digits.
func TestMapAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ids := []string{"", "0", "00", "007", "7", "18446744073709551615", "18446744073709551616",
		"99999999999999999999", "1234567890123456789", "12a", "-1", " 1", "1 "}
	for range 200 {
		ids = append(ids, strconv.FormatUint(r.Uint64N(1000), 10))
	}
	m := vimeoid.New[int](0)
	oracle := map[string]int{}
	for step := range 2000 {
		id := ids[r.IntN(len(ids))]
		switch r.IntN(3) {
		case 0:
			m.Put(id, step)
			oracle[id] = step
		case 1:
			m.Delete(id)
			delete(oracle, id)
		}
		got, ok := m.Get(id)
		want, wok := oracle[id]
		require.Equal(t, wok, ok, id)
		require.Equal(t, want, got, id)
	}
	require.Equal(t, len(oracle), m.Len())
	require.Equal(t, oracle, maps.Collect(m.All()))
	want := slices.Sorted(maps.Values(oracle))
	require.Equal(t, want, slices.Sorted(m.Values()))

	c := m.Clone()
	c.Put("7", -1)
	c.Put("007", -2)
	v, _ := m.Get("7")
	require.NotEqual(t, -1, v, "a clone's writes do not reach the original")
	v, _ = m.Get("007")
	require.NotEqual(t, -2, v, "a clone's writes do not reach the original")
}

func TestZeroMapReads(t *testing.T) {
	var m vimeoid.Map[int]
	_, ok := m.Get("1")
	require.False(t, ok)
	require.Zero(t, m.Len())
	require.Empty(t, maps.Collect(m.All()))
}
