package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ProgressVersionTTL is how long a user's progress version lives after its
// last change. A version that expired is replaced by a new one at the next
// read, which a reader's cached copy cannot match: expiry only costs a miss.
const ProgressVersionTTL = 7 * 24 * time.Hour

// ProgressVersionKey is the key of a user's progress version:
// progress:{user_id}:version. Its value is a random token, not a counter, so
// that a key that expired and was created again can never repeat a version
// a reader still holds.
func ProgressVersionKey(userID string) Key {
	if userID == "" {
		return Key{}
	}
	owner := "progress:" + esc(userID)
	return Key{name: owner + ":version", owner: owner}
}

// progressVersionScript returns the stored version, or stores ARGV[1] (TTL
// ARGV[2] ms) when there is none and returns it. KEYS = the version key.
var progressVersionScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`)

// newProgressVersion is a random token; two tokens are equal with
// probability 2^-64.
func newProgressVersion() string { return strconv.FormatUint(rand.Uint64(), 36) }

// ProgressVersion returns the user's current progress version, creating one
// when there is none. A reader that reads the version before it reads the
// user's progress from PostgreSQL may keep that copy for as long as the
// version stays the same: every write of the user's progress is followed by
// BumpProgress.
func (s *Store) ProgressVersion(ctx context.Context, userID string) (string, error) {
	k := ProgressVersionKey(userID)
	if k.IsZero() {
		return "", fmt.Errorf("%w: empty user id", ErrInvalid)
	}
	v, err := progressVersionScript.Run(ctx, s.client, []string{s.key(k)}, newProgressVersion(), ProgressVersionTTL.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("redisstore: progress version %s: %w", k, err)
	}
	return v, nil
}

// BumpProgress gives each user a new progress version, in one round trip,
// after their progress changed in PostgreSQL: every copy read under an
// older version is stale from then on.
func (s *Store) BumpProgress(ctx context.Context, userIDs ...string) error {
	if len(userIDs) == 0 {
		return nil
	}
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range userIDs {
			k := ProgressVersionKey(u)
			if k.IsZero() {
				return fmt.Errorf("%w: empty user id", ErrInvalid)
			}
			p.Set(ctx, s.key(k), newProgressVersion(), ProgressVersionTTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: bump progress of %d users: %w", len(userIDs), err)
	}
	return nil
}
