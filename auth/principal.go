package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Audit actions of sign-ins.
const (
	ActionLogin        = "auth.login"         // a sign-in that succeeded
	ActionLoginRefused = "auth.login_refused" // a token refused, or a disabled user
)

// AuditRecord is one audited sign-in.
type AuditRecord struct {
	Action string // ActionLogin or ActionLoginRefused
	Actor  string // the internal user id ("anonymous" for a refused token)
	Object string // "user:<id>", or "token:<hash prefix>" for a refused token
	// Key is the same for every record of one sign-in, on every instance, so
	// that a deduplicating consumer keeps one.
	Key     string
	Time    time.Time
	Details map[string]string // issuer, subject, provider, token_use, client_id, created
}

// Auditor receives audit records; it must be durable before it returns nil.
type Auditor interface {
	Record(ctx context.Context, rec AuditRecord) error
}

// TokenVerifier is what Service needs from a Verifier.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*Token, error)
}

var _ TokenVerifier = (*Verifier)(nil)

// keyedVerifier is a TokenVerifier that takes the token's key (tokenKey),
// which the Service computes anyway for its principal cache: *Verifier.
type keyedVerifier interface {
	verifyKeyed(ctx context.Context, raw string, key [32]byte) (*Token, error)
}

var _ keyedVerifier = (*Verifier)(nil)

// Principal is the signed-in user of a request: who, with which roles and
// profile segments, as decided by the backend.
type Principal struct {
	User     User
	Identity Identity // the identity used, with UserID set
	Token    *Token
	Roles    []string          // sorted: group-mapped roles ∪ roles granted by admins
	Segments map[string]string // claim-mapped segments, overridden by the stored profile
}

// Defaults of Options.
const (
	DefaultPrincipalTTL  = 30 * time.Second
	DefaultMaxPrincipals = 20_000
	DefaultSessionTTL    = 24 * time.Hour
)

// Options tune a Service. The zero value (and nil) is valid.
type Options struct {
	// GroupRoles maps a Cognito group to the roles its members get, e.g.
	// {"premium": {"subscriber"}}.
	GroupRoles map[string][]string
	// SegmentClaims maps a claim to a profile segment key, e.g.
	// {"custom:tier": "tier", "hd": "domain"}. String, boolean and number
	// claims are used; others are ignored.
	SegmentClaims map[string]string
	// PrincipalTTL is how long a resolved principal is reused for the same
	// token (default DefaultPrincipalTTL; negative: never). Each entry gets
	// between 80% and 100% of it, so that principals resolved together do
	// not all expire together. Role, profile and disabled-state changes take
	// effect within this time: the first request after it is still answered
	// with the cached principal while a fresh one is resolved in the
	// background (one refresh per token), and later requests get the fresh
	// one; a principal unused for twice PrincipalTTL is resolved before
	// answering. So a user who keeps browsing never waits for the store. The
	// token is verified every time (by a Verifier, from its cache if it was
	// verified recently: expiry and signing key are checked again).
	PrincipalTTL time.Duration
	// MaxPrincipals bounds that cache (default DefaultMaxPrincipals).
	MaxPrincipals int
	// SessionTTL is how long a sign-in is remembered so that it is audited
	// once (default DefaultSessionTTL).
	SessionTTL time.Duration
	// RefusalAuditRate and RefusalAuditBurst limit the audit records of
	// refused sign-ins per second (defaults 10 and 100), so that a flood of
	// bad tokens cannot flood the audit log; refusals beyond it are logged.
	RefusalAuditRate  float64
	RefusalAuditBurst int
	// Audiences, if set, records each user's roles and segments when a
	// principal is resolved (once per PrincipalTTL per token) and they differ
	// from what this Service last recorded for the user; in the background,
	// a failure logged and retried at the next resolution. The memory of
	// what was recorded is bounded by MaxPrincipals users.
	Audiences AudienceRecorder
	// Realm is the WWW-Authenticate realm (default "vidlib").
	Realm  string
	Now    func() time.Time // default time.Now
	Logger *zap.Logger      // nil: no logging
}

