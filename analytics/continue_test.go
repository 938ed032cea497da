package analytics_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
)

// TestContinueEqualsFold: random sessions (every event type, ties in time,
// pauses, seeks, long silences, completions), split at a random point of
// their order: folding the first part and continuing with the rest gives
// exactly the fold of all of them, with either duration; an event that is
// not after the session's last one is refused and changes nothing.
func TestContinueEqualsFold(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	types := []analytics.Type{analytics.TypeVideoOpened, analytics.TypePlaybackStarted, analytics.TypeHeartbeat, analytics.TypeHeartbeat,
		analytics.TypeHeartbeat, analytics.TypePaused, analytics.TypeSeeked, analytics.TypeCompleted, analytics.TypeChatOpened}
	base := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	for round := range 2000 {
		n := 1 + r.IntN(60)
		evs := make([]analytics.Event, n)
		at := base
		for i := range evs {
			at = at.Add(time.Duration(r.IntN(4)) * time.Duration(1+r.IntN(900)) * time.Millisecond * 10)
			evs[i] = analytics.Event{ID: uuid.NewString(), Type: types[r.IntN(len(types))], SessionID: "s", UserID: "u", VideoID: "v",
				Position: float64(r.IntN(700)) + r.Float64(), OccurredAt: at}
		}
		dur := []float64{0, 65, 600}[r.IntN(3)]
		rules := analytics.Rules{}
		all := slices.Clone(evs)
		want, wantCarry := analytics.FoldState(slices.Clone(all), dur, rules)
		require.Equal(t, analytics.Fold(slices.Clone(all), dur, rules), want)

		analytics.Sort(evs)
		k := 1 + r.IntN(n)
		s, c := analytics.FoldState(slices.Clone(evs[:k]), dur, rules)
		rest := slices.Clone(evs[k:])
		r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		got, gotCarry, ok := analytics.Continue(s, c, rest, dur, rules)
		require.True(t, ok, "round %d", round)
		require.Equal(t, want, got, "round %d: split at %d of %d", round, k, n)
		require.Equal(t, wantCarry, gotCarry)

		if k > 1 { // an event among the folded ones, or before the last
			early := evs[r.IntN(k-1)]
			early.ID = uuid.NewString()
			s2, c2, ok := analytics.Continue(s, c, append(slices.Clone(evs[k:]), early), dur, rules)
			if early.OccurredAt.Before(s.End) {
				require.False(t, ok)
				require.Equal(t, s, s2)
				require.Equal(t, c, c2)
			}
		}
	}
}
