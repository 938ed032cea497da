//go:build race

package kafkabus_test

// raceEnabled: the race detector slows the crash test's handlers (a
// PostgreSQL transaction each) about fivefold, so it runs a smaller variant.
const raceEnabled = true
