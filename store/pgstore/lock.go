package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// errLockName is returned for an empty lock name.
var errLockName = errors.New("pgstore: lock name is required")

// lockKey derives the 64-bit advisory lock key of a named lock. It includes
// the schema, as the migration lock does, so that deployments (and tests)
// sharing a database but not a schema do not exclude each other.
const lockKey = `hashtextextended('vidlib.lock.' || current_schema() || '.' || $1, 0)`

// TryLock takes the named lock if no one holds it, without waiting: a
// PostgreSQL session-level advisory lock (pg_try_advisory_lock) held on a
// connection taken from the pool for as long as the lock is held. It returns
// ok false (and no error) when another session holds the lock. While held,
// every other caller — in this process or another one on the same database and
// schema — gets ok false.
//
// release unlocks and gives the connection back; it is safe to call more than
// once and from any goroutine. If the unlock cannot be confirmed the
// connection is closed instead, which ends the session and so releases the lock
// on the server. If the connection breaks while the lock is held, the server
// releases the lock at once: the holder is not told, so the lock protects
// against concurrent runs as long as the holder's connection lives, which is
// what a scheduler needs (a second run could at worst overlap a run whose
// database connection is already gone).
func (s *Store) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if name == "" {
		return nil, false, errLockName
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: lock %q: acquire connection: %w", name, err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`, name).Scan(&got); err != nil {
		// The session's state is unknown (the query may have run): close it so
		// that a lock it might hold goes with it.
		_ = conn.Hijack().Close(context.WithoutCancel(ctx))
		return nil, false, fmt.Errorf("pgstore: lock %q: %w", name, err)
	}
	if !got {
		conn.Release()
		return nil, false, nil
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var unlocked bool
			err := conn.QueryRow(uctx, `SELECT pg_advisory_unlock(`+lockKey+`)`, name).Scan(&unlocked)
			if err != nil || !unlocked {
				s.log.Warn("advisory unlock failed; closing the session instead",
					zap.String("lock", name), zap.Error(err))
				_ = conn.Hijack().Close(uctx)
				return
			}
			conn.Release()
		})
	}
	return release, true, nil
}
