// Package loadgen is vidlib's HTTP load generator: an open-model runner that
// sends requests at a constant arrival rate and reports latency percentiles
// and throughput per endpoint, plus the mixed read workload of the library
// API. `vidlib bench` drives it; package loadgen/dataset generates the data
// set it runs against.
//
// # Open model
//
// Run schedules request i at start + i/Rate, whatever happened to the
// requests before it, sends each in its own goroutine, and measures its
// latency from that intended time to the end of the answer. A server that
// stalls therefore shows its stall in every request that should have been
// sent meanwhile (no coordinated omission). The service time (from the
// actual send) and the generator's send lag are reported too, so a slow
// generator can be told from a slow server. Requests in flight are capped
// (Options.MaxInFlight); a request due while the cap is reached is not sent
// and counts as an error ("overflow"), so the offered load is never reduced
// silently. Latencies go into HDR histograms (1 µs to 1 min, three
// significant digits), from which the percentiles are read.
//
// Each request has an expected status: any 2xx by default, 404 for a
// request aimed at an object its user may not see. Anything else (another
// status, a timeout, a transport error, an overflow) is an error, counted
// by kind in Stats.Statuses.
//
// FindMax steps the rate up until the p99 latency passes a bound or errors
// appear, bisects, and reports the last good rate.
//
// # Workload
//
// Workload mixes home, folder, video and playback requests (Mix, default
// 20/50/25/5 %) of random users. Each user belongs to an Audience, given as
// samples of the folder and video ids it can see and of ids it cannot; most
// requests aim at visible objects, a share (WorkloadOptions.Misses) at
// invisible ones. Tokens are input: this package never mints them.
//
// # Server usage
//
// With Options.PID, Run reads /proc/<pid> (Linux) at the start and end of the
// measured window for CPU time and samples the resident set size every
// 100 ms. For an in-process server that is this process, load generator
// included.
//
// # Errors and concurrency
//
// Bad options are ErrInvalid. Run, FindMax and a Workload are safe for
// concurrent use; a Result is not synchronised and is read after Run returns.
package loadgen
