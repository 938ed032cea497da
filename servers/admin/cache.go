package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/redisstore"
)

// CacheBus carries cache invalidations from the admin to every API instance
// and the instances' reports back: Redis (RedisCache) across processes, or
// in-process (LocalCache) when everything runs in one.
type CacheBus interface {
	// Invalidate sends inv to every subscribed instance.
	Invalidate(ctx context.Context, inv Invalidation) error
	// Subscribe delivers invalidations until ctx is done or stop is called.
	Subscribe(ctx context.Context) (invs <-chan Invalidation, stop func())
	// Report stores an instance's state for ttl.
	Report(ctx context.Context, in Instance, ttl time.Duration) error
	// Instances lists the instances whose report has not expired, by id.
	Instances(ctx context.Context) ([]Instance, error)
}

// LocalCache is the in-process CacheBus.
type LocalCache struct {
	mu      sync.Mutex
	subs    map[chan Invalidation]struct{}
	reports map[string]localReport
}

type localReport struct {
	in      Instance
	expires time.Time
}

// NewLocalCache returns an in-process CacheBus.
func NewLocalCache() *LocalCache {
	return &LocalCache{subs: map[chan Invalidation]struct{}{}, reports: map[string]localReport{}}
}

// Invalidate implements CacheBus. A subscriber whose buffer is full waits:
// an invalidation is never dropped in process.
func (l *LocalCache) Invalidate(ctx context.Context, inv Invalidation) error {
	l.mu.Lock()
	subs := make([]chan Invalidation, 0, len(l.subs))
	for ch := range l.subs {
		subs = append(subs, ch)
	}
	l.mu.Unlock()
	for _, ch := range subs {
		select {
		case ch <- inv:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second): // a subscriber that stopped reading
		}
	}
	return nil
}

// Subscribe implements CacheBus.
func (l *LocalCache) Subscribe(ctx context.Context) (<-chan Invalidation, func()) {
	ch := make(chan Invalidation, 64)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.subs, ch)
			l.mu.Unlock()
		})
	}
	out := make(chan Invalidation)
	go func() {
		defer close(out)
		defer stop()
		for {
			select {
			case <-ctx.Done():
				return
			case inv := <-ch:
				select {
				case out <- inv:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, stop
}

// Report implements CacheBus.
func (l *LocalCache) Report(_ context.Context, in Instance, ttl time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports[in.ID] = localReport{in: in, expires: time.Now().Add(ttl)}
	return nil
}

// Instances implements CacheBus.
func (l *LocalCache) Instances(context.Context) ([]Instance, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	out := make([]Instance, 0, len(l.reports))
	for id, r := range l.reports {
		if now.After(r.expires) {
			delete(l.reports, id)
			continue
		}
		out = append(out, r.in)
	}
	slices.SortFunc(out, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RedisCache is the CacheBus over Redis: pub/sub for invalidations, keys
// with a TTL for the reports.
func RedisCache(rs *redisstore.Store) CacheBus { return redisBus{rs} }

type redisBus struct{ rs *redisstore.Store }

func (r redisBus) Invalidate(ctx context.Context, inv Invalidation) error {
	b, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	_, err = r.rs.Broadcast(ctx, b)
	return err
}

func (r redisBus) Subscribe(ctx context.Context) (<-chan Invalidation, func()) {
	in, stop := r.rs.SubscribeBroadcasts(ctx)
	out := make(chan Invalidation, 16)
	go func() {
		defer close(out)
		for b := range in {
			var inv Invalidation
			if json.Unmarshal(b, &inv) != nil || inv.ID == "" {
				continue
			}
			select {
			case out <- inv:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, stop
}

func (r redisBus) Report(ctx context.Context, in Instance, ttl time.Duration) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return r.rs.Heartbeat(ctx, in.ID, b, ttl)
}

func (r redisBus) Instances(ctx context.Context) ([]Instance, error) {
	m, err := r.rs.Heartbeats(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, 0, len(m))
	for _, b := range m {
		var in Instance
		if json.Unmarshal(b, &in) == nil {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// InvalidateCache sends a cache invalidation to every API instance: each one
// drops its in-process cached answers of the scope (and, once, the shared
// Redis page cache entries of it). The scope is checked against the loaded
// tree when a Library is configured (unknown folder or video: ErrNotFound).
func (s *Service) InvalidateCache(ctx context.Context, a Actor, sc Scope) (InvalidateResult, error) {
	var err error
	switch sc.Kind {
	case ScopeAll:
		sc.ID = ""
	case ScopeFolder, ScopeVideo:
		if sc.ID == "" || !library.ValidID(sc.ID) {
			err = invalid("id", "a %s id is required", sc.Kind)
		} else if s.opts.Library != nil {
			if idx, ierr := s.opts.Library.Index(); ierr == nil {
				snap := idx.Snapshot()
				if (sc.Kind == ScopeFolder && snap.Folder(sc.ID) == nil) || (sc.Kind == ScopeVideo && snap.Video(sc.ID) == nil) {
					err = fmt.Errorf("%w: %s %s", ErrNotFound, sc.Kind, sc.ID)
				}
			}
		}
	default:
		err = invalid("scope", "want all, folder or video, got %q", sc.Kind)
	}
	inv := Invalidation{ID: uuid.Must(uuid.NewV7()).String(), Scope: sc, Actor: a.ID, At: s.opts.Now().UTC()}
	var res InvalidateResult
	if err == nil {
		res.Invalidation = inv
		if ins, ierr := s.opts.Cache.Instances(ctx); ierr == nil {
			res.Instances = len(ins)
		}
		err = s.opts.Cache.Invalidate(ctx, inv)
	}
	objID := string(sc.Kind)
	if sc.ID != "" {
		objID += ":" + sc.ID
	}
	if err := s.done(ctx, a, audit.ActionCacheInvalidate, "cache", objID, err, map[string]string{"invalidation": inv.ID}); err != nil {
		return InvalidateResult{}, err
	}
	return res, nil
}

// Instances lists the API instances' cache state, as they last reported it.
func (s *Service) Instances(ctx context.Context) ([]Instance, error) {
	return s.opts.Cache.Instances(ctx)
}
