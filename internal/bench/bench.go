package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/loadgen"
	"github.com/vidlib/vidlib/internal/loadgen/dataset"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/tree"
)

// ErrUsage marks an error the user can fix by reading --help.
var ErrUsage = errors.New("usage")

// SelfCommand starts this program with args (which begin with the
// benchmark's subcommand, "bench"), for the API process of --server=process.
type SelfCommand func(ctx context.Context, args ...string) (*exec.Cmd, error)

// Options configure Run. The zero value is valid.
type Options struct {
	// Parse parses the command's flags (nil: fs.Parse, no arguments
	// allowed); vidlib's also fills unset flags from VIDLIB_* variables.
	Parse func(fs *flag.FlagSet, args []string) error
	// Self starts the API process (nil: this executable).
	Self SelfCommand
}

// benchStore is what the benchmark loads and the API reads.
type benchStore interface {
	tree.Store
	tree.ContentFeed
	entitle.RuleStore
	auth.UserStore
	library.Store
}

// Run is `vidlib bench`: it generates a library, serves it with the API (in
// a child process, in this process, or targets --url), and measures it under
// an open-model constant arrival rate. The API is composed as `vidlib api`
// composes it (servers/compose).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, opts *Options) error {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Parse == nil {
		o.Parse = parseFlags
	}
	if o.Self == nil {
		o.Self = selfCommand
	}
	fs := flag.NewFlagSet("vidlib bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var gen dataset.Options
	fs.Uint64Var(&gen.Seed, "seed", 1, "seed of the generated library (same seed, same library and requests)")
	fs.IntVar(&gen.Folders, "folders", dataset.DefaultFolders, "folders in the generated library")
	fs.IntVar(&gen.Videos, "videos", dataset.DefaultVideos, "videos in the generated library")
	fs.IntVar(&gen.Depth, "depth", dataset.DefaultDepth, "folder levels (the root is level 1)")
	fs.IntVar(&gen.Rules, "rules", dataset.DefaultRules, "entitlement rules")
	fs.IntVar(&gen.Users, "users", dataset.DefaultUsers, "users (each with a token)")
	fs.IntVar(&gen.Audiences, "audiences", dataset.DefaultAudiences, "distinct audiences (role and segment sets) among the users")
	rate := fs.Float64("rate", 5000, "arrival rate, requests per second")
	duration := fs.Duration("duration", 20*time.Second, "measured time")
	warmup := fs.Duration("warmup", 5*time.Second, "time at the same rate before measuring")
	noSignIn := fs.Bool("no-sign-in", false, "skip signing every user in (GET /me, 8 at a time) before the warm-up; first sign-ins then happen under load")
	mixFlag := fs.String("mix", loadgen.DefaultMix.String(), "endpoint weights")
	misses := fs.Float64("misses", loadgen.DefaultMisses, "share of folder/video/playback requests for objects the user may not see (404 expected)")
	maxInFlight := fs.Int("max-in-flight", loadgen.DefaultMaxInFlight, "requests waiting at once; more are counted as overflow errors")
	timeout := fs.Duration("timeout", loadgen.DefaultTimeout, "per-request timeout")
	jsonOut := fs.Bool("json", false, "print the result as JSON instead of a table")
	findMax := fs.Bool("find-max", false, "step the rate up from --rate until p99 passes --max-p99 or errors appear; report the last good rate")
	maxP99 := fs.Duration("max-p99", 10*time.Millisecond, "p99 bound of --find-max")
	factor := fs.Float64("find-max-factor", 1.25, "rate multiplier between --find-max steps")
	url := fs.String("url", "", "target a running API at this base URL instead of serving one in-process (needs --tokens)")
	tokensFile := fs.String("tokens", "", "with --url: a file of '<subject> <token>' lines, one per generated user (bench-user-000000 …)")
	issuerURL := fs.String("issuer", "", "with --url and --postgres-url: the token issuer the server's identities belong to")
	pid := fs.Int("pid", 0, "with --url: the server's process id, to report its CPU time and RSS from /proc")
	dsn := fs.String("postgres-url", "", "keep the library in PostgreSQL (an empty, migrated database is filled) instead of memory")
	loadOnly := fs.Bool("load-only", false, "with --postgres-url and --issuer: generate and store the library, then exit (for a later --url run)")
	skipLoad := fs.Bool("skip-load", false, "with --postgres-url: the library is already stored (by --load-only with the same flags)")
	rateLimit := fs.Float64("rate-limit", -1, "the API's per-user rate limit (requests/s; 0: the API's default; negative: off)")
	server := fs.String("server", serverProcess, "where the API runs without --url: \""+serverProcess+"\" (a child process, as deployed: the numbers are the server's alone) or \""+serverInProcess+"\" (this process, load generator included)")
	serve := fs.Bool("serve", false, "only serve the generated library on --listen, trusting --issuer and --client-id; print the address as a JSON line and run until stdin closes (what --server=process starts)")
	listen := fs.String("listen", "127.0.0.1:0", "with --serve: the API's address")
	clientID := fs.String("client-id", authtest.DefaultClientID, "with --serve: the audience of the issuer's ID tokens")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server over the measured window (of this process with --server=in-process or --url) to this file (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile of the server (of this process with --server=in-process or --url), taken after the run, to this file, and one under load, after the GC cycle that marked the largest live heap in the measured window, to this file with .peak appended")
	var rates changeRates
	fs.Float64Var(&rates.Edits, "edits", 0, "change stream in the measured window: video edits (new titles) per second, written through tree.Store.Update and announced as the sync worker announces them")
	fs.Float64Var(&rates.Moves, "moves", 0, "change stream: video moves to another folder per second")
	fs.Float64Var(&rates.Deletes, "deletes", 0, "change stream: video deletions per second")
	fs.Float64Var(&rates.RuleChanges, "rule-changes", 0, "change stream: rule changes per second (personal grants and denials added, then removed), through entitle.RuleStore")
	serverLogPath := fs.String("server-log", filepath.Join(os.TempDir(), "vidlib-bench-server.log"), "where the API's log (its access log included) goes; \"-\": stderr")
	if err := o.Parse(fs, args); err != nil {
		return err
	}
	mix, err := loadgen.ParseMix(*mixFlag)
	if err != nil {
		return fmt.Errorf("%w: --mix: %v", ErrUsage, err)
	}
	switch {
	case *url != "" && *tokensFile == "":
		return fmt.Errorf("%w: --url needs --tokens", ErrUsage)
	case *url == "" && (*tokensFile != "" || *pid != 0):
		return fmt.Errorf("%w: --tokens and --pid go with --url", ErrUsage)
	case (*loadOnly || *skipLoad) && *dsn == "":
		return fmt.Errorf("%w: --load-only and --skip-load need --postgres-url", ErrUsage)
	case *loadOnly && *issuerURL == "":
		return fmt.Errorf("%w: --load-only needs --issuer (the users' identities belong to it)", ErrUsage)
	case *server != serverProcess && *server != serverInProcess:
		return fmt.Errorf("%w: --server must be %q or %q", ErrUsage, serverProcess, serverInProcess)
	case *serve && (*url != "" || *issuerURL == ""):
		return fmt.Errorf("%w: --serve needs --issuer and no --url", ErrUsage)
	case *rate <= 0 || *duration <= 0 || *warmup < 0:
		return fmt.Errorf("%w: --rate and --duration must be positive", ErrUsage)
	case !rates.valid():
		return fmt.Errorf("%w: --edits, --moves, --deletes and --rule-changes must not be negative", ErrUsage)
	case rates.any() && (*url != "" || *findMax):
		return fmt.Errorf("%w: the change stream (--edits, --moves, --deletes, --rule-changes) needs the bench's own API, without --url or --find-max", ErrUsage)
	}
	started := time.Now()
	stderr = &lockedWriter{w: stderr} // the API process writes to it too
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }

	// Preparing holds the library two or three times over (generated,
	// stored, compiled); a tighter GC keeps the peak near what is live. The
	// default is back before anything is measured.
	restoreGC := debug.SetGCPercent(prepGCPercent)
	defer func() {
		if restoreGC >= 0 {
			debug.SetGCPercent(restoreGC)
		}
	}()

	// 1. The library.
	var ph phases
	t0 := time.Now()
	ds, err := dataset.Generate(&gen)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	ph.Generate = time.Since(t0)
	logf("generated %d folders (depth %d), %d videos, %d rules, %d users in %d audiences in %v",
		len(ds.Folders), gen.Depth, len(ds.Videos), len(ds.Rules), len(ds.Users), len(ds.Audiences), since(t0))

	if *serve {
		return serveBench(ctx, ds, &serveOptions{DSN: *dsn, SkipLoad: *skipLoad, Issuer: *issuerURL, ClientID: *clientID,
			Listen: *listen, RateLimit: *rateLimit, Log: *serverLogPath, CPUProfile: *cpuProfile, MemProfile: *memProfile,
			Changes: rates.any(), GCPercent: restoreGC}, os.Stdin, stdout, logf)
	}
	child := *url == "" && *server == serverProcess && !*loadOnly

	// 2. Who signs in: the in-process issuer's tokens, or the given ones.
	var issuer *authtest.Issuer
	iss := *issuerURL
	if *url == "" && !*loadOnly {
		if issuer, err = authtest.Start(nil); err != nil {
			return err
		}
		defer issuer.Close()
		iss = issuer.URL()
	}
	var srvChild *benchChild
	if child { // started now, so that it loads while this process samples and mints tokens
		if srvChild, err = startChild(ctx, o.Self, args, issuer, stderr); err != nil {
			return err
		}
		defer srvChild.Stop()
	}

	// What the audiences see: asked of the index the server compiles. A
	// child stores the library itself, and an index compiled from the
	// generated data judges the same (dataset.Compile); otherwise this process
	// stores it (or reads it back with --skip-load) and asks the store.
	var st benchStore
	var idx *entitle.Index
	var loaded *dataset.Loaded
	if child || (*url != "" && *dsn == "") {
		t0 = time.Now()
		if idx, loaded, err = ds.Compile(&entitle.Options{MaxCachedAudiences: 64}); err != nil {
			return err
		}
		ph.Compile = time.Since(t0)
		logf("compiled the generated library's index in %v", since(t0))
	} else {
		var closeStore func()
		if st, closeStore, err = openBenchStore(ctx, *dsn); err != nil {
			return err
		}
		defer closeStore()
		t0 = time.Now()
		if *skipLoad {
			if loaded, err = storedLoad(ctx, ds, st, iss); err != nil {
				return err
			}
			logf("read the stored library's users and rules in %v", since(t0))
		} else {
			if iss == "" {
				iss = "https://bench.invalid/issuer"
			}
			if loaded, err = ds.Load(ctx, st, st, st, iss); err != nil {
				return err
			}
			ph.Load = time.Since(t0)
			logf("loaded into %s in %v", storeName(*dsn), since(t0))
		}
		if *loadOnly {
			fmt.Fprintf(stdout, "stored the library for issuer %s; run with --url, --tokens, --postgres-url and --skip-load\n", iss)
			return nil
		}
		t0 = time.Now()
		if idx, err = storedIndex(ctx, st); err != nil {
			return err
		}
		ph.Compile = time.Since(t0)
		logf("compiled the stored library's index in %v", since(t0))
	}

	var tokens []string
	t0 = time.Now()
	if issuer != nil {
		tokens = mintTokens(issuer, ds.Users)
		ph.Tokens = time.Since(t0)
		logf("minted %d tokens in %v", len(tokens), since(t0))
	} else if tokens, err = readTokens(*tokensFile, ds.Users); err != nil {
		return err
	}
	t0 = time.Now()
	users, audiences, err := ds.Workload(idx, loaded, tokens, &dataset.SampleOptions{Seed: gen.Seed})
	if err != nil {
		return err
	}
	ph.Sample = time.Since(t0)
	logf("sampled what %d audiences see (%d users; the change stream's %d are left out) in %v", len(audiences), len(users), ds.ChurnUsers(), since(t0))
	wl, err := loadgen.NewWorkload(users, audiences, &loadgen.WorkloadOptions{Mix: mix, Misses: missesOption(*misses), Seed: gen.Seed})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	plan := &changePlan{Rates: rates, Duration: *duration, Probes: probes(users, audiences, 32), Seed: gen.Seed}
	idx = nil // the server's business from here on
	if child {
		ds = nil // the child's too
	}

	// 3. The server: a child, this process, or the target.
	target, serverPID := *url, *pid
	var srv *apiServer
	switch {
	case child:
		t0 = time.Now()
		m, err := srvChild.Ready(ctx)
		if err != nil {
			return err
		}
		ph.Load, ph.Start, ph.WaitServer = m.Load, m.Start, time.Since(t0)
		target, serverPID = "http://"+m.Addr, m.PID
		logf("API serving in process %d at %s (CPU and RSS below are the server's alone)", serverPID, target)
	case *url == "":
		t0 = time.Now()
		if srv, err = startAPI(ctx, st, &serveOptions{DSN: *dsn, Issuer: issuer.URL(), ClientID: issuer.ClientID(), Listen: "127.0.0.1:0",
			RateLimit: *rateLimit, Log: *serverLogPath}, logf); err != nil {
			return err
		}
		defer srv.stop()
		ph.Start = time.Since(t0)
		target, serverPID = "http://"+srv.addr, os.Getpid()
		logf("API serving in-process at %s (CPU and RSS below are this whole process, load generator included)", target)
	}
	debug.SetGCPercent(restoreGC)
	restoreGC = -1
	runtime.GC()
	debug.FreeOSMemory()

	if !*noSignIn {
		t0 := time.Now()
		if err := signIn(ctx, target, tokens, 8); err != nil {
			return err
		}
		ph.SignIn = time.Since(t0)
		logf("signed in %d users (GET /me each, 8 at a time) in %v", len(tokens), since(t0))
	}
	if *dsn != "" && *url == "" {
		t0 := time.Now()
		if err := settleDatabase(ctx, *dsn); err != nil {
			return err
		}
		ph.Settle = time.Since(t0)
		logf("settled the database (VACUUM ANALYZE, CHECKPOINT) in %v", since(t0))
	}
	ph.Total = time.Since(started)
	logf("%s", ph.String())

	run := loadgen.Options{Rate: *rate, Duration: *duration, Warmup: *warmup, MaxInFlight: *maxInFlight, Timeout: *timeout, PID: serverPID}
	// The profiles cover the measured window: they start after the warm-up
	// (at once with --find-max, whose steps each warm up).
	profileAt := *warmup
	if *findMax {
		profileAt = 0
	}
	if child { // a child profiles itself
		t := time.AfterFunc(profileAt, func() {
			if err := srvChild.StartProfiles(); err != nil {
				logf("start the API process's profiles: %v", err)
			}
		})
		defer t.Stop()
	} else {
		started := make(chan func(), 1)
		t := time.AfterFunc(profileAt, func() {
			stop, err := startProfiles(*cpuProfile, *memProfile, logf)
			if err != nil {
				logf("start the profiles: %v", err)
				stop = func() {}
			}
			started <- stop
		})
		defer func() {
			if !t.Stop() { // started: stop and write them
				(<-started)()
			}
		}()
	}
	if *findMax {
		res, err := loadgen.FindMax(ctx, target, wl.Request, run, &loadgen.FindMaxOptions{
			Start: *rate, Factor: *factor, P99: *maxP99,
			OnStep: func(s loadgen.Step) {
				verdict := "good"
				if !s.Good {
					verdict = "bad: " + s.Reason
				}
				t := s.Result.Total
				logf("%.0f/s: p50 %v p99 %v max %v, %d errors: %s", s.Rate, t.Latency.P50, t.Latency.P99, t.Latency.Max, t.Errors, verdict)
			},
		})
		if err != nil {
			return err
		}
		if *jsonOut {
			return writeJSON(stdout, res)
		}
		fmt.Fprintf(stdout, "maximum sustainable rate: %.0f requests/s (p99 ≤ %v, no errors)\n", res.Rate, *maxP99)
		if res.Best != nil {
			return res.Best.WriteText(stdout)
		}
		return nil
	}
	logf("%.0f requests/s, %v warm-up then %v measured, mix %s", *rate, *warmup, *duration, mix)
	if rates.any() {
		logf("change stream in the measured window: %.3g edits/s (about one a second polled through the API), %.3g moves/s, %.3g deletes/s, %.3g rule changes/s",
			rates.Edits, rates.Moves, rates.Deletes, rates.RuleChanges)
	}
	changes := startChanges(ctx, rates.any(), *warmup, plan, srvChild, st, srv, ds, loaded, target)
	res, err := loadgen.Run(ctx, target, wl.Request, &run)
	if err != nil {
		return err
	}
	rep, cerr := changes()
	if cerr != nil {
		return cerr
	}
	if *jsonOut {
		return writeJSON(stdout, struct {
			*loadgen.Result
			Phases  *phases       `json:"phases"`
			Changes *changeReport `json:"changes,omitempty"`
		}{res, &ph, rep})
	}
	if err := res.WriteText(stdout); err != nil {
		return err
	}
	if rep != nil {
		rep.writeText(stdout)
	}
	return nil
}

