package bench

// The server side of the benchmark: the API over a generated library, in
// this process or in a child process started with --serve, built by the
// same composition as `vidlib api` (servers/compose).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/internal/loadgen/dataset"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/compose"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
)

// Values of --server.
const (
	serverProcess   = "process"
	serverInProcess = "in-process"
)

// serveOptions configure the benchmark's API server.
type serveOptions struct {
	DSN       string // PostgreSQL instead of memory
	SkipLoad  bool   // the library is already in DSN
	Issuer    string // the issuer whose ID tokens are trusted
	ClientID  string // their audience
	Listen    string
	RateLimit float64
	// Log is where the API's log (access log included) goes: a file, or
	// "-" for stderr.
	Log string
	// CPUProfile and MemProfile name files for a CPU profile from serving to
	// the end, and a heap profile at the end.
	CPUProfile, MemProfile string
	// Changes: a change stream may be asked for (the process then keeps
	// what the stream needs of the generated library: a few counts, the
	// churn videos' homes and the generated rules' keys).
	Changes bool
	// GCPercent is the GC percent to serve with: the process's own, from
	// before the preparation tightened it (see prepGCPercent).
	GCPercent int
}

// childMessage is a line the API process prints on its stdout: first its
// address, then, after each change stream, what the stream did.
type childMessage struct {
	Addr string `json:"addr,omitempty"`
	PID  int    `json:"pid,omitempty"`
	// Load is how long storing the library took, Start how long the API took
	// to load its first generation from the store.
	Load    time.Duration `json:"load,omitempty"`
	Start   time.Duration `json:"start,omitempty"`
	Changes *changeReport `json:"changes,omitempty"`
}

// childCommand is a line the parent writes on the API process's stdin.
type childCommand struct {
	// Profile starts the profiles asked for by --cpuprofile and --memprofile
	// (the measured window starts): the CPU profile runs from here to the
	// end.
	Profile bool `json:"profile,omitempty"`
	// Changes is a change stream to run now.
	Changes *changePlan `json:"changes,omitempty"`
}

// serveBench stores the generated library, serves it, prints a
// childMessage with its address on stdout and runs until ctx ends or stdin
// closes (the parent went away). Each line on stdin is a childCommand: a
// change plan makes the process run that change stream against its store
// and print a childMessage with the report.
func serveBench(ctx context.Context, ds *dataset.Dataset, o *serveOptions, stdin io.Reader, stdout io.Writer, logf func(string, ...any)) error {
	st, closeStore, err := openBenchStore(ctx, o.DSN)
	if err != nil {
		return err
	}
	defer closeStore()                // with PostgreSQL the API has its own pool, as deployed; this one writes the change stream
	debug.SetGCPercent(prepGCPercent) // as in Run (which set it already): o.GCPercent again before serving
	var ready childMessage
	var userIDs []string // the stored ids of ds.Users (only the churn users' with SkipLoad)
	t0 := time.Now()
	if !o.SkipLoad {
		loaded, err := ds.Load(ctx, st, st, st, o.Issuer)
		if err != nil {
			return err
		}
		userIDs = loaded.UserIDs
		ready.Load = time.Since(t0)
		logf("server: loaded into %s in %v", storeName(o.DSN), since(t0))
	} else if o.Changes {
		if userIDs, err = churnUserIDs(ctx, ds, st, o.Issuer); err != nil {
			return err
		}
	}
	t0 = time.Now()
	srv, err := startAPI(ctx, st, o, logf)
	if err != nil {
		return err
	}
	defer srv.stop()
	ready.Start = time.Since(t0)
	logf("server: the API loaded its first generation in %v", since(t0))
	var stream *changeStream
	if o.Changes {
		stream = newChangeStream(st, srv.versions, ds, userIDs, "http://"+srv.addr, 1)
	}
	ds, userIDs = nil, nil
	debug.SetGCPercent(o.GCPercent)
	runtime.GC() // the generated library is garbage from here on
	debug.FreeOSMemory()
	// The profiles start with the measured window (the parent's Profile
	// command), so that they show serving, not the preparation's sign-ins or
	// the warm-up.
	stopProfiles := func() {}
	defer func() { stopProfiles() }()
	ready.Addr, ready.PID = srv.addr, os.Getpid()
	out := json.NewEncoder(stdout)
	if err := out.Encode(ready); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	profiling := false
	for sc.Scan() {
		var cmd childCommand
		if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
			return fmt.Errorf("bench: the API process read %.80q on stdin, not a command: %w", sc.Text(), err)
		}
		if cmd.Profile && !profiling {
			if stopProfiles, err = startProfiles(o.CPUProfile, o.MemProfile, logf); err != nil {
				return err
			}
			profiling = true
		}
		if plan := cmd.Changes; plan != nil {
			if plan.Duration <= 0 || !plan.Rates.valid() || stream == nil {
				return fmt.Errorf("bench: the API process read %.80q on stdin, not a change plan it was started for", sc.Text())
			}
			wg.Go(func() {
				rep := stream.run(ctx, plan)
				_ = out.Encode(childMessage{Changes: &rep})
			})
		}
	}
	return nil // stdin closed: the parent is done
}

