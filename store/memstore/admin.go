package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

var (
	_ tree.AdminStore           = (*Store)(nil)
	_ events.DeadLetterSearcher = (*Store)(nil)
	_ events.IdempotencyStore   = (*Store)(nil)
)

// adminState is the admin's own state: idempotency keys and dead-letter
// history. Its lock is taken after the other locks of the
// store, never before one.
type adminState struct {
	mu       sync.Mutex
	idem     map[string]*events.IdempotentRequest
	history  map[int64][]events.DeadLetterChange
	nextHist int64
}

func (a *adminState) lock() {
	a.mu.Lock()
	if a.idem == nil {
		a.idem = map[string]*events.IdempotentRequest{}
		a.history = map[int64][]events.DeadLetterChange{}
	}
}

func contains(s, sub string) bool {
	return sub == "" || strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func inRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

// SearchSyncRuns implements tree.AdminStore.
func (s *Store) SearchSyncRuns(ctx context.Context, q tree.SyncRunQuery) ([]tree.SyncRun, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	out := []tree.SyncRun{}
	for i := len(s.tree.syncRuns) - 1; i >= 0 && len(out) < q.Limit; i-- {
		r := s.tree.syncRuns[i]
		if (q.Before > 0 && r.ID >= q.Before) || (q.Trigger != "" && r.Trigger != q.Trigger) ||
			(q.Status != "" && tree.RunStatus(r) != q.Status) || !inRange(r.StartedAt, q.From, q.To) {
			continue
		}
		r.Counts, r.Errors = maps.Clone(r.Counts), slices.Clone(r.Errors)
		r.Changes, r.HeldChanges = nil, nil
		out = append(out, r)
	}
	return out, nil
}

// SyncRun implements tree.AdminStore.
func (s *Store) SyncRun(ctx context.Context, id int64) (tree.SyncRun, error) {
	if err := ctx.Err(); err != nil {
		return tree.SyncRun{}, err
	}
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	if id < 1 || id > int64(len(s.tree.syncRuns)) {
		return tree.SyncRun{}, fmt.Errorf("memstore: sync run %d: %w", id, tree.ErrNotFound)
	}
	r := s.tree.syncRuns[id-1]
	r.Counts, r.Errors = maps.Clone(r.Counts), slices.Clone(r.Errors)
	return r, nil
}

// SearchVideos implements tree.AdminStore.
func (s *Store) SearchVideos(ctx context.Context, q tree.VideoQuery) ([]tree.Video, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	s.treeMu.RLock()
	var match []tree.Video
	for _, v := range s.tree.videos {
		var ok bool
		switch q.State {
		case tree.StateDeleted:
			ok = v.Deleted()
		case tree.StateHidden:
			ok = v.Hidden
		case tree.StateUnavailable:
			ok = v.Status != tree.StatusAvailable
		default:
			ok = v.Deleted() || v.Hidden || v.Status != tree.StatusAvailable
		}
		if ok && (q.After == "" || v.VimeoID < q.After) && (contains(v.Title, q.Text) || strings.Contains(v.VimeoID, q.Text)) {
			match = append(match, v)
		}
	}
	s.treeMu.RUnlock()
	slices.SortFunc(match, func(a, b tree.Video) int { return strings.Compare(b.VimeoID, a.VimeoID) })
	if len(match) > q.Limit {
		match = match[:q.Limit]
	}
	if match == nil {
		match = []tree.Video{}
	}
	return match, nil
}

// SearchDeadLetters implements events.DeadLetterSearcher.
func (s *Store) SearchDeadLetters(ctx context.Context, q events.DeadLetterQuery) ([]events.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	words := events.TextWords(q.Text)
	e := &s.ev
	e.mu.Lock()
	defer e.mu.Unlock()
	return newestFirst(e.dead, e.nextDead, q.Before, q.Limit, func(x *events.DeadLetter) bool {
		return (q.Status == "" || x.Status == q.Status) && (q.Topic == "" || x.Topic == q.Topic) &&
			(q.EventID == "" || x.EventID == q.EventID) && inRange(x.LastFailedAt, q.From, q.To) &&
			events.MatchWords(words, x.EventID, x.Key, x.Error, x.Note)
	}, cloneDead), nil
}

// SearchProviderEvents implements events.DeadLetterSearcher.
func (s *Store) SearchProviderEvents(ctx context.Context, q events.ProviderEventQuery) ([]events.ProviderEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	words := events.TextWords(q.Text)
	e := &s.ev
	e.mu.Lock()
	defer e.mu.Unlock()
	return newestFirst(e.prov, e.nextProv, q.Before, q.Limit, func(p *events.ProviderEvent) bool {
		return (q.Status == "" || p.Status == q.Status) && (q.Provider == "" || p.Provider == q.Provider) &&
			(q.EventType == "" || p.EventType == q.EventType) && inRange(p.ReceivedAt, q.From, q.To) &&
			events.MatchWords(words, p.ObjectID, p.EventKey, p.Error)
	}, cloneProv), nil
}

// AddDeadLetterChange implements events.DeadLetterSearcher.
func (s *Store) AddDeadLetterChange(ctx context.Context, c events.DeadLetterChange) error {
	if c.Kind == "" {
		return events.Invalid("dead letter change", "kind", "is required")
	}
	if _, err := s.GetDeadLetter(ctx, c.DeadLetterID); err != nil {
		return err
	}
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	c.Time = norm(c.Time)
	s.admin.lock()
	defer s.admin.mu.Unlock()
	s.admin.nextHist++
	c.ID = s.admin.nextHist
	s.admin.history[c.DeadLetterID] = append(s.admin.history[c.DeadLetterID], c)
	return nil
}

// DeadLetterHistory implements events.DeadLetterSearcher. The in-memory
// store keeps no failure log: a letter's failures appear as one entry at its
// first failure, with its latest error and total attempts.
func (s *Store) DeadLetterHistory(ctx context.Context, id int64) ([]events.DeadLetterChange, error) {
	d, err := s.GetDeadLetter(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []events.DeadLetterChange{{DeadLetterID: id, Time: d.FirstFailedAt, Kind: events.ChangeFailed,
		Error: d.Error, Attempts: d.Attempts, Status: string(events.DeadLetterOpen)}}
	s.admin.lock()
	defer s.admin.mu.Unlock()
	return append(out, s.admin.history[id]...), nil
}

// ClaimIdempotency implements events.IdempotencyStore.
func (s *Store) ClaimIdempotency(ctx context.Context, key, fingerprint string) (events.IdempotentRequest, bool, error) {
	if err := ctx.Err(); err != nil {
		return events.IdempotentRequest{}, false, err
	}
	s.admin.lock()
	defer s.admin.mu.Unlock()
	for k, r := range s.admin.idem {
		if time.Since(r.CreatedAt) > events.IdempotencyTTL {
			delete(s.admin.idem, k)
		}
	}
	if r, ok := s.admin.idem[key]; ok {
		c := *r
		c.Body = slices.Clone(r.Body)
		return c, false, nil
	}
	s.admin.idem[key] = &events.IdempotentRequest{Key: key, Fingerprint: fingerprint, CreatedAt: norm(time.Now())}
	return events.IdempotentRequest{}, true, nil
}

// CompleteIdempotency implements events.IdempotencyStore.
func (s *Store) CompleteIdempotency(_ context.Context, key string, status int, body []byte) error {
	s.admin.lock()
	defer s.admin.mu.Unlock()
	r, ok := s.admin.idem[key]
	if !ok || r.Done {
		return fmt.Errorf("%w: idempotency key not claimed or already complete", events.ErrConflict)
	}
	r.Done, r.Status, r.Body = true, status, slices.Clone(body)
	return nil
}

// ReleaseIdempotency implements events.IdempotencyStore.
func (s *Store) ReleaseIdempotency(_ context.Context, key string) error {
	s.admin.lock()
	defer s.admin.mu.Unlock()
	if r, ok := s.admin.idem[key]; ok && !r.Done {
		delete(s.admin.idem, key)
	}
	return nil
}

// SetUserDisabled disables a user (or enables them again).
func (s *Store) SetUserDisabled(_ context.Context, userID string, disabled bool) error {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, ok := s.users.users[userID]
	if !ok {
		return fmt.Errorf("memstore: user %s: %w", userID, auth.ErrNotFound)
	}
	switch {
	case disabled && u.DisabledAt.IsZero():
		u.DisabledAt = norm(time.Now())
	case !disabled:
		u.DisabledAt = time.Time{}
	}
	u.UpdatedAt = norm(time.Now())
	s.users.users[userID] = u
	return nil
}
