// Package config is the configuration of vidlib's reference servers: every
// setting of every subcommand, where it comes from, and how it is checked.
//
// # Sources and precedence
//
// Each setting has a flag name (--poll-interval) and an environment variable
// derived from it (VIDLIB_POLL_INTERVAL). A flag given on the command line
// wins over the variable; the variable wins over the default. Secrets (the
// Vimeo token, the webhook secrets) have no flag at all, so they never appear
// in a process listing or shell history: they come from VIDLIB_X, or from the
// file named by VIDLIB_X_FILE (the way container orchestrators mount them; a
// trailing newline is dropped). Setting both is an error. The PostgreSQL and
// Redis URLs may be given as flags, but not when they carry a password: put
// those in the environment or a _FILE too.
//
// # Sections
//
// A subcommand registers only the settings it uses, grouped in Sections
// (Register(fs, config.API...)); settings of other sections keep their
// defaults and are not validated. Core (logging, tracing, shutdown) is always
// registered. The presets API, Sync, Consume, Admin, All, Demo and Migrate
// list the sections of each vidlib subcommand.
//
// # Validation
//
// Load parses environment and flags and then validates; Validate reports
// every problem at once, each naming the flag and the variable and saying
// what is wrong (`--poll-interval (VIDLIB_POLL_INTERVAL): must be at least
// 1s, got 0s`). The error wraps ErrInvalid.
//
// # Secrets in output
//
// Secret values are of type Secret, whose String, GoString, Format,
// MarshalJSON, MarshalText and LogValue all print "[redacted]"; Config
// implements zapcore.ObjectMarshaler and slog.LogValuer and prints secrets
// only as "[redacted]" (or "" when unset) and URLs with their password
// replaced. Log a Config with zap.Object("config", cfg); fmt and
// encoding/json are safe too.
//
// # Memory
//
// MemoryLimit (--memory-limit, default auto) is the soft limit of the Go
// runtime's memory each server sets itself at start-up (servers/ops
// ApplyMemoryLimit): GOMEMLIMIT when the variable is set, else 80 % of the
// container's memory (cgroup memory.max) when the container has a limit,
// else none, and then, unless GOGC is set, the GC percent follows the live
// heap after every collection (the heap may grow 50 % past it, at least
// 256 MiB: ops.FollowGCPercent); off sets none; a size such as 1800MiB
// sets that. Past the limit the collector runs more often: it keeps
// a process whose live heap fits from growing its heap to twice that.
//
// # Concurrency
//
// A Config is a plain value: fill it once at start-up, then only read it.
package config