// Service turns bearer tokens into principals: it verifies the token, maps
// the identity to an internal user (provisioning it on first sign-in), adds
// roles and segments, and audits each sign-in once.
type Service struct {
	verifier TokenVerifier
	users    UserStore
	auditor  Auditor
	opts     Options
	log      *zap.Logger

	refusals *rate.Limiter // of refused sign-ins audited

	audiences *audiences // nil without Options.Audiences

	mu         sync.Mutex
	principals map[[32]byte]cachedPrincipal
	sessions   map[string]time.Time // sign-ins already audited by this process
	closed     bool                 // Close was called: no more background refreshes
	refreshes  sync.WaitGroup       // background refreshes under way
}

type cachedPrincipal struct {
	p          *Principal
	expires    time.Time // fresh until then
	staleUntil time.Time // then answered while refreshing, until this
	refreshing bool      // a background refresh is under way
}

// New returns a Service. The verifier, the user store and the auditor are
// required.
func New(verifier TokenVerifier, users UserStore, auditor Auditor, opts *Options) (*Service, error) {
	if verifier == nil || users == nil || auditor == nil {
		return nil, fmt.Errorf("%w: New needs a verifier, a user store and an auditor", ErrInvalid)
	}
	s := &Service{verifier: verifier, users: users, auditor: auditor,
		principals: make(map[[32]byte]cachedPrincipal), sessions: make(map[string]time.Time)}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	o.GroupRoles = maps.Clone(o.GroupRoles)
	o.SegmentClaims = maps.Clone(o.SegmentClaims)
	if o.PrincipalTTL == 0 {
		o.PrincipalTTL = DefaultPrincipalTTL
	}
	if o.MaxPrincipals <= 0 {
		o.MaxPrincipals = DefaultMaxPrincipals
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Realm == "" {
		o.Realm = "vidlib"
	}
	if o.RefusalAuditRate <= 0 {
		o.RefusalAuditRate = 10
	}
	if o.RefusalAuditBurst <= 0 {
		o.RefusalAuditBurst = 100
	}
	s.refusals = rate.NewLimiter(rate.Limit(o.RefusalAuditRate), o.RefusalAuditBurst)
	if o.Now == nil {
		o.Now = time.Now
	}
	s.log = o.Logger
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.log = s.log.Named("auth")
	if o.Audiences != nil {
		s.audiences = newAudiences(o.Audiences, o.MaxPrincipals, s.log)
	}
	return s, nil
}

// Close stops the Service's background work: it starts no more principal
// refreshes or audience writes, and waits until those under way are done
// (the audiences queued before Close are written), or until ctx ends, then
// returns ctx's error. Call it after the servers that authenticate have
// stopped and before the user store closes (a server's stop hook), so that
// no background store call outlives the store. Authenticate keeps working
// after Close, without background refreshes: a stale principal answers until
// it expires and is then resolved before answering. Close may be called more
// than once.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.refreshes.Wait()
		s.audiences.close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: close: background work still running: %w", ctx.Err())
	}
}

// Authenticate verifies a raw bearer token and returns the principal. Errors:
// token errors (ErrInvalidToken and a reason), ErrKeysUnavailable,
// ErrUserDisabled, ErrUnavailable (store or auditor failed).
func (s *Service) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	// One hash of the token keys both caches: the verifier's (which re-checks
	// expiry and the signing key on every hit) and the principals.
	key := tokenKey(raw)
	var tok *Token
	var err error
	if kv, ok := s.verifier.(keyedVerifier); ok {
		tok, err = kv.verifyKeyed(ctx, raw, key)
	} else {
		tok, err = s.verifier.Verify(ctx, raw)
	}
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			s.auditRefusal(ctx, "anonymous", "token:"+hex.EncodeToString(key[:8]), map[string]string{"reason": err.Error()})
		}
		return nil, err
	}
	now := s.opts.Now()
	p, refresh := s.cached(key, now)
	if refresh {
		go func() {
			defer s.refreshes.Done() // added by cached
			s.refresh(context.WithoutCancel(ctx), key, tok)
		}()
	}
	if p != nil {
		return p, nil
	}
	return s.resolve(ctx, key, tok, now, true)
}

