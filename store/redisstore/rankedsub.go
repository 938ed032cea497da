package redisstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// rankedChannel is the pub/sub channel on which SetRanked and InvalidateRanked announce
// the users whose ranked feed changed; each message is one user id.
const rankedChannel = "ranked"

// announceRanked publishes each user on the ranked-feed channel.
func (s *Store) announceRanked(ctx context.Context, userIDs []string) error {
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range userIDs {
			p.Publish(ctx, s.prefix+rankedChannel, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: announce ranked feeds (%d): %w", len(userIDs), err)
	}
	return nil
}

// SubscribeRanked subscribes to ranked-feed changes: the channel delivers the id of each
// user whose feed SetRanked replaced or InvalidateRanked deleted, and "" when changes
// may have been missed (after a reconnect, or when the reader fell behind by more than
// the channel's buffer): then any user's feed may have changed. It returns once the
// server has confirmed the subscription (or the first attempt failed, which is logged;
// go-redis then keeps reconnecting and "" follows the reconnection), so every change
// made after it returns is delivered or covered by a "". The channel is closed when ctx
// is done or close is called; close may be called more than once and returns after the
// channel is closed.
func (s *Store) SubscribeRanked(ctx context.Context) (<-chan string, func()) {
	channel := s.prefix + rankedChannel
	ps := s.client.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil {
		s.log.Warn("ranked subscription: first subscribe failed; retrying in the background",
			zap.String("channel", channel), zap.Error(err))
	}
	in := ps.ChannelWithSubscriptions(redis.WithChannelSize(256))
	out := make(chan string, 256)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		defer ps.Close()
		missed := false // a "" is owed to the reader
		for {
			var send chan<- string
			if missed {
				send = out
			}
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case send <- "":
				missed = false
			case m, ok := <-in:
				if !ok {
					return
				}
				switch m := m.(type) {
				case *redis.Subscription:
					if m.Kind == "subscribe" { // (re)connected after Receive: changes may be lost
						missed = true
					}
				case *redis.Message:
					if missed || m.Payload == "" {
						continue // the owed "" covers it
					}
					select {
					case out <- m.Payload:
					default:
						missed = true
					}
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
