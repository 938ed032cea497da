package syncworker

import "errors"

// Sentinel errors.
var (
	// ErrBusy: a reconciliation is already running, in this process or in
	// another worker on the same database (the lock is held).
	ErrBusy = errors.New("syncworker: a reconciliation is already running")
	// ErrInvalid: a constructor got a missing dependency or a bad option.
	ErrInvalid = errors.New("syncworker: invalid")
)