// auditRefusal records a refused sign-in, within the refusal rate. The
// answer does not depend on it: a failure is logged.
func (s *Service) auditRefusal(ctx context.Context, actor, object string, details map[string]string) {
	if actor == "" {
		actor, object = "anonymous", "user:"
	}
	if !s.refusals.Allow() {
		s.log.Warn("refused sign-in not audited: audit rate exceeded", zap.String("object", object))
		return
	}
	rec := AuditRecord{Action: ActionLoginRefused, Actor: actor, Object: object, Time: s.opts.Now().UTC(), Details: details}
	if err := s.auditor.Record(context.WithoutCancel(ctx), rec); err != nil {
		s.log.Error("refused sign-in not audited", zap.String("object", object), zap.Error(err))
	}
}

// refreshTimeout bounds a background refresh of a stale principal.
const refreshTimeout = 10 * time.Second

// refresh resolves a stale principal again in the background. A user who is
// gone or disabled loses the cached principal (the next request resolves and
// fails); a store error leaves it to the next request to retry.
func (s *Service) refresh(ctx context.Context, key [32]byte, tok *Token) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	now := s.opts.Now()
	if _, err := s.resolve(ctx, key, tok, now, false); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c, ok := s.principals[key]; ok {
			if errors.Is(err, ErrUserDisabled) || errors.Is(err, ErrNotFound) {
				delete(s.principals, key)
			} else {
				c.refreshing = false
				s.principals[key] = c
			}
		}
		s.log.Warn("principal refresh failed", zap.Error(err))
	}
}

// resolve maps a verified token to its principal through the store, audits
// a first sign-in, and caches the principal.
// A disabled user's sign-in is audited as refused when signIn is set (a
// request, not a background refresh).
func (s *Service) resolve(ctx context.Context, key [32]byte, tok *Token, now time.Time, signIn bool) (*Principal, error) {
	id := tok.Identity
	sessionKey := sessionKeyOf(tok)
	login := !s.seen(sessionKey, now)

	var (
		u       User
		err     error
		created bool
	)
	if !login {
		u, err = s.users.UserByIdentity(ctx, id.Issuer, id.Subject)
		if errors.Is(err, ErrNotFound) {
			login = true // remembered sign-in, but the user is gone: provision again
		} else if err != nil {
			return nil, fmt.Errorf("%w: user of %s|%s: %w", ErrUnavailable, id.Issuer, id.Subject, err)
		}
	}
	if login {
		u, created, err = s.users.ProvisionUser(ctx, id, User{Email: id.Email, DisplayName: displayName(tok)})
		if err != nil {
			return nil, fmt.Errorf("%w: provision %s|%s: %w", ErrUnavailable, id.Issuer, id.Subject, err)
		}
	}
	if !u.DisabledAt.IsZero() {
		if signIn {
			s.auditRefusal(ctx, u.ID, "user:"+u.ID, map[string]string{
				"reason": "user disabled", "issuer": id.Issuer, "subject": id.Subject, "provider": id.Provider})
		}
		return nil, fmt.Errorf("%w: user %s", ErrUserDisabled, u.ID)
	}
	granted, err := s.users.UserRoles(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: roles of user %s: %w", ErrUnavailable, u.ID, err)
	}
	id.UserID = u.ID
	p := &Principal{User: u, Identity: id, Token: tok, Roles: s.roles(tok.Groups, granted), Segments: s.segments(tok, u.Profile)}
	if login {
		rec := AuditRecord{
			Action: ActionLogin, Actor: u.ID, Object: "user:" + u.ID, Key: sessionKey, Time: now.UTC(),
			Details: map[string]string{
				"issuer": id.Issuer, "subject": id.Subject, "provider": id.Provider,
				"token_use": string(tok.Use), "client_id": tok.ClientID, "created": strconv.FormatBool(created),
			},
		}
		if err := s.auditor.Record(ctx, rec); err != nil {
			return nil, fmt.Errorf("%w: login audit of user %s: %w", ErrUnavailable, u.ID, err)
		}
		s.remember(sessionKey, now)
		s.log.Info("sign-in", zap.String("user_id", u.ID), zap.String("provider", id.Provider), zap.Bool("created", created))
	}
	s.store(key, p, now)
	s.audiences.note(p)
	return p, nil
}

