package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/vidlib/vidlib/servers/compose"
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
			compose.Parts{API: true}, config.ForAPI),
		serverCommand("sync", "mirror Vimeo: webhook intake, change polling, scheduled reconciliation, outbox relay",
			compose.Parts{Sync: true}, config.ForSync),
		serverCommand("consume", "run the event consumers (Vimeo webhooks → re-fetch → mirror; audit.events → audit log)",
			compose.Parts{Consume: true}, consume),
		serverCommand("admin", "the admin API and console: sync runs, webhooks, dead letters, drift, caches, rules",
			compose.Parts{Admin: true}, config.ForAdmin),
		serverCommand("all", "every server in one process",
			compose.All, config.ForAll),
	}
}

func serverCommand(name, summary string, p compose.Parts, sections []config.Section) command {
	return command{name, summary, func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlags(name, stderr)
		l := config.Register(fs, sections...)
		var once *bool
		if p.Sync {
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
			l.Narrow(compose.OnceSections...) // Vimeo and PostgreSQL only
		}
		cfg, err := loadSettings(l)
		if err != nil {
			return err
		}
		if once != nil && *once {
			rep, err := compose.ReconcileOnce(ctx, cfg)
			if rep != nil {
				fmt.Fprintf(stdout, "reconciled: run %d, %d changes applied, %d held, %d API calls, content version %d\n",
					rep.Run.ID, len(rep.Applied), len(rep.Held), rep.Run.APICalls, rep.Version)
			}
			return err
		}
		return compose.Run(ctx, compose.New(cfg, p, compose.WithVersion(versionString())))
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
