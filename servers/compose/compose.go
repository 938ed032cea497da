package compose

import (
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// Backend is what one store implementation gives every server: pgstore in
// production, memstore in the demo and the embedded default.
type Backend interface {
	library.Store
	tree.Store
	tree.ContentFeed // the library patches content changes in from it
	auth.UserStore
	entitle.RuleStore
	syncworker.Store
	events.OutboxWriter
	events.DeadLetterCounter
	consumers.AuditStore
	audit.Searcher
	admin.Store
	consumers.AnalyticsStore
	consumers.WatchEventRetention
	consumers.RankingStore
	library.FeedSource
	auth.AudienceRecorder
	api.ProgressStore
	api.ChatContextWriter
}

var (
	_ Backend = (*pgstore.Store)(nil)
	_ Backend = (*memstore.Store)(nil)
)

// Parts selects the servers one process runs.
type Parts struct {
	API, Sync, Consume, Admin bool
}

// All is every server in one process (`vidlib all`, the demo).
var All = Parts{API: true, Sync: true, Consume: true, Admin: true}

// busInProcess reports whether every server that publishes or consumes
// events runs in this process, so that the in-process bus will do.
func (p Parts) busInProcess() bool { return p.API && p.Sync && p.Consume }

func (p Parts) String() string {
	var s []string
	for _, x := range []struct {
		on   bool
		name string
	}{{p.API, "api"}, {p.Sync, "sync"}, {p.Consume, "consume"}, {p.Admin, "admin"}} {
		if x.on {
			s = append(s, x.name)
		}
	}
	return strings.Join(s, "+")
}

// version is the build's version, logged at start.
type version string

// WithVersion names the build in the start-up log line (default "(devel)").
func WithVersion(v string) fx.Option { return fx.Replace(version(v)) }

// WithLogger replaces the process logger built from cfg.Log (a benchmark
// sends it to a file).
func WithLogger(l *zap.Logger) fx.Option {
	return fx.Decorate(func(*zap.Logger) *zap.Logger { return l })
}

// UseStore makes b the process's store instead of the one cfg names (a
// benchmark or test that filled it beforehand).
func UseStore(b Backend) fx.Option {
	return fx.Decorate(func(Backend) Backend { return b })
}

// Options builds the fx options of a process running parts p on cfg. extra
// options come last (the demo and the benchmark use them to swap pieces).
func Options(cfg *config.Config, p Parts, extra ...fx.Option) fx.Option {
	opts := []fx.Option{
		fx.Supply(cfg, p, version("(devel)")),
		ops.Module,
		ops.FxLogger,
		fx.StopTimeout(cfg.ShutdownTimeout + 5*time.Second),
		fx.Invoke(ops.ApplyMemoryLimit), // before anything big is built
		fx.Provide(provideBus, provideAuditor, provideVersions, provideLocalFeeds),
		fx.Provide(
			func(b Backend) library.Store { return b },
			func(b Backend) tree.Store { return b },
			func(b Backend) auth.UserStore { return b },
			func(b Backend) syncworker.Store { return b },
		),
		storeOptions(cfg),
	}
	// The sync worker comes first: fx stops in reverse order, so its outbox
	// relay stops last and publishes what the other servers wrote while
	// they drained.
	if p.Sync || p.Consume {
		opts = append(opts, syncWorkerOptions())
	}
	if p.API || p.Admin {
		opts = append(opts, libraryOptions()) // the admin explains decisions over the same library
	}
	if p.API {
		opts = append(opts, apiOptions())
	}
	if p.Sync {
		opts = append(opts, syncServerOptions())
	}
	if p.Admin {
		opts = append(opts, adminOptions())
	}
	if p.Consume || p.Admin {
		// Where dead letters are made (the consumers) and handled (admin).
		opts = append(opts, fx.Invoke(watchDeadLetters))
	}
	if p.Consume {
		opts = append(opts, consumeOptions())
		if p.API || p.Admin { // the process loads the library: rank over its index, not a second copy
			opts = append(opts, fx.Provide(func(l *library.Service) consumers.IndexSource { return l }))
		}
	}
	opts = append(opts, fx.Invoke(logStart))
	return fx.Options(append(opts, extra...)...)
}

// New is fx.New(Options(cfg, p, extra...)).
func New(cfg *config.Config, p Parts, extra ...fx.Option) *fx.App {
	return fx.New(Options(cfg, p, extra...))
}

func logStart(cfg *config.Config, p Parts, v version, log *zap.Logger) {
	log.Info("vidlib starting", zap.String("parts", p.String()), zap.String("version", string(v)), zap.Object("config", cfg))
}

// watchDeadLetters exports vidlib_dead_letters_open, counted in the store at
// scrape time.
func watchDeadLetters(m *ops.Metrics, b Backend) error {
	return m.WatchDeadLettersOpen(b)
}

// provideAuditor is the process's audit.Recorder: records go through the
// store's outbox to audit.events.
func provideAuditor(b Backend) (*audit.Recorder, error) {
	return audit.NewRecorder(&audit.RecorderOptions{Source: "vidlib", Outbox: b})
}
