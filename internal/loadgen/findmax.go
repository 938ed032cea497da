package loadgen

import (
	"context"
	"fmt"
	"time"
)

// FindMaxOptions tune FindMax. The zero value (and nil) is valid.
type FindMaxOptions struct {
	// Start is the first rate tried (default 500/s).
	Start float64
	// Factor multiplies the rate after each good step (default 1.25).
	Factor float64
	// Limit is the highest rate tried (default 1,000,000/s).
	Limit float64
	// Refine is how many bisection steps follow the first bad step, between
	// the last good and the first bad rate (default 2; negative: none).
	Refine int
	// P99 is the latency bound of a good step (default 10 ms).
	P99 time.Duration
	// OnStep, if set, is called after every step (to print progress).
	OnStep func(Step)
}

// Step is one rate FindMax tried.
type Step struct {
	Rate   float64 `json:"rate"`
	Good   bool    `json:"good"`
	Reason string  `json:"reason,omitempty"` // why a step was bad
	Result *Result `json:"result"`
}

// MaxResult is the outcome of FindMax.
type MaxResult struct {
	// Rate is the highest rate that ran good: p99 within bound and no error
	// (0 if even the first step was bad).
	Rate  float64 `json:"max_sustainable_rate"`
	Best  *Result `json:"best,omitempty"` // the result at Rate
	Steps []Step  `json:"steps"`
}

// FindMax looks for the highest sustainable arrival rate: it runs steps of
// run (run.Rate is ignored), raising the rate by Factor while a step is good,
// then bisects Refine times between the last good and the first bad rate. A
// step is good when it had no error and its total p99 latency (from intended
// send times) is within P99.
func FindMax(ctx context.Context, target string, next func(seq uint64) Request, run Options, opts *FindMaxOptions) (*MaxResult, error) {
	var o FindMaxOptions
	if opts != nil {
		o = *opts
	}
	if o.Start <= 0 {
		o.Start = 500
	}
	if o.Factor <= 1 {
		if o.Factor != 0 {
			return nil, fmt.Errorf("%w: Factor %v must be above 1", ErrInvalid, o.Factor)
		}
		o.Factor = 1.25
	}
	if o.Limit <= 0 {
		o.Limit = 1_000_000
	}
	if o.Refine == 0 {
		o.Refine = 2
	}
	if o.P99 <= 0 {
		o.P99 = 10 * time.Millisecond
	}
	out := &MaxResult{}
	step := func(rate float64) (bool, error) {
		run.Rate = rate
		res, err := Run(ctx, target, next, &run)
		if err != nil {
			return false, err
		}
		s := Step{Rate: rate, Result: res, Good: true}
		switch {
		case res.Total.Errors > 0:
			s.Good, s.Reason = false, fmt.Sprintf("%d errors", res.Total.Errors)
		case res.Total.Latency.P99 > o.P99:
			s.Good, s.Reason = false, fmt.Sprintf("p99 %v > %v", res.Total.Latency.P99, o.P99)
		}
		out.Steps = append(out.Steps, s)
		if s.Good && rate > out.Rate {
			out.Rate, out.Best = rate, res
		}
		if o.OnStep != nil {
			o.OnStep(s)
		}
		return s.Good, nil
	}
	good, bad := 0.0, 0.0
	for rate := o.Start; rate <= o.Limit; rate *= o.Factor {
		ok, err := step(rate)
		if err != nil {
			return out, err
		}
		if !ok {
			bad = rate
			break
		}
		good = rate
	}
	for i := 0; bad > 0 && good > 0 && i < o.Refine; i++ {
		mid := (good + bad) / 2
		ok, err := step(mid)
		if err != nil {
			return out, err
		}
		if ok {
			good = mid
		} else {
			bad = mid
		}
	}
	return out, nil
}