// prepGCPercent is the GC percent while a library is prepared.
const prepGCPercent = 25

// phases are how long preparing the benchmark took, step by step.
type phases struct {
	Generate   time.Duration `json:"generate"`
	Load       time.Duration `json:"load"`        // storing the library (the server's, for a child)
	Start      time.Duration `json:"api_start"`   // the API's first generation
	WaitServer time.Duration `json:"wait_server"` // waiting here for the child to serve, after sampling
	Compile    time.Duration `json:"compile"`     // the index sampling asks
	Tokens     time.Duration `json:"tokens"`
	Sample     time.Duration `json:"sample"`
	SignIn     time.Duration `json:"sign_in"`
	Settle     time.Duration `json:"settle"`
	Total      time.Duration `json:"total"`
}

func (p *phases) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	return fmt.Sprintf("prepared in %v: generate %v, load %v, API start %v, compile %v, tokens %v, sample %v, wait for the API %v, sign-in %v, settle %v",
		r(p.Total), r(p.Generate), r(p.Load), r(p.Start), r(p.Compile), r(p.Tokens), r(p.Sample), r(p.WaitServer), r(p.SignIn), r(p.Settle))
}

// probes picks up to n (video, token) pairs for the change stream's polled
// edits: a hit video of a user's sample, one per audience.
func probes(users []loadgen.User, audiences []loadgen.Audience, n int) []probe {
	var out []probe
	used := map[int]bool{}
	for _, u := range users {
		if len(out) == n {
			break
		}
		if a := audiences[u.Audience]; !used[u.Audience] && len(a.Videos) > 0 {
			used[u.Audience] = true
			out = append(out, probe{Video: a.Videos[0], Token: u.Token})
		}
	}
	return out
}