// churnUserIDs looks up the stored ids of the users the change stream's rules
// name (the last ChurnUsers of ds.Users); the others stay empty.
func churnUserIDs(ctx context.Context, ds *dataset.Dataset, st benchStore, issuer string) ([]string, error) {
	ids := make([]string, len(ds.Users))
	for i := len(ds.Users) - ds.ChurnUsers(); i < len(ds.Users); i++ {
		u, err := st.UserByIdentity(ctx, issuer, ds.Users[i].Subject)
		if err != nil {
			return nil, fmt.Errorf("user %s of %s (was the library stored with the same flags?): %w", ds.Users[i].Subject, issuer, err)
		}
		ids[i] = u.ID
	}
	return ids, nil
}

// openBenchStore opens PostgreSQL at dsn (migrated), or memstore when dsn is
// empty.
func openBenchStore(ctx context.Context, dsn string) (benchStore, func(), error) {
	if dsn == "" {
		return memstore.New(), func() {}, nil
	}
	pg, err := pgstore.Open(ctx, dsn, nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := pg.Migrate(ctx); err != nil {
		pg.Close()
		return nil, nil, err
	}
	return pg, pg.Close, nil
}

// settleDatabase vacuums, analyses and checkpoints a freshly filled
// database, so that the autovacuum and checkpoint work the bulk load and the
// sign-ins left behind do not land, at a random moment, in the measured
// window: a deployed database is not minutes old.
func settleDatabase(ctx context.Context, dsn string) error {
	pg, err := pgstore.Open(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer pg.Close()
	for _, q := range []string{"VACUUM ANALYZE", "CHECKPOINT"} {
		if _, err := pg.Pool().Exec(ctx, q); err != nil {
			return fmt.Errorf("settle the database: %s: %w", q, err)
		}
	}
	return nil
}

// apiServer is the composed API of the benchmark.
type apiServer struct {
	addr string
	stop func()
	// versions is the composition's Versions: writers announce version bumps
	// to the library through it.
	versions compose.Versions
}

// startAPI serves the API over the library on o.Listen, trusting o.Issuer,
// through the composition of `vidlib api` (servers/compose): the same
// middleware, limits, metrics, tracing, access log, auth and library as
// deployed. What differs is only what the benchmark supplies: the store
// (PostgreSQL at o.DSN, or st in memory), the issuer, the in-process bus
// (nothing the read path publishes is consumed), no Redis, the per-user
// rate limit (o.RateLimit) and where the server's log goes (o.Log; the
// default is a file, so that the access log does not flood the report). It
// returns once the first snapshot is loaded.
func startAPI(ctx context.Context, st benchStore, o *serveOptions, logf func(string, ...any)) (*apiServer, error) {
	cfg := config.Default()
	cfg.Listen.API, cfg.Listen.Metrics = o.Listen, "127.0.0.1:0"
	cfg.Postgres.URL = o.DSN
	extra := []fx.Option{
		fx.Replace(compose.Issuers{{Kind: auth.Cognito, URL: o.Issuer, ClientIDs: []string{o.ClientID}}}),
		fx.Supply(&api.Options{RateLimit: o.RateLimit}),
		compose.InProcessBus(),
	}
	if o.DSN == "" {
		mem, ok := st.(*memstore.Store)
		if !ok {
			return nil, fmt.Errorf("bench: the in-memory library is a %T", st)
		}
		extra = append(extra, compose.UseStore(mem))
	}
	logOut, closeLog, err := serverLog(o.Log)
	if err != nil {
		return nil, err
	}
	log, err := ops.NewLogger(&ops.LoggerOptions{Level: cfg.Log.Level, Output: logOut})
	if err != nil {
		closeLog()
		return nil, err
	}
	if o.Log != "-" {
		logf("server log: %s", o.Log)
	}
	var srv *compose.APIServer
	var lib *library.Service
	var versions compose.Versions
	app := compose.New(cfg, compose.Parts{API: true}, append(extra, compose.WithLogger(log), fx.NopLogger, fx.Populate(&srv, &lib, &versions))...)
	if err := compose.Start(ctx, app); err != nil {
		closeLog()
		return nil, err
	}
	stop := func() {
		_ = compose.Stop(app)
		closeLog()
	}
	for !lib.Ready() {
		select {
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return &apiServer{addr: srv.Addr(), stop: stop, versions: versions}, nil
}

// serverLog opens where the API's log goes: a file, or "-" for stderr.
func serverLog(path string) (io.Writer, func(), error) {
	if path == "-" {
		return os.Stderr, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: server log: %w", err)
	}
	return f, func() { _ = f.Close() }, nil
}

// selfCommand runs this program with args.
func selfCommand(ctx context.Context, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, exe, args...), nil
}

// benchChild is an API server in a child process.
type benchChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error
}

// childFlags are the parent's flags the child must not see (they are the
// parent's business) with whether they take a value.
var childFlags = map[string]bool{
	"rate": true, "duration": true, "warmup": true, "mix": true, "misses": true, "max-in-flight": true,
	"timeout": true, "json": false, "find-max": false, "max-p99": true, "find-max-factor": true,
	"server": true, "issuer": true, "client-id": true,
}

// startChild starts `vidlib bench --serve` with the parent's library flags,
// trusting the parent's issuer. Its stderr is passed through.
func startChild(ctx context.Context, self SelfCommand, args []string, issuer *authtest.Issuer, stderr io.Writer) (*benchChild, error) {
	cargs := []string{"bench", "--serve", "--issuer", issuer.URL(), "--client-id", issuer.ClientID()}
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		takesValue, drop := childFlags[name]
		if drop {
			if takesValue && !hasValue {
				i++
			}
			continue
		}
		cargs = append(cargs, args[i])
	}
	cmd, err := self(ctx, cargs...)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the API process: %w", err)
	}
	c := &benchChild{cmd: cmd, stdin: stdin, lines: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default: // nobody reads: a line nobody asked for
			}
		}
		c.done <- cmd.Wait()
	}()
	return c, nil
}

