package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"
)

// TokenStore keeps identification tokens shared by every instance (Redis in
// production: servers/api.RedisTokenStore; MemoryTokenStore in one
// process). Values are opaque to the store.
type TokenStore interface {
	// GetToken returns the value stored for the user, or (nil, nil).
	GetToken(ctx context.Context, userID string) ([]byte, error)
	// SetToken stores the value for ttl.
	SetToken(ctx context.Context, userID string, value []byte, ttl time.Duration) error
	// LockToken takes the user's minting lock for ttl: ok is false while
	// another holder has it. unlock releases it if still ours.
	LockToken(ctx context.Context, userID string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// Minter mints identification tokens: *Client.
type Minter interface {
	CreateVisitorToken(ctx context.Context, r VisitorRequest) (*VisitorToken, error)
}

// Defaults of TokensOptions.
const (
	DefaultRefreshBefore = time.Hour
	DefaultMintTimeout   = 3 * time.Second
	DefaultFailureTTL    = 10 * time.Second
	DefaultMaxLocal      = 100_000
)

// TokensOptions configures Tokens. The zero value is valid.
type TokensOptions struct {
	// Store shares tokens across instances (nil: a MemoryTokenStore, this
	// process only).
	Store TokenStore
	// RefreshBefore is how long before its expiry a token stops being handed
	// out: a cached token is used for TokenLifetime - RefreshBefore (default
	// DefaultRefreshBefore), so a page that got it has at least that long.
	RefreshBefore time.Duration
	// MintTimeout bounds one minting, HubSpot's retries included (default
	// DefaultMintTimeout). It runs apart from the callers, who may stop
	// waiting sooner: a token minted after they left is cached for the
	// next request.
	MintTimeout time.Duration
	// FailureTTL is how long a failed minting is remembered for the user in
	// this process, so that an outage or a 4xx costs one call per user per
	// FailureTTL, not one per request (default DefaultFailureTTL).
	FailureTTL time.Duration
	// MaxLocal bounds the in-process copies of stored tokens (default
	// DefaultMaxLocal); past it the local table is emptied.
	MaxLocal int
	// AgentContext, if set, gives hsCustomerAgentContext for a user. A token
	// is cached per user and reused across videos, so only what holds for
	// the user belongs there (per-video context travels in the page URL and
	// the contact properties).
	AgentContext func(userID string) map[string]string
	Clock        Clock
	Logger       *zap.Logger
}

// Tokens hands out identification tokens per user: from an in-process
// copy, else the shared store, else minted, by one caller at a time per
// user in this process (singleflight) and across instances (the store's
// lock; an instance that finds the lock taken waits for the holder's token
// to appear in the store). It is safe for concurrent use.
type Tokens struct {
	m     Minter
	store TokenStore
	o     TokensOptions
	log   *zap.Logger
	sf    singleflight.Group

	mu     sync.Mutex
	local  map[string]storedToken
	failed map[string]failure
}

type storedToken struct {
	Email     string    `json:"email"`
	Token     string    `json:"token"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

type failure struct {
	email string
	err   error
	until time.Time
}

// NewTokens returns Tokens minting through m.
func NewTokens(m Minter, opts *TokensOptions) (*Tokens, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil minter", ErrInvalidArgument)
	}
	var o TokensOptions
	if opts != nil {
		o = *opts
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.Store == nil {
		o.Store = NewMemoryTokenStore(o.Clock)
	}
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = DefaultRefreshBefore
	}
	if o.RefreshBefore >= TokenLifetime {
		return nil, fmt.Errorf("%w: refresh %v before a %v lifetime", ErrInvalidArgument, o.RefreshBefore, TokenLifetime)
	}
	if o.MintTimeout <= 0 {
		o.MintTimeout = DefaultMintTimeout
	}
	if o.FailureTTL <= 0 {
		o.FailureTTL = DefaultFailureTTL
	}
	if o.MaxLocal <= 0 {
		o.MaxLocal = DefaultMaxLocal
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return &Tokens{m: m, store: o.Store, o: o, log: o.Logger.Named("hubspot_tokens"),
		local: map[string]storedToken{}, failed: map[string]failure{}}, nil
}

// usable reports whether t may be handed out for email at now.
func (t *Tokens) usable(st storedToken, email string, now time.Time) bool {
	return st.Token != "" && st.Email == email && now.Before(st.ExpiresAt.Add(-t.o.RefreshBefore))
}

// IdentificationToken returns a token identifying the user with email to
// the chat widget: cached while it has more than RefreshBefore left, else
// minted. It returns when the token is there or ctx ends, whichever comes
// first; a minting in progress carries on without the caller. Errors are
// HubSpot's (*APIError, *CircuitOpenError, *TransportError; Code names
// them), ctx's, or a store's.
func (t *Tokens) IdentificationToken(ctx context.Context, userID, email, name string) (token string, expiresAt time.Time, err error) {
	if userID == "" || !ValidEmail(email) {
		return "", time.Time{}, &ArgumentError{Msg: fmt.Sprintf("user %q, email %q", userID, email)}
	}
	now := t.o.Clock.Now()
	t.mu.Lock()
	st, ok := t.local[userID]
	f, failed := t.failed[userID]
	t.mu.Unlock()
	if ok && t.usable(st, email, now) {
		return st.Token, st.ExpiresAt, nil
	}
	if failed && f.email == email && now.Before(f.until) {
		return "", time.Time{}, f.err
	}
	if st, ok, err := t.load(ctx, userID, email, now); err != nil {
		return "", time.Time{}, err
	} else if ok {
		return st.Token, st.ExpiresAt, nil
	}
	ch := t.sf.DoChan(userID+"\x00"+email, func() (any, error) {
		return t.mint(userID, email, name)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", time.Time{}, r.Err
		}
		st := r.Val.(storedToken)
		return st.Token, st.ExpiresAt, nil
	case <-ctx.Done():
		return "", time.Time{}, fmt.Errorf("hubspot: waiting for an identification token: %w", ctx.Err())
	}
}

// load reads the shared store and keeps a usable token locally.
func (t *Tokens) load(ctx context.Context, userID, email string, now time.Time) (storedToken, bool, error) {
	b, err := t.store.GetToken(ctx, userID)
	if err != nil {
		return storedToken{}, false, fmt.Errorf("hubspot: token store: %w", err)
	}
	if b == nil {
		return storedToken{}, false, nil
	}
	var st storedToken
	if json.Unmarshal(b, &st) != nil || !t.usable(st, email, now) {
		return storedToken{}, false, nil
	}
	t.keep(userID, st)
	return st, true, nil
}

func (t *Tokens) keep(userID string, st storedToken) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.local) >= t.o.MaxLocal {
		clear(t.local)
	}
	t.local[userID] = st
	delete(t.failed, userID)
}

// errLockHeld: another instance was minting and its token did not appear
// within the minting timeout.
var errLockHeld = errors.New("hubspot: another instance is minting this user's token")

// mint runs once per user at a time in this process, apart from any caller.
func (t *Tokens) mint(userID, email, name string) (storedToken, error) {
	ctx, cancel := context.WithTimeout(context.Background(), t.o.MintTimeout)
	defer cancel()
	st, err := t.mintLocked(ctx, userID, email, name)
	if err != nil {
		t.mu.Lock()
		if len(t.failed) >= t.o.MaxLocal {
			clear(t.failed)
		}
		t.failed[userID] = failure{email: email, err: err, until: t.o.Clock.Now().Add(t.o.FailureTTL)}
		t.mu.Unlock()
		t.log.Warn("identification token not minted", zap.String("user_id", userID), zap.Error(err))
		return storedToken{}, err
	}
	t.keep(userID, st)
	return st, nil
}

func (t *Tokens) mintLocked(ctx context.Context, userID, email, name string) (storedToken, error) {
	for {
		unlock, ok, err := t.store.LockToken(ctx, userID, t.o.MintTimeout+time.Second)
		if err != nil {
			return storedToken{}, fmt.Errorf("hubspot: token lock: %w", err)
		}
		if !ok { // another instance mints: wait for its token
			if st, found, err := t.load(ctx, userID, email, t.o.Clock.Now()); err != nil {
				return storedToken{}, err
			} else if found {
				return st, nil
			}
			if err := t.o.Clock.Sleep(ctx, 20*time.Millisecond); err != nil {
				return storedToken{}, fmt.Errorf("%w: %w", errLockHeld, err)
			}
			continue
		}
		defer unlock()
		// The previous holder may have stored one just before we locked.
		if st, found, err := t.load(ctx, userID, email, t.o.Clock.Now()); err != nil || found {
			return st, err
		}
		req := VisitorRequest{Email: email}
		req.FirstName, req.LastName = splitName(name)
		if t.o.AgentContext != nil {
			req.AgentContext = t.o.AgentContext(userID)
		}
		vt, err := t.m.CreateVisitorToken(ctx, req)
		if err != nil {
			return storedToken{}, err
		}
		st := storedToken{Email: email, Token: vt.Token, IssuedAt: vt.IssuedAt, ExpiresAt: vt.ExpiresAt}
		ttl := st.ExpiresAt.Add(-t.o.RefreshBefore).Sub(t.o.Clock.Now())
		if ttl > 0 {
			b, _ := json.Marshal(st)
			if err := t.store.SetToken(ctx, userID, b, ttl); err != nil {
				// The token is good; other instances will mint their own.
				t.log.Warn("identification token not shared", zap.String("user_id", userID), zap.Error(err))
			}
		}
		return st, nil
	}
}

// splitName splits "Ana Reyes" into first and last name.
func splitName(name string) (first, last string) {
	first, last, _ = strings.Cut(strings.TrimSpace(name), " ")
	return first, strings.TrimSpace(last)
}

// MemoryTokenStore is a TokenStore in one process (the demo, memstore
// deployments, tests). It is safe for concurrent use.
type MemoryTokenStore struct {
	clock Clock
	mu    sync.Mutex
	vals  map[string]memEntry
	locks map[string]memLock
	seq   uint64
}

type memEntry struct {
	v   []byte
	exp time.Time
}

type memLock struct {
	id  uint64
	exp time.Time
}

var _ TokenStore = (*MemoryTokenStore)(nil)

// NewMemoryTokenStore returns an empty store on clock (nil: the system
// clock).
func NewMemoryTokenStore(clock Clock) *MemoryTokenStore {
	if clock == nil {
		clock = SystemClock()
	}
	return &MemoryTokenStore{clock: clock, vals: map[string]memEntry{}, locks: map[string]memLock{}}
}

// GetToken implements TokenStore.
func (s *MemoryTokenStore) GetToken(_ context.Context, userID string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.vals[userID]
	if !ok || !s.clock.Now().Before(e.exp) {
		delete(s.vals, userID)
		return nil, nil
	}
	return e.v, nil
}

// SetToken implements TokenStore.
func (s *MemoryTokenStore) SetToken(_ context.Context, userID string, v []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals[userID] = memEntry{v: append([]byte(nil), v...), exp: s.clock.Now().Add(ttl)}
	return nil
}

// LockToken implements TokenStore.
func (s *MemoryTokenStore) LockToken(_ context.Context, userID string, ttl time.Duration) (func(), bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if l, ok := s.locks[userID]; ok && now.Before(l.exp) {
		return nil, false, nil
	}
	s.seq++
	id := s.seq
	s.locks[userID] = memLock{id: id, exp: now.Add(ttl)}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if l, ok := s.locks[userID]; ok && l.id == id {
			delete(s.locks, userID)
		}
	}, true, nil
}
