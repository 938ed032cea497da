//go:build !race

package vimeosource_test

const raceEnabled = false