// startChanges starts the change stream after the warm-up, in the child or
// in this process; the returned function waits for its report (nil, nil
// when there is no stream).
func startChanges(ctx context.Context, on bool, warmup time.Duration, plan *changePlan, c *benchChild, st benchStore, srv *apiServer,
	ds *dataset.Dataset, loaded *dataset.Loaded, target string) func() (*changeReport, error) {
	if !on {
		return func() (*changeReport, error) { return nil, nil }
	}
	done := make(chan *changeReport, 1)
	errc := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
			errc <- ctx.Err()
			return
		case <-time.After(warmup):
		}
		if c != nil {
			if err := c.StartChanges(plan); err != nil {
				errc <- fmt.Errorf("start the change stream in the API process: %w", err)
			}
			return
		}
		rep := newChangeStream(st, srv.versions, ds, loaded.UserIDs, target, plan.Seed).run(ctx, plan)
		done <- &rep
	}()
	return func() (*changeReport, error) {
		if c != nil {
			select {
			case err := <-errc:
				return nil, err
			default:
			}
			return c.Changes(probeTimeout + 30*time.Second)
		}
		select {
		case rep := <-done:
			return rep, nil
		case err := <-errc:
			return nil, err
		}
	}
}

// storedIndex compiles the stored library's index, as the server does.
func storedIndex(ctx context.Context, st benchStore) (*entitle.Index, error) {
	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
	if err != nil {
		return nil, err
	}
	rules, rv, err := st.ListRules(ctx)
	if err != nil {
		return nil, err
	}
	return entitle.New(snap, rules, rv, &entitle.Options{MaxCachedAudiences: 64})
}

