package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Chat identification tokens (HubSpot) are kept per user under
// hubspot:token:{user}, with a minting lock under hubspot:token-lock:{user},
// so that every instance shares one token per user and one instance at a
// time asks HubSpot for it.

func chatTokenKey(userID string) string { return "hubspot:token:" + esc(userID) }
func chatLockKey(userID string) string  { return "hubspot:token-lock:" + esc(userID) }

// GetChatToken returns the stored token record of the user, or (nil, nil).
func (s *Store) GetChatToken(ctx context.Context, userID string) ([]byte, error) {
	if userID == "" {
		return nil, fmt.Errorf("%w: empty user id", ErrInvalid)
	}
	b, err := s.client.Get(ctx, s.prefix+chatTokenKey(userID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: get chat token: %w", err)
	}
	return b, nil
}

// SetChatToken stores the user's token record for ttl (> 0).
func (s *Store) SetChatToken(ctx context.Context, userID string, value []byte, ttl time.Duration) error {
	if userID == "" || ttl <= 0 {
		return fmt.Errorf("%w: user %q, ttl %v", ErrInvalid, userID, ttl)
	}
	if err := s.client.Set(ctx, s.prefix+chatTokenKey(userID), value, ttl).Err(); err != nil {
		return fmt.Errorf("redisstore: set chat token: %w", err)
	}
	return nil
}

// unlockScript deletes a lock only if it still holds our value.
var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// LockChatToken takes the user's minting lock for ttl (SET NX PX with a
// random value); ok is false while another holder has it. unlock deletes
// it only if it is still ours (it expires by itself after ttl).
func (s *Store) LockChatToken(ctx context.Context, userID string, ttl time.Duration) (unlock func(), ok bool, err error) {
	if userID == "" || ttl <= 0 {
		return nil, false, fmt.Errorf("%w: user %q, ttl %v", ErrInvalid, userID, ttl)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	val := hex.EncodeToString(b[:])
	key := s.prefix + chatLockKey(userID)
	ok, err = s.client.SetNX(ctx, key, val, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: lock chat token: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if err := unlockScript.Run(ctx, s.client, []string{key}, val).Err(); err != nil {
			s.log.Warn("chat token lock not released; it expires by itself")
		}
	}, true, nil
}
