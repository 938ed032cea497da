package library

import "errors"

// Sentinel errors. Every error a Service method returns wraps one of them, so
// servers map them to HTTP statuses in one place.
var (
	// ErrNotFound: the folder or video does not exist, or the viewer may not
	// see it. The two are deliberately indistinguishable.
	ErrNotFound = errors.New("library: not found")
	// ErrInvalid: a malformed id, cursor or page size.
	ErrInvalid = errors.New("library: invalid")
	// ErrNotReady: no snapshot has been loaded yet.
	ErrNotReady = errors.New("library: not ready")
	// ErrUnavailable: a dependency the answer needs (the access auditor) failed;
	// nothing was served.
	ErrUnavailable = errors.New("library: unavailable")
)

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
