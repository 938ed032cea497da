package ops

import "errors"

// ErrInvalid reports a bad option.
var ErrInvalid = errors.New("ops: invalid option")
