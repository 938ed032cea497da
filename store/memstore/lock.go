package memstore

import (
	"context"
	"errors"
	"sync"
)

// heldLocks maps a *Store to the names of the locks held on it. An entry
// exists only while a lock of that store is held, so a store without locks
// leaves nothing behind here. (A package-level table keeps the lock state out
// of Store's declaration; it is the same for every caller.)
var (
	heldMu    sync.Mutex
	heldLocks = map[*Store]map[string]bool{}
)

// TryLock takes the named lock if no one holds it, without waiting: the
// in-process equivalent of pgstore's advisory lock, for a single process
// (demo, tests). It returns ok false when the lock is held. release is safe to
// call more than once and from any goroutine.
func (s *Store) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if name == "" {
		return nil, false, errors.New("memstore: lock name is required")
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	heldMu.Lock()
	defer heldMu.Unlock()
	names := heldLocks[s]
	if names[name] {
		return nil, false, nil
	}
	if names == nil {
		names = map[string]bool{}
		heldLocks[s] = names
	}
	names[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			heldMu.Lock()
			defer heldMu.Unlock()
			delete(names, name)
			if len(names) == 0 {
				delete(heldLocks, s)
			}
		})
	}, true, nil
}
