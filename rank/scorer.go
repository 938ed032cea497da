package rank

// Signal names one kind of evidence for recommending a video; each has a
// reason an app can show.
type Signal int

// The signals, in the order of Contributions.
const (
	SignalContinue   Signal = iota // an unfinished video: "Continue watching"
	SignalAffinity                 // watch time in its folder subtree: "Because you watched …"
	SignalPopular                  // popular within the user's audience: "Popular with …"
	SignalFresh                    // recently added: "New in …"
	SignalCompletion               // often watched to the end
	NumSignals
)

// Contributions are a Scorer's answer: how much each signal adds to the
// score. The score is their sum; the reason is the largest.
type Contributions [NumSignals]float64

// Sum is the score.
func (c Contributions) Sum() float64 {
	s := 0.0
	for _, v := range c {
		s += v
	}
	return s
}

// Top is the signal that contributes most (the lowest on ties).
func (c Contributions) Top() Signal {
	best := Signal(0)
	for s := Signal(1); s < NumSignals; s++ {
		if c[s] > c[best] {
			best = s
		}
	}
	return best
}

// Scorer turns a candidate's features into contributions. Implementations
// must be safe for concurrent use and return finite, non-negative values.
type Scorer interface {
	Score(u *User, f *Features) Contributions
}

// Weights of the Linear scorer, one per signal.
type Weights [NumSignals]float64

// DefaultWeights put an unfinished video first, then the user's folders,
// then what the audience watches, then what is new: for a user without
// history that is "popular within the audience, then new".
var DefaultWeights = Weights{
	SignalContinue:   4,
	SignalAffinity:   3,
	SignalPopular:    1,
	SignalFresh:      0.4,
	SignalCompletion: 0.2,
}

// Linear is the default Scorer: each feature times its weight.
type Linear struct{ Weights Weights }

// Score implements Scorer.
func (l Linear) Score(_ *User, f *Features) Contributions {
	return Contributions{
		SignalContinue:   l.Weights[SignalContinue] * f.Continue,
		SignalAffinity:   l.Weights[SignalAffinity] * f.Affinity,
		SignalPopular:    l.Weights[SignalPopular] * f.Popularity,
		SignalFresh:      l.Weights[SignalFresh] * f.Freshness,
		SignalCompletion: l.Weights[SignalCompletion] * f.CompletionRate * min(1, 4*f.Popularity),
	}
}

// Only is a Scorer that uses one signal alone (the baselines of offline
// evaluation: Only(SignalPopular), Only(SignalFresh)).
type Only Signal

// Score implements Scorer.
func (o Only) Score(u *User, f *Features) Contributions {
	all := Linear{Weights: Weights{1, 1, 1, 1, 1}}.Score(u, f)
	var c Contributions
	c[o] = all[o]
	return c
}
