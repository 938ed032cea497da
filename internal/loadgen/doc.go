// Package loadgen is vidlib's HTTP load generator: an open-model runner that
// sends requests at a constant arrival rate and reports latency percentiles
// and throughput per endpoint, plus the mixed read workload of the library
// API. `vidlib bench` drives it; package loadgen/dataset generates the data
// set it runs against.
//
// # Open model
//
// Run schedules request i at start + i/Rate, whatever happened to the
// requests before it, hands it at once to a sender that never waits for a
// connection (see Client below), and measures its latency from that
// intended time to the end of the answer. A server that
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
// Response body bytes are read in full, discarded and counted
// (Stats.Bytes).
//
// FindMax steps the rate up until the p99 latency passes a bound or errors
// appear, bisects, and reports the last good rate.
//
// # Client
//
// The generator shares the machine with the server it measures, so its own
// CPU per request shows up in the server's tail. For http:// targets Run
// therefore sends with a lean HTTP/1.1 client of its own unless
// Options.Client is set (https:// targets and a caller's Client use
// net/http, one goroutine per request, as before). The lean client keeps a
// pool of keep-alive TCP connections to the one target, each served by one
// goroutine fed through a channel: a due request goes to the most recently
// used idle connection, or, if none is idle, to a new one that dials — a
// request never waits for a connection; MaxInFlight alone bounds what is
// outstanding, and the pool grows to at most that many connections. Each
// connection carries one request at a time (no pipelining). A request's
// bytes are built once into the connection's buffer: method, path, Host,
// Authorization: Bearer, Accept-Encoding: identity, Connection: keep-alive
// (and Content-Length: 0 for methods other than GET and HEAD, as net/http
// sends); paths that net/http would escape are escaped the same way. The
// answer is read with the connection's bufio.Reader: status line, headers
// (Content-Length, Transfer-Encoding: chunked, Connection), then the body,
// discarded and counted; 1xx answers before the final one are skipped, and
// 204, 304 and HEAD answers have no body. A body with neither length nor
// chunking is read to EOF. Steady state allocates nothing per request.
//
// A transport error, a malformed answer or the timeout ends the request as
// StatusError or StatusTimeout, as with net/http, and drops its connection;
// so does Connection: close (or an HTTP/1.0 answer without keep-alive)
// after a good answer. As net/http does, a GET, HEAD, OPTIONS or TRACE that
// fails on a reused connection before any byte of an answer arrived (the
// server closed it while idle) is sent once more on a new connection. The
// timeout covers the dial, the send and the whole answer. Unlike net/http,
// the lean client does not watch idle connections, so an answer a server
// sends unasked on an idle connection is taken for the next request's.
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
