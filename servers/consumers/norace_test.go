//go:build !race

package consumers_test

const raceEnabled = false
