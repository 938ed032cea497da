// Package bench is `vidlib bench`: it generates a library
// (internal/loadgen/dataset), serves it with the read API composed as
// `vidlib api` composes it (servers/compose), and measures the API under an
// open-model constant arrival rate (internal/loadgen).
//
// # Preparing
//
// Run prints each phase of the preparation and its total: generate, load
// (the library stored in memory, or in PostgreSQL with COPY through
// pgstore's bulk path), API start (the first generation loaded from the
// store), compile (the entitlement index the samples are asked of), tokens
// (one RSA-signed ID token per user), sample (per audience, and per user a
// rule names, a few hundred folders and videos it can and cannot see, asked
// one video at a time so that the cost follows the sample, not the library),
// sign-in (GET /me once per user) and, with PostgreSQL, settle (VACUUM
// ANALYZE, CHECKPOINT). By default the API runs in a child process
// (`vidlib bench --serve`), which stores the library itself while this
// process compiles the index from the generated data (dataset.Compile) and
// mints tokens; --server=in-process serves it from this process.
//
// # Profiles and the collector
//
// --cpuprofile and --memprofile profile the server over the measured
// window (the heap profile after a forced collection at the end, and one
// under load as FILE.peak); either way the server logs what its collector
// did over the window: cycles, CPU, and the largest live heap a cycle
// marked, which the heap goal and so the RSS follow.
//
// # The change stream
//
// --edits, --moves, --deletes and --rule-changes (per second) run a change
// stream during the measured window, in the process that holds the API's
// store and keeping only counts, the churn videos' homes and the generated
// rules' keys of the generated library (with --server=process that is the
// API's process, whose memory is measured): video edits (a new title on the
// row the store holds) of any video, moves and deletions of the
// data set's churn videos (dataset.ChurnVideo), and personal grants and
// denials for its churn users (added, then removed), written through
// tree.Store.Update and entitle.RuleStore and announced through the
// composition's Versions as the sync worker and the admin announce them.
// The workload samples none of what the stream moves, deletes or names, so
// every answer stays what the samples predict. About one edit a second is
// polled through GET /videos/{id} with a token of a user who sees the video,
// and the report says how long the new title took to show (from the write's
// return), with how many changes were due and applied. A child runs the
// stream when the parent writes the plan (one JSON line) on its stdin and
// answers with its report (one JSON line on its stdout).
//
// # Errors
//
// ErrUsage marks errors the user fixes by reading --help (the command exits
// 2); store, network and server errors are returned as they are.
package bench