// mintTokens mints one ID token per user, on every core (RSA signing is the
// slow part of setting up).
func mintTokens(issuer *authtest.Issuer, users []dataset.User) []string {
	tokens := make([]string, len(users))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(users); i = int(next.Add(1) - 1) {
				tokens[i] = issuer.IDToken(authtest.User{Subject: users[i].Subject, Email: users[i].Email, EmailVerified: true})
			}
		})
	}
	wg.Wait()
	return tokens
}

// readTokens reads '<subject> <token>' lines and orders the tokens like the
// users; every user needs one.
func readTokens(path string, users []dataset.User) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bySubject := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sub, tok, ok := strings.Cut(line, " ")
		if !ok || strings.TrimSpace(tok) == "" {
			return nil, fmt.Errorf("%w: %s:%d: want '<subject> <token>'", ErrUsage, path, n)
		}
		bySubject[sub] = strings.TrimSpace(tok)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	tokens := make([]string, len(users))
	for i, u := range users {
		if tokens[i] = bySubject[u.Subject]; tokens[i] == "" {
			return nil, fmt.Errorf("%w: %s has no token for %s", ErrUsage, path, u.Subject)
		}
	}
	return tokens, nil
}

// storedLoad recovers what Load returned from a store filled earlier.
func storedLoad(ctx context.Context, ds *dataset.Dataset, st benchStore, issuer string) (*dataset.Loaded, error) {
	if issuer == "" {
		return nil, fmt.Errorf("%w: --skip-load needs --issuer", ErrUsage)
	}
	out := &dataset.Loaded{UserIDs: make([]string, len(ds.Users))}
	for i, u := range ds.Users {
		stored, err := st.UserByIdentity(ctx, issuer, u.Subject)
		if err != nil {
			return nil, fmt.Errorf("user %s of %s (was the library stored with the same flags?): %w", u.Subject, issuer, err)
		}
		out.UserIDs[i] = stored.ID
	}
	var err error
	out.Rules, out.EntitlementVersion, err = st.ListRules(ctx)
	return out, err
}

func missesOption(m float64) float64 {
	if m == 0 {
		return -1 // none
	}
	return m
}

func storeName(dsn string) string {
	if dsn == "" {
		return "memory"
	}
	return "PostgreSQL"
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseFlags parses args; it allows no arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}
