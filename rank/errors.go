package rank

import "errors"

// ErrInvalid reports invalid options or input.
var ErrInvalid = errors.New("rank: invalid")
