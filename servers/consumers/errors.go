package consumers

import "errors"

// ErrInvalid: a consumer was built with missing or bad options.
var ErrInvalid = errors.New("consumers: invalid")
