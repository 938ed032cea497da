package rank

import "errors"

// ErrInvalid reports invalid options or input.
var ErrInvalid = errors.New("rank: invalid")

// ErrNoFeed reports that no ranked feed is stored for a user (or none for
// the asked version).
var ErrNoFeed = errors.New("rank: no feed")
