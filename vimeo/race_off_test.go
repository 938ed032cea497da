//go:build !race

package vimeo_test

const raceEnabled = false
