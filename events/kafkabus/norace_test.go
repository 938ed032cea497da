//go:build !race

package kafkabus_test

const raceEnabled = false
