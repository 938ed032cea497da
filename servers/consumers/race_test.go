//go:build race

package consumers_test

// raceEnabled: the race detector slows the crash test about fivefold, so it
// runs a smaller variant.
const raceEnabled = true
