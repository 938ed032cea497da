package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// Logger receives operational messages; nil means no logging.
	Logger *zap.Logger
	// MaxConns caps the pool Open creates (0: pgxpool's default, max(4, CPUs)).
	MaxConns int32
}

// Store is the PostgreSQL implementation of vidlib's store contracts. It is
// safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	log      *zap.Logger
	ownsPool bool

	partitions sync.Map // watch_events partitions known to exist (analytics.go)

	// loadSlot lets one parallel snapshot load run at a time: each holds a
	// connection while it waits for two more, so concurrent loads (the
	// library, the scheduler and the ranking pipeline start together) could
	// otherwise take every connection of a small pool and wait forever.
	loadSlot chan struct{}
}

// Open connects to the database at dsn (a PostgreSQL URL or key=value string;
// runtime parameters such as search_path pass through) and checks that it
// answers. It does not migrate: call Migrate, or run `vidlib migrate`.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parse dsn: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: ping %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	s := New(pool, opts)
	s.ownsPool = true
	return s, nil
}

// New wraps a pool the caller owns (and closes).
func New(pool *pgxpool.Pool, opts *Options) *Store {
	if opts == nil {
		opts = &Options{}
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Store{pool: pool, log: log.Named("pgstore"), loadSlot: make(chan struct{}, 1)}
}

// Pool returns the underlying pool, for callers that share it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool if Open created it.
func (s *Store) Close() {
	if s.ownsPool {
		s.pool.Close()
	}
}

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// domainErrs names a package's sentinel errors for translate.
type domainErrs struct {
	notFound, duplicate, invalid error
}

// translate maps driver errors onto a package's sentinel errors, once, keeping
// the driver's message as detail.
func translate(err error, d domainErrs) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return d.notFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w: %s", d.duplicate, pgErr.Detail)
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %s", d.notFound, pgErr.Detail)
	case "23514", "23502", "22P02", "22001", "22003", "22007", "22008": // check, not null, bad text repr, too long, out of range, datetime
		return fmt.Errorf("%w: %s", d.invalid, pgErr.Message)
	}
	return err
}
