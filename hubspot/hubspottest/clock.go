package hubspottest

import (
	"time"

	"github.com/vidlib/vidlib/internal/clock"
)

// VirtualClock only moves when someone sleeps or calls Advance: Sleep(d)
// moves it forward by d and returns at once, so rate-limit waits, backoffs
// and token lifetimes cost no real time. It satisfies hubspot.Clock and
// Clock, so one value drives the client and the fake. It is clock.Virtual,
// the one virtual clock of the fakes.
type VirtualClock = clock.Virtual

// NewVirtualClock returns a clock reading start.
func NewVirtualClock(start time.Time) *VirtualClock { return clock.NewVirtual(start) }
