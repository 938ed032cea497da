package audit

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid: a record, query or checkpoint breaks a rule. Errors wrapping it
// are permanent: the consumer dead-letters such a record at once.
var ErrInvalid = errors.New("audit: invalid")

// ValidationError lists what is wrong with a record or query. It wraps
// ErrInvalid.
type ValidationError struct {
	What     string   // "record", "query", "checkpoint"
	Problems []string // "field: what is wrong"
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.What, strings.Join(e.Problems, "; "))
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

type problems struct {
	what string
	list []string
}

func (p *problems) add(field, format string, args ...any) {
	p.list = append(p.list, field+": "+fmt.Sprintf(format, args...))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{What: p.what, Problems: p.list}
}
