//go:build race

package vimeosource_test

// raceEnabled lets the biggest trees run smaller under -race.
const raceEnabled = true
