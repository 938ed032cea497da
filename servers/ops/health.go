package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// DefaultCheckTimeout bounds one readiness check.
const DefaultCheckTimeout = 2 * time.Second

// Health collects liveness and readiness. Components register named checks
// (dependencies: "postgres", "redis", "kafka") and readiness flags (states:
// "snapshot" until the first snapshot is loaded). /readyz is 200 only when
// every check passes and every flag is up, and not while draining.
type Health struct {
	timeout  time.Duration
	log      *zap.Logger
	draining atomic.Bool

	mu     sync.Mutex
	checks map[string]func(context.Context) error
	flags  map[string]*Flag
}

// HealthOptions tune NewHealth. The zero value is valid.
type HealthOptions struct {
	// CheckTimeout bounds each check (default DefaultCheckTimeout).
	CheckTimeout time.Duration
	// Logger gets each failed check's error (nil: not logged). /readyz
	// says only which check failed and how (see CheckResult.Error).
	Logger *zap.Logger
}

// NewHealth returns a Health with no checks: ready until something is
// registered.
func NewHealth(opts *HealthOptions) *Health {
	h := &Health{timeout: DefaultCheckTimeout, log: zap.NewNop(), checks: map[string]func(context.Context) error{}, flags: map[string]*Flag{}}
	if opts != nil && opts.CheckTimeout > 0 {
		h.timeout = opts.CheckTimeout
	}
	if opts != nil && opts.Logger != nil {
		h.log = opts.Logger.Named("health")
	}
	return h
}

// AddCheck registers a readiness check; a later check of the same name
// replaces it. The check gets a context bounded by the check timeout.
func (h *Health) AddCheck(name string, check func(ctx context.Context) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = check
}

// Flag returns the readiness flag name, registering it down ("waiting") if
// it is new. The component that owns the state raises it: e.g.
// h.Flag("snapshot").Set(nil) once the first snapshot is loaded.
func (h *Health) Flag(name string) *Flag {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.flags[name]
	if !ok {
		f = &Flag{}
		f.reason.Store(errWaiting)
		h.flags[name] = f
	}
	return f
}

// SetDraining makes /readyz answer 503 from now on, so load balancers stop
// sending traffic while the servers drain. HTTPServer.Stop calls it when
// given the Health.
func (h *Health) SetDraining() { h.draining.Store(true) }

// Flag is one readiness condition.
type Flag struct {
	reason atomic.Value // holds *flagState
}

type flagState struct{ err string }

var errWaiting = &flagState{err: "waiting"}

// Set raises the flag (err nil) or lowers it with a reason.
func (f *Flag) Set(err error) {
	if err == nil {
		f.reason.Store(&flagState{})
		return
	}
	f.reason.Store(&flagState{err: err.Error()})
}

// Ready raises the flag.
func (f *Flag) Ready() { f.Set(nil) }

func (f *Flag) state() string { return f.reason.Load().(*flagState).err }

// CheckResult is one check or flag in a Report.
type CheckResult struct {
	Status string `json:"status"` // "ok" or "fail"
	// Error says how a check failed without its error's text, which may
	// hold addresses or credentials (a connection string, a host): "timed
	// out", "check panicked" or "unavailable"; the error itself goes to
	// HealthOptions.Logger. A flag's reason is shown as set.
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms,omitempty"`
}

// Report is the body of /readyz (and /healthz).
type Report struct {
	Status string                 `json:"status"` // "ok", "not_ready" or "draining"
	Checks map[string]CheckResult `json:"checks,omitempty"`
}

// Ready runs every check concurrently and reports.
func (h *Health) Ready(ctx context.Context) (Report, bool) {
	h.mu.Lock()
	checks := make(map[string]func(context.Context) error, len(h.checks))
	for k, v := range h.checks {
		checks[k] = v
	}
	flags := make(map[string]*Flag, len(h.flags))
	for k, v := range h.flags {
		flags[k] = v
	}
	h.mu.Unlock()

	rep := Report{Status: "ok", Checks: map[string]CheckResult{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, h.timeout)
			defer cancel()
			start := time.Now()
			err := runCheck(cctx, check)
			res := CheckResult{Status: "ok", DurationMS: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				res.Status, res.Error = "fail", publicReason(cctx, err)
				h.log.Warn("readiness check failed", zap.String("check", name), zap.Error(err))
			}
			mu.Lock()
			rep.Checks[name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	for name, f := range flags {
		if s := f.state(); s != "" {
			rep.Checks[name] = CheckResult{Status: "fail", Error: s}
		} else {
			rep.Checks[name] = CheckResult{Status: "ok"}
		}
	}
	ok := true
	for _, r := range rep.Checks {
		if r.Status != "ok" {
			ok = false
		}
	}
	if !ok {
		rep.Status = "not_ready"
	}
	if h.draining.Load() {
		rep.Status, ok = "draining", false
	}
	return rep, ok
}

// publicReason is what /readyz may say of a failed check.
func publicReason(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, errPanic):
		return errPanic.Error()
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return "timed out"
	}
	return "unavailable"
}

// runCheck runs check, turning a panic into an error.
func runCheck(ctx context.Context, check func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errPanic
		}
	}()
	return check(ctx)
}

type healthError string

func (e healthError) Error() string { return string(e) }

const errPanic = healthError("check panicked")

// Names lists the registered checks and flags, sorted.
func (h *Health) Names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k := range h.checks {
		out = append(out, k)
	}
	for k := range h.flags {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LiveHandler answers /healthz: 200 {"status":"ok"} while the process can
// serve HTTP at all. It runs no checks (a dependency outage must not get the
// process restarted).
func (h *Health) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, Report{Status: "ok"})
	})
}

// ReadyHandler answers /readyz: 200 with every check "ok", else 503 with
// each check's status and error.
func (h *Health) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, ok := h.Ready(r.Context())
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rep)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
