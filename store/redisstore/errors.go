package redisstore

import "errors"

// Sentinel errors. redis.Nil never leaves this package: a missing key is ErrMiss.
var (
	// ErrMiss: the key (or stored version) does not exist or has expired.
	ErrMiss = errors.New("redisstore: cache miss")
	// ErrInvalid: bad input (zero Key, negative TTL, bad version name...). Nothing was
	// written.
	ErrInvalid = errors.New("redisstore: invalid")
	// ErrUnsupported: New was given a Redis Cluster or Ring client (see doc.go).
	ErrUnsupported = errors.New("redisstore: unsupported")
)