// Ready waits for the child's first message, its address.
func (c *benchChild) Ready(ctx context.Context) (childMessage, error) {
	select {
	case line := <-c.lines:
		var m childMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Addr == "" {
			return m, fmt.Errorf("the API process said %q, not its address", line)
		}
		return m, nil
	case err := <-c.done:
		return childMessage{}, fmt.Errorf("the API process ended before serving: %w", errors.Join(err, errors.New("see its log above")))
	case <-ctx.Done():
		return childMessage{}, ctx.Err()
	}
}

// StartChanges sends the child a change plan to run now.
func (c *benchChild) StartChanges(plan *changePlan) error {
	return c.send(childCommand{Changes: plan})
}

// StartProfiles tells the child that the measured window starts: its
// profiles, if asked for, start now.
func (c *benchChild) StartProfiles() error {
	return c.send(childCommand{Profile: true})
}

func (c *benchChild) send(cmd childCommand) error {
	b, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	_, err = c.stdin.Write(append(b, '\n'))
	return err
}

// Changes waits up to timeout for the child's report of a change stream.
func (c *benchChild) Changes(timeout time.Duration) (*changeReport, error) {
	select {
	case line := <-c.lines:
		var m childMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Changes == nil {
			return nil, fmt.Errorf("the API process said %q, not a change report", line)
		}
		return m.Changes, nil
	case err := <-c.done:
		return nil, fmt.Errorf("the API process ended during the change stream: %w", errors.Join(err, errors.New("see its log above")))
	case <-time.After(timeout):
		return nil, errors.New("no change report from the API process")
	}
}

// PID is the child's process id.
func (c *benchChild) PID() int { return c.cmd.Process.Pid }

// Stop closes the child's stdin (it shuts down) and waits for it, killing it
// after 10 s.
func (c *benchChild) Stop() {
	_ = c.stdin.Close()
	select {
	case err := <-c.done:
		_ = err // its exit status: whatever went wrong is in its log
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		err := <-c.done
		_ = err
	}
}

// startProfiles starts a CPU profile into cpu (if not empty) and a gcWatch
// (writing mem+".peak" when mem is not empty); the returned function stops
// them, logs what the GC did, and writes a heap profile into mem (if not
// empty).
func startProfiles(cpu, mem string, logf func(string, ...any)) (stop func(), err error) {
	var cpuFile *os.File
	if cpu != "" {
		if cpuFile, err = os.Create(cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			_ = cpuFile.Close()
			return nil, err
		}
	}
	peak := ""
	if mem != "" {
		peak = mem + ".peak"
	}
	gw := startGCWatch(peak)
	return func() {
		logf("server: %s", gw.report())
		if cpuFile != nil {
			pprof.StopCPUProfile()
			_ = cpuFile.Close()
		}
		if mem != "" {
			runtime.GC()
			_ = writeHeapProfile(mem)
		}
	}, nil
}

// lockedWriter serialises writes from this process and its API process.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// signIn asks GET /me once per token, workers at a time: every user is
// provisioned and known before the load starts, as in a service whose users
// signed in earlier (a first sign-in writes to the store).
func signIn(ctx context.Context, target string, tokens []string, workers int) error {
	client := &http.Client{Timeout: 30 * time.Second}
	var next atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(tokens); i = int(next.Add(1) - 1) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+"/me", nil)
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				resp, err := client.Do(req)
				if err != nil {
					errs <- fmt.Errorf("sign in user %d: %w", i, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("sign in user %d: GET /me answered %s", i, resp.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when closed empty
}
