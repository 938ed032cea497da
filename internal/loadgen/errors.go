package loadgen

import "errors"

// ErrInvalid reports bad options or input; nothing was run.
var ErrInvalid = errors.New("loadgen: invalid")
