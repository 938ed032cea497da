// Command vidlib runs vidlib's reference servers and tools.
//
//	vidlib api        serve the library read API
//	vidlib sync       mirror Vimeo (webhooks, polling, reconciliation, outbox relay)
//	vidlib consume    run the event consumers
//	vidlib admin      the admin API (and console): sync health, dead letters, drift, cache, rules
//	vidlib all        every server in one process
//	vidlib demo       run vidlib on embedded defaults (no external services)
//	vidlib migrate    apply the database migrations
//	vidlib audit verify  check the audit log's hash chain and checkpoints
//	vidlib bench      load-test the read API
//	vidlib rank-eval  evaluate the ranking offline
//	vidlib version    print the version
//
// Every flag can also be set with an environment variable: --postgres-url is
// VIDLIB_POSTGRES_URL, and so on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vidlib/vidlib/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	cmds := serverCommands()
	return append(cmds, []command{
		{"demo", "run vidlib on embedded defaults: a fake Vimeo account mirrored in memory", runDemo},
		{"migrate", "apply the embedded PostgreSQL migrations (--postgres-url or VIDLIB_POSTGRES_URL)", runMigrate},
		{"audit", "audit verify: recompute the audit log's hash chain and report the first broken link", runAudit},
		{"version", "print the version", runVersion},
		benchCommand(),
		rankEvalCommand(),
	}...)
}

// errUsage marks an error the user can fix by reading --help.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			code := exitCode(err)
			if code != 0 {
				fmt.Fprintf(stderr, "vidlib %s: %v\n", c.name, err)
			}
			return code
		}
	}
	fmt.Fprintf(stderr, "vidlib: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// exitCode is 0 for success or --help, 2 for a usage error, else 1.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage), errors.Is(err, bench.ErrUsage):
		return 2
	default:
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "vidlib turns a Vimeo account into an in-app video library.")
	fmt.Fprintln(w, "\nUsage: vidlib <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'vidlib <command> --help' for the flags of a command.")
	fmt.Fprintln(w, "Every flag can be set with an environment variable: --postgres-url is VIDLIB_POSTGRES_URL.")
}

// newFlags returns a flag set whose flags default to their VIDLIB_* variables.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vidlib "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args after filling unset flags from VIDLIB_* variables.
func parse(fs *flag.FlagSet, args []string) error {
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		env := "VIDLIB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && bad == nil {
			if err := f.Value.Set(v); err != nil {
				bad = fmt.Errorf("%w: %s=%q: %v", errUsage, env, v, err)
			}
		}
	})
	if bad != nil {
		return bad
	}
	return parseFlags(fs, args)
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parse(newFlags("version", stderr), args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "vidlib", versionString())
	return nil
}
