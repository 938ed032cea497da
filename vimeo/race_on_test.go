//go:build race

package vimeo_test

// raceEnabled lets the slowest randomised tests run fewer cases under -race.
const raceEnabled = true
