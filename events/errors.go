package events

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Stores and buses translate their driver errors into these
// exactly once, so callers test with errors.Is whatever implementation they use.
var (
	// ErrInvalid: the input breaks a rule (a bad envelope, an empty topic, a
	// note that is too long). Nothing was changed. Handlers that return an
	// error wrapping ErrInvalid are not retried: the input will not improve.
	ErrInvalid = errors.New("events: invalid")
	// ErrNotFound: no dead letter, provider event or outbox row has that id.
	ErrNotFound = errors.New("events: not found")
	// ErrConflict: the object is not in a state that allows the change (a dead
	// letter already replayed, a provider event already processed).
	ErrConflict = errors.New("events: conflict")
	// ErrClosed: the bus, publisher or relay was closed.
	ErrClosed = errors.New("events: closed")
	// ErrAbort is a cancellation cause. Cancel a Subscribe context with it
	// (context.WithCancelCause) and the subscription stops at once, commits
	// nothing more, and leaves its group, as if the process had died: every
	// message not yet committed is delivered again to the next member. A plain
	// cancellation instead stops cleanly, waiting for handlers in flight and
	// committing what they finished.
	ErrAbort = errors.New("events: subscription aborted")
)

// Problem is one broken rule of a ValidationError.
type Problem struct {
	Field   string // "id", "type", "data", …
	Message string // what is wrong, for a human
}

// ValidationError lists what is wrong with an input. It wraps ErrInvalid, and
// errors.As gives access to the individual problems (for an HTTP 400 body).
type ValidationError struct {
	What     string // "event", "dead letter", …
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %s", ErrInvalid, e.What)
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// problems collects validation problems; err returns nil when there are none.
type problems struct {
	what string
	list []Problem
}

func (p *problems) add(field, format string, args ...any) {
	p.list = append(p.list, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{What: p.what, Problems: p.list}
}

// Invalid returns a *ValidationError with one problem. Stores use it to reject
// bad input with the same typed error the package uses.
func Invalid(what, field, format string, args ...any) error {
	p := problems{what: what}
	p.add(field, format, args...)
	return p.err()
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the Retry middleware gives up at
// once and the message goes to its dead letter. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked with Permanent or wraps
// ErrInvalid (bad input stays bad however often it is retried).
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p) || errors.Is(err, ErrInvalid)
}
