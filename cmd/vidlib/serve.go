package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"go.uber.org/fx"

	"github.com/vidlib/vidlib/servers/config"
)

// version is set at build time (-ldflags "-X main.version=v1.2.3"); empty
// means the module's build information.
var version string

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// serverCommands are the subcommands that run reference servers.
func serverCommands() []command {
	consume := append(append([]config.Section(nil), config.ForConsume...), config.SectionVimeo)
	return []command{
		serverCommand("api", "serve the library read API (needs PostgreSQL, Redis, a token issuer)",
			parts{api: true}, config.ForAPI),
		serverCommand("sync", "mirror Vimeo: webhook intake, change polling, scheduled reconciliation, outbox relay",
			parts{sync: true}, config.ForSync),
		serverCommand("consume", "run the event consumers (Vimeo webhooks → re-fetch → mirror; audit.events → audit log)",
			parts{consume: true}, consume),
		serverCommand("admin", "the admin API and console: sync runs, webhooks, dead letters, drift, caches, rules",
			parts{admin: true}, config.ForAdmin),
		serverCommand("all", "every server in one process",
			parts{api: true, sync: true, consume: true, admin: true}, config.ForAll),
	}
}

func serverCommand(name, summary string, p parts, sections []config.Section) command {
	return command{name, summary, func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlags(name, stderr)
		l := config.Register(fs, sections...)
		var once *bool
		if p.sync {
			once = fs.Bool("once", false, "run one reconciliation and exit (for a scheduled task), instead of serving")
		}
		fs.Usage = func() {
			fmt.Fprintf(stderr, "Usage: vidlib %s [flags]\n\n%s.\n\nFlags (each also read from VIDLIB_<NAME>, e.g. --postgres-url is VIDLIB_POSTGRES_URL; a flag wins):\n", name, summary)
			fs.PrintDefaults()
			if s := l.Secrets(); len(s) > 0 {
				fmt.Fprintln(stderr, "\nSecrets, from the environment only (or VIDLIB_<NAME>_FILE naming a file):")
				for _, line := range s {
					fmt.Fprintln(stderr, "  "+line)
				}
			}
		}
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if once != nil && *once {
			l.Narrow(onceSections...) // Vimeo and PostgreSQL only
		}
		cfg, err := loadSettings(l)
		if err != nil {
			return err
		}
		if once != nil && *once {
			return reconcileOnce(ctx, cfg, stdout)
		}
		return runApp(ctx, fx.New(appOptions(cfg, p)))
	}}
}

// parseConfig parses a subcommand's flags and loads its configuration
// (flags over VIDLIB_* variables over defaults), validated.
func parseConfig(fs *flag.FlagSet, l *config.Loader, args []string) (*config.Config, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return loadSettings(l)
}

// parseFlags parses a subcommand's flags; it allows no arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// loadSettings loads the configuration the flags and VIDLIB_* variables
// give (flags win), validated.
func loadSettings(l *config.Loader) (*config.Config, error) {
	cfg, err := l.Load(nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return cfg, nil
}

// startApp starts app within its start timeout.
func startApp(ctx context.Context, app *fx.App) error {
	if err := app.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, app.StartTimeout())
	defer cancel()
	return app.Start(startCtx)
}

// stopApp stops app within its stop timeout, even after ctx has ended.
func stopApp(app *fx.App) error {
	ctx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	return app.Stop(ctx)
}

// runApp starts app, waits for ctx (SIGINT/SIGTERM) or the app's own
// shutdown, and stops it within its stop timeout.
func runApp(ctx context.Context, app *fx.App) error {
	if err := startApp(ctx, app); err != nil {
		return err
	}
	code := 0
	select {
	case <-ctx.Done():
	case sig := <-app.Wait():
		code = sig.ExitCode
	}
	if err := stopApp(app); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("stopped after a failure (exit code %d); see the log", code)
	}
	return nil
}
