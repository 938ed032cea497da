package ops

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The access log's sampler: in each second the first entries, then every
// thereafter-th; a new second starts counting again.
func TestSamplerFirstThenEveryNth(t *testing.T) {
	s := &sampler{first: 3, thereafter: 4}
	t0 := time.Unix(1_700_000_000, 0)
	var got []int
	for i := 1; i <= 12; i++ {
		if s.allow(t0.Add(time.Duration(i) * time.Millisecond)) {
			got = append(got, i)
		}
	}
	require.Equal(t, []int{1, 2, 3, 7, 11}, got)
	require.True(t, s.allow(t0.Add(time.Second)), "a new second lets the first ones through again")
	require.True(t, s.allow(t0.Add(time.Second+time.Millisecond)))
	require.True(t, s.allow(t0.Add(time.Millisecond)), "a request that ended in the last second counts in this one")
	require.False(t, s.allow(t0.Add(time.Second+2*time.Millisecond)), "the first 3 of this second are through")
}

// Generated request ids are distinct UUIDv7s (RFC 9562 variant) carrying
// the millisecond they were made in.
func TestNewRequestIDIsUUIDv7(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		before := time.Now().UnixMilli()
		id := newRequestID()
		after := time.Now().UnixMilli()
		u, err := uuid.Parse(id)
		require.NoError(t, err, id)
		require.Equal(t, uuid.Version(7), u.Version(), id)
		require.Equal(t, uuid.RFC4122, u.Variant(), id)
		sec, nsec := u.Time().UnixTime()
		ms := sec*1000 + nsec/1e6
		require.True(t, ms >= before && ms <= after, "%s: %d ms not in [%d, %d]", id, ms, before, after)
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}
}
