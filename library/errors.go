package library

import (
	"errors"
	"fmt"
)

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
	// ErrLocked: the video is listed to the viewer locked by a teaser rule,
	// so it has a detail but no playback. The error is a *LockedError.
	ErrLocked = errors.New("library: locked")
)

// LockedError says why a listed video may not be played: Reason is the
// teaser rule's lock reason (sign_in, upgrade or purchase).
type LockedError struct {
	VideoID string
	Reason  string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("library: locked: video %s: %s", e.VideoID, e.Reason)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
