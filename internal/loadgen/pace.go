package loadgen

import (
	"context"
	"time"
)

// pace calls fn(seq, due) for seq = 0 … total-1, each at (or as soon as
// possible after) its due time start + seq·interval, and stops early when ctx
// is done. Late calls are made at once, in order: the schedule never slips.
func pace(ctx context.Context, start time.Time, interval float64, total uint64, fn func(seq uint64, due time.Time)) error {
	errc := make(chan error, 1)
	go func() {
		sleep := preciseSleeper()
		for seq := uint64(0); seq < total; seq++ {
			due := start.Add(time.Duration(float64(seq) * interval))
			for d := time.Until(due); d > 0; d = time.Until(due) {
				sleep(d)
			}
			if ctx.Err() != nil {
				errc <- ctx.Err()
				return
			}
			fn(seq, due)
		}
		errc <- nil
	}()
	return <-errc
}
