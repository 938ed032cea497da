package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Admin broadcasts and instance heartbeats: the admin service's cache
// invalidations reach every API instance through a pub/sub channel, and each
// instance reports its state under a key with a TTL, indexed in a sorted set
// by expiry so that the admin can list the live ones.
const (
	broadcastChannel = "admin:broadcast"
	heartbeatIndex   = "admin:instances"
	heartbeatPrefix  = "admin:instance:"
)

// Broadcast publishes payload to every Subscribe call, on every instance.
// Pub/sub is fire-and-forget: an instance that is disconnected at the time
// misses it (it still drops its caches on the next version change).
func (s *Store) Broadcast(ctx context.Context, payload []byte) (receivers int64, err error) {
	n, err := s.client.Publish(ctx, s.prefix+broadcastChannel, payload).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: broadcast: %w", err)
	}
	return n, nil
}

// SubscribeBroadcasts returns the payloads of Broadcast until ctx is done or
// stop is called. The subscription is confirmed before it returns (or the
// error logged and retried in the background).
func (s *Store) SubscribeBroadcasts(ctx context.Context) (<-chan []byte, func()) {
	ps := s.client.Subscribe(ctx, s.prefix+broadcastChannel)
	if _, err := ps.Receive(ctx); err != nil {
		s.log.Warn("broadcast subscription: first subscribe failed; retrying in the background")
	}
	in := ps.Channel(redis.WithChannelSize(64))
	out := make(chan []byte, 16)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- []byte(m.Payload):
				case <-ctx.Done():
					return
				case <-stop:
					return
				}
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() { close(stop) })
		<-done
	}
}

// Heartbeat stores an instance's report for ttl.
func (s *Store) Heartbeat(ctx context.Context, instance string, payload []byte, ttl time.Duration) error {
	if instance == "" || ttl <= 0 {
		return fmt.Errorf("%w: heartbeat needs an instance and a positive ttl", ErrInvalid)
	}
	exp := time.Now().Add(ttl).UnixMilli()
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.prefix+heartbeatPrefix+instance, payload, ttl)
		p.ZAdd(ctx, s.prefix+heartbeatIndex, redis.Z{Score: float64(exp), Member: instance})
		p.ZRemRangeByScore(ctx, s.prefix+heartbeatIndex, "-inf", "("+strconv.FormatInt(time.Now().UnixMilli(), 10))
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: heartbeat: %w", err)
	}
	return nil
}

// Heartbeats returns the reports of the instances whose heartbeat has not
// expired, by instance.
func (s *Store) Heartbeats(ctx context.Context) (map[string][]byte, error) {
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	ids, err := s.client.ZRangeByScore(ctx, s.prefix+heartbeatIndex, &redis.ZRangeBy{Min: now, Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: heartbeats: %w", err)
	}
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.prefix + heartbeatPrefix + id
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: heartbeats: %w", err)
	}
	for i, v := range vals {
		if str, ok := v.(string); ok {
			out[ids[i]] = []byte(str)
		}
	}
	return out, nil
}
