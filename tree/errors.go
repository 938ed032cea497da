package tree

import (
	"errors"
	"fmt"
)

// Sentinel errors. Stores translate their driver errors into these exactly once,
// so callers test with errors.Is whatever store they use.
var (
	ErrNotFound  = errors.New("tree: not found")
	ErrInvalid   = errors.New("tree: invalid")
	ErrDuplicate = errors.New("tree: duplicate")
	ErrOrphan    = errors.New("tree: unknown parent")
	ErrCycle     = errors.New("tree: cycle")
	ErrConflict  = errors.New("tree: conflict")
)

// Error says which object broke which rule. errors.Is(err, ErrCycle) and the
// like work through Unwrap.
type Error struct {
	Kind   error  // one of the sentinel errors
	Object string // "folder", "video" or "placement"
	ID     string // the Vimeo id concerned
	Detail string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%v: %s %q", e.Kind, e.Object, e.ID)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error; stores use it to report on a Vimeo id.
func Errorf(kind error, object, id, format string, args ...any) *Error {
	return &Error{Kind: kind, Object: object, ID: id, Detail: fmt.Sprintf(format, args...)}
}
