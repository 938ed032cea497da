package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// VersionChange says that the named version (e.g. "content", "entitlement") is now at
// least Version.
type VersionChange struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// versionsName is the hash of current versions and also the pub/sub channel (channels
// and keys are separate namespaces in Redis).
const versionsName = "versions"

var versionName = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,62}$`)

func checkVersion(name string, v int64) error {
	if !versionName.MatchString(name) {
		return fmt.Errorf("%w: version name %q (want ^[a-z][a-z0-9_.-]{0,62}$)", ErrInvalid, name)
	}
	if v < 0 {
		return fmt.Errorf("%w: version %s=%d is negative", ErrInvalid, name, v)
	}
	return nil
}

// SetVersion raises the stored version name to v and returns the stored version after
// the call: v, or the higher version already stored. It never lowers a version, also
// under concurrent writers (a Lua script compares and sets atomically).
func (s *Store) SetVersion(ctx context.Context, name string, v int64) (int64, error) {
	return s.setVersion(ctx, name, v, "")
}

// PublishVersion raises the stored version like SetVersion and publishes the resulting
// current version to every subscriber, atomically: a subscriber that reads the stored
// versions after subscribing can never miss it. Publishing a version lower than the
// stored one publishes the stored one.
func (s *Store) PublishVersion(ctx context.Context, name string, v int64) error {
	_, err := s.setVersion(ctx, name, v, s.prefix+versionsName)
	return err
}

func (s *Store) setVersion(ctx context.Context, name string, v int64, channel string) (int64, error) {
	if err := checkVersion(name, v); err != nil {
		return 0, err
	}
	res, err := versionScript.Run(ctx, s.client, []string{s.prefix + versionsName},
		name, strconv.FormatInt(v, 10), channel).Text()
	if err != nil {
		return 0, fmt.Errorf("redisstore: set version %s=%d: %w", name, v, err)
	}
	cur, err := strconv.ParseInt(res, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redisstore: set version %s: stored value %q: %w", name, res, err)
	}
	return cur, nil
}

// Version returns the stored version name, or ErrMiss if none was ever set (then the
// caller falls back to PostgreSQL).
func (s *Store) Version(ctx context.Context, name string) (int64, error) {
	if err := checkVersion(name, 0); err != nil {
		return 0, err
	}
	v, err := s.client.HGet(ctx, s.prefix+versionsName, name).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, ErrMiss
	}
	if err != nil {
		return 0, fmt.Errorf("redisstore: version %s: %w", name, err)
	}
	return v, nil
}

// Versions returns every stored version (empty map if none).
func (s *Store) Versions(ctx context.Context) (map[string]int64, error) {
	m, err := s.client.HGetAll(ctx, s.prefix+versionsName).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: versions: %w", err)
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redisstore: versions: %s=%q: %w", k, v, err)
		}
		out[k] = n
	}
	return out, nil
}

// SubscribeVersions subscribes to version changes. It returns once the server has
// confirmed the subscription (or the first attempt failed, which is logged; go-redis then
// keeps reconnecting), so every PublishVersion that starts after it returns is seen.
//
// The channel first delivers the current stored versions, then changes. Per name the
// delivered versions strictly increase; a slow reader may see intermediate versions
// skipped (coalesced), never an older one after a newer. After a reconnect the stored
// versions are read again, so a change published while disconnected is still delivered.
// The channel is closed when ctx is done or close is called; close may be called more
// than once and returns after the channel is closed.
func (s *Store) SubscribeVersions(ctx context.Context) (<-chan VersionChange, func()) {
	channel := s.prefix + versionsName
	ps := s.client.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil {
		s.log.Warn("version subscription: first subscribe failed; retrying in the background",
			zap.String("channel", channel), zap.Error(err))
	}
	in := ps.ChannelWithSubscriptions(redis.WithChannelSize(64))

	out := make(chan VersionChange)
	stop := make(chan struct{})
	done := make(chan struct{})
	sub := &subscription{s: s, sent: map[string]int64{}, pending: map[string]int64{}}
	go func() {
		defer close(done)
		defer close(out)
		defer ps.Close()
		sub.resync(ctx) // the confirmed subscription consumed by Receive above
		for {
			var send chan<- VersionChange
			var next VersionChange
			if len(sub.order) > 0 {
				send = out
				next = VersionChange{Name: sub.order[0], Version: sub.pending[sub.order[0]]}
			}
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				switch m := m.(type) {
				case *redis.Subscription:
					if m.Kind == "subscribe" { // (re)connected: catch up on what we missed
						sub.resync(ctx)
					}
				case *redis.Message:
					var c VersionChange
					if err := json.Unmarshal([]byte(m.Payload), &c); err != nil || checkVersion(c.Name, c.Version) != nil {
						s.log.Warn("version subscription: ignoring a bad message", zap.String("payload", m.Payload))
						continue
					}
					sub.offer(c.Name, c.Version)
				}
			case send <- next:
				delete(sub.pending, next.Name)
				sub.order = sub.order[1:]
				sub.sent[next.Name] = next.Version
			}
		}
	}()
	var once sync.Once
	closeFn := func() {
		once.Do(func() { close(stop) })
		<-done
	}
	return out, closeFn
}

// subscription is the state of one SubscribeVersions goroutine (not shared).
type subscription struct {
	s       *Store
	sent    map[string]int64 // highest version delivered per name
	pending map[string]int64 // highest version not yet delivered per name
	order   []string         // names in pending, oldest first
}

// offer queues name=v unless a version at least as high was delivered or is pending.
func (sub *subscription) offer(name string, v int64) {
	if sent, ok := sub.sent[name]; ok && v <= sent {
		return
	}
	if p, ok := sub.pending[name]; ok {
		sub.pending[name] = max(p, v)
		return
	}
	sub.pending[name] = v
	sub.order = append(sub.order, name)
}

// resync offers every stored version.
func (sub *subscription) resync(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	vs, err := sub.s.Versions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			sub.s.log.Warn("version subscription: reading stored versions failed", zap.Error(err))
		}
		return
	}
	for name, v := range vs {
		sub.offer(name, v)
	}
}
