package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
)

// clock is a manual clock shared by the issuer and the verifier.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// RSA keys are slow to generate (especially under -race): the tests share a
// few, made once.
var (
	keysOnce   sync.Once
	sharedKeys []*rsa.PrivateKey // [0] ID tokens, [1] access tokens, [2] rotation, [3] a stranger's
)

func testKeys(t testing.TB) []*rsa.PrivateKey {
	keysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			sharedKeys = append(sharedKeys, k)
		}
	})
	return sharedKeys
}

func startIssuer(t testing.TB, clk *clock, opts *authtest.Options) *authtest.Issuer {
	t.Helper()
	o := authtest.Options{}
	if opts != nil {
		o = *opts
	}
	o.Now = clk.Now
	o.Keys = testKeys(t)[:2]
	is, err := authtest.Start(&o)
	require.NoError(t, err)
	t.Cleanup(is.Close)
	return is
}

func cognitoVerifier(t testing.TB, clk *clock, is *authtest.Issuer, opts *auth.VerifierOptions, uses ...auth.TokenUse) *auth.Verifier {
	t.Helper()
	o := auth.VerifierOptions{}
	if opts != nil {
		o = *opts
	}
	o.Now = clk.Now
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}, TokenUses: uses}}, &o)
	require.NoError(t, err)
	return v
}

// fakeUsers is a small in-memory UserStore (store/memstore is the real one).
// ProvisionUser holds the lock, so concurrent first sign-ins create one user.
type fakeUsers struct {
	mu         sync.Mutex
	users      map[string]*auth.User
	identities map[string]auth.Identity // issuer|subject
	roles      map[string][]string
	next       int
	calls      map[string]int
	fail       error
	hold       chan struct{} // when set, UserByIdentity waits for it to close
	entered    chan struct{} // and says it is waiting here first
}

// holdLookups makes UserByIdentity wait until the returned function is
// called; each call says on entered that it waits.
func (f *fakeUsers) holdLookups() (entered <-chan struct{}, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold, f.entered = make(chan struct{}), make(chan struct{}, 16)
	hold := f.hold
	return f.entered, func() { close(hold) }
}

func newFakeUsers() *fakeUsers {
	return &fakeUsers{users: map[string]*auth.User{}, identities: map[string]auth.Identity{},
		roles: map[string][]string{}, calls: map[string]int{}}
}

var _ auth.UserStore = (*fakeUsers)(nil)

func (f *fakeUsers) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeUsers) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func (f *fakeUsers) UserByIdentity(_ context.Context, issuer, subject string) (auth.User, error) {
	f.mu.Lock()
	hold, entered := f.hold, f.entered
	f.mu.Unlock()
	if hold != nil {
		entered <- struct{}{}
		<-hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["UserByIdentity"]++
	if f.fail != nil {
		return auth.User{}, f.fail
	}
	id, ok := f.identities[issuer+"|"+subject]
	if !ok {
		return auth.User{}, auth.ErrNotFound
	}
	return *f.users[id.UserID], nil
}

func (f *fakeUsers) ProvisionUser(_ context.Context, id auth.Identity, template auth.User) (auth.User, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ProvisionUser"]++
	if f.fail != nil {
		return auth.User{}, false, f.fail
	}
	key := id.Issuer + "|" + id.Subject
	if known, ok := f.identities[key]; ok {
		return *f.users[known.UserID], false, nil
	}
	f.next++
	u := template
	u.ID = fmt.Sprintf("user-%d", f.next)
	f.users[u.ID] = &u
	id.UserID = u.ID
	f.identities[key] = id
	return u, true, nil
}

func (f *fakeUsers) User(_ context.Context, userID string) (auth.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[userID]
	if !ok {
		return auth.User{}, auth.ErrNotFound
	}
	return *u, nil
}

func (f *fakeUsers) ListUsers(context.Context, string, int) ([]auth.User, error) {
	return nil, fmt.Errorf("not used")
}

func (f *fakeUsers) UpdateProfile(_ context.Context, userID string, profile map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[userID]
	if !ok {
		return auth.ErrNotFound
	}
	u.Profile = profile
	return nil
}

func (f *fakeUsers) disable(userID string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[userID].DisabledAt = at
}

func (f *fakeUsers) LinkIdentity(context.Context, string, auth.Identity) error {
	return fmt.Errorf("not used")
}

func (f *fakeUsers) Identities(context.Context, string) ([]auth.Identity, error) {
	return nil, fmt.Errorf("not used")
}

func (f *fakeUsers) PutRole(context.Context, auth.Role) error { return nil }

func (f *fakeUsers) Roles(context.Context) ([]auth.Role, error) { return nil, nil }

func (f *fakeUsers) GrantRole(_ context.Context, userID, role string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.roles[userID], role) {
		f.roles[userID] = append(f.roles[userID], role)
	}
	return nil
}

func (f *fakeUsers) RevokeRole(context.Context, string, string) error { return nil }

func (f *fakeUsers) UserRoles(_ context.Context, userID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["UserRoles"]++
	if f.fail != nil {
		return nil, f.fail
	}
	return slices.Sorted(slices.Values(f.roles[userID])), nil
}

type fakeAuditor struct {
	mu   sync.Mutex
	recs []auth.AuditRecord
	fail error
}

func (a *fakeAuditor) Record(_ context.Context, r auth.AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.recs = append(a.recs, r)
	return nil
}

func (a *fakeAuditor) records() []auth.AuditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.recs)
}

func (a *fakeAuditor) setFail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = err
}