// sessionKeyOf is the audit key of a sign-in: a hash of issuer, subject and
// the token's session, stable across instances and token refreshes.
func sessionKeyOf(t *Token) string {
	sum := sha256.Sum256([]byte(t.Identity.Issuer + "\x00" + t.Identity.Subject + "\x00" + t.Session))
	return "login:" + hex.EncodeToString(sum[:16])
}

func displayName(t *Token) string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Identity.Email != "":
		return t.Identity.Email
	}
	return ""
}

// roles is the sorted union of the roles the token's groups map to and the
// roles an admin granted.
func (s *Service) roles(groups, granted []string) []string {
	out := slices.Clone(granted)
	for _, g := range groups {
		out = append(out, s.opts.GroupRoles[g]...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(r string) bool { return r == "" })
}

// segments maps claims to segments, then lets the stored profile override.
func (s *Service) segments(t *Token, profile map[string]string) map[string]string {
	out := make(map[string]string, len(s.opts.SegmentClaims)+len(profile))
	var claims map[string]any
	if len(s.opts.SegmentClaims) > 0 {
		claims = t.Claims()
	}
	for claim, seg := range s.opts.SegmentClaims {
		var v string
		switch c := claims[claim].(type) {
		case string:
			v = c
		case bool:
			v = strconv.FormatBool(c)
		case interface{ String() string }: // json.Number
			v = c.String()
		}
		if v != "" && seg != "" {
			out[seg] = v
		}
	}
	for k, v := range profile {
		if k != "" && v != "" {
			out[k] = v
		}
	}
	return out
}

// cached returns the cached principal of a token, if any is fresh or still
// within its stale window; refresh is true when the caller must start the
// background refresh (only the first caller after the principal went stale,
// and never after Close), which is then counted in s.refreshes.
func (s *Service) cached(key [32]byte, now time.Time) (p *Principal, refresh bool) {
	if s.opts.PrincipalTTL < 0 {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.principals[key]
	switch {
	case !ok || !now.Before(c.staleUntil):
		return nil, false
	case now.Before(c.expires) || c.refreshing || s.closed:
		return c.p, false
	}
	c.refreshing = true
	s.principals[key] = c
	s.refreshes.Add(1)
	return c.p, true
}

func (s *Service) store(key [32]byte, p *Principal, now time.Time) {
	if s.opts.PrincipalTTL < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.principals) >= s.opts.MaxPrincipals {
		for k, c := range s.principals {
			if !now.Before(c.staleUntil) {
				delete(s.principals, k)
			}
		}
		if len(s.principals) >= s.opts.MaxPrincipals {
			clear(s.principals)
		}
	}
	ttl := s.opts.PrincipalTTL
	fresh := ttl - time.Duration(rand.Int64N(int64(ttl)/5+1)) // 80% to 100% of the TTL
	s.principals[key] = cachedPrincipal{p: p, expires: now.Add(fresh), staleUntil: now.Add(2 * ttl)}
}

func (s *Service) seen(session string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.sessions[session]
	return ok && now.Sub(at) < s.opts.SessionTTL
}

func (s *Service) remember(session string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= 4*s.opts.MaxPrincipals {
		for k, at := range s.sessions {
			if now.Sub(at) >= s.opts.SessionTTL {
				delete(s.sessions, k)
			}
		}
		if len(s.sessions) >= 4*s.opts.MaxPrincipals {
			clear(s.sessions) // worst case: a sign-in is audited twice (same Key)
		}
	}
	s.sessions[session] = now
}
