package entitle

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunsRoundTrip checks runsOf, has and bits against the bitsets they
// come from: sparse, dense, long runs and single bits, word edges included.
func TestRunsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		n := 1 + r.IntN(20)
		b := make([]uint64, n)
		switch trial % 4 {
		case 0: // random bits
			for i := range b {
				b[i] = r.Uint64() & r.Uint64()
			}
		case 1: // a few long runs
			for range 1 + r.IntN(4) {
				lo := r.IntN(n * 64)
				hi := lo + r.IntN(n*64-lo+1)
				for i := lo; i < hi; i++ {
					setBit(b, int32(i))
				}
			}
		case 2: // all set
			for i := range b {
				b[i] = ^uint64(0)
			}
		}
		rs := runsOf(b)
		require.Zero(t, len(rs)%2, "bounds come in pairs")
		for k := 1; k < len(rs); k++ {
			require.Less(t, rs[k-1], rs[k], "bounds ascend and runs do not touch")
		}
		for i := range int32(n * 64) {
			require.Equal(t, hasBit(b, i), rs.has(i), "trial %d bit %d", trial, i)
		}
		require.False(t, rs.has(int32(n*64)))
		require.Equal(t, b, rs.bits(n), "trial %d", trial)
	}
}
