package memstore

import (
	"sync"
)

// Store keeps everything in memory. It implements the same contracts as
// store/pgstore and passes the same store/storetest suites. It is safe for
// concurrent use: each contract's state has its own lock, and a tree.Store
// Update works on a copy that replaces the state only when fn succeeds.
type Store struct {
	treeMu sync.RWMutex
	tree   *treeState
	feed   []feedEntry // the change feed (feed.go), oldest first; under treeMu

	usersMu sync.RWMutex
	users   usersState

	rulesMu sync.RWMutex
	rules   rulesState

	ev eventsState

	audit auditState
	admin adminState // admin.go

	analytics analyticsState

	ranking rankingState

	chat chatState // hubspot.go
}

// New returns an empty store.
func New() *Store {
	s := &Store{tree: newTreeState()}
	s.users.init()
	s.rules.init()
	s.ev.init()
	return s
}
