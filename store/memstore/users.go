package memstore

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/vidlib/vidlib/auth"
)

var _ auth.UserStore = (*Store)(nil)

var roleName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

type usersState struct {
	users      map[string]auth.User
	identities map[[2]string]auth.Identity // (issuer, subject)
	roles      map[string]auth.Role
	userRoles  map[string]map[string]bool
}

func (u *usersState) init() {
	u.users = map[string]auth.User{}
	u.identities = map[[2]string]auth.Identity{}
	u.roles = map[string]auth.Role{}
	u.userRoles = map[string]map[string]bool{}
}

func copyUser(u auth.User) auth.User {
	u.Profile = maps.Clone(u.Profile)
	if u.Profile == nil {
		u.Profile = map[string]string{}
	}
	return u
}

func validateIdentity(id auth.Identity) error {
	if id.Issuer == "" || id.Subject == "" {
		return fmt.Errorf("%w: identity needs an issuer and a subject", auth.ErrInvalid)
	}
	return nil
}

// UserByIdentity implements auth.UserStore.
func (s *Store) UserByIdentity(_ context.Context, issuer, subject string) (auth.User, error) {
	s.usersMu.RLock()
	defer s.usersMu.RUnlock()
	id, ok := s.users.identities[[2]string{issuer, subject}]
	if !ok {
		return auth.User{}, fmt.Errorf("memstore: user by identity %s/%s: %w", issuer, subject, auth.ErrNotFound)
	}
	return copyUser(s.users.users[id.UserID]), nil
}

// ProvisionUser implements auth.UserStore.
func (s *Store) ProvisionUser(_ context.Context, id auth.Identity, tmpl auth.User) (auth.User, bool, error) {
	if err := validateIdentity(id); err != nil {
		return auth.User{}, false, err
	}
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	now := norm(time.Now())
	key := [2]string{id.Issuer, id.Subject}
	if cur, ok := s.users.identities[key]; ok {
		cur.LastLoginAt = now
		if id.Email != "" { // access tokens carry no email: keep what is stored
			cur.Email, cur.EmailVerified = id.Email, id.EmailVerified
		}
		s.users.identities[key] = cur
		return copyUser(s.users.users[cur.UserID]), false, nil
	}
	u := copyUser(tmpl)
	u.ID, u.CreatedAt, u.UpdatedAt, u.DisabledAt = uuid.NewString(), now, now, time.Time{}
	s.users.users[u.ID] = u
	id.UserID, id.CreatedAt, id.LastLoginAt = u.ID, now, now
	s.users.identities[key] = id
	return copyUser(u), true, nil
}

// User implements auth.UserStore.
func (s *Store) User(_ context.Context, userID string) (auth.User, error) {
	s.usersMu.RLock()
	defer s.usersMu.RUnlock()
	u, ok := s.users.users[strings.ToLower(userID)]
	if !ok {
		return auth.User{}, fmt.Errorf("memstore: user %s: %w", userID, auth.ErrNotFound)
	}
	return copyUser(u), nil
}

// ListUsers implements auth.UserStore.
func (s *Store) ListUsers(_ context.Context, after string, limit int) ([]auth.User, error) {
	if after != "" {
		if _, err := uuid.Parse(after); err != nil {
			return nil, fmt.Errorf("%w: cursor %q is not a user id", auth.ErrInvalid, after)
		}
	}
	s.usersMu.RLock()
	defer s.usersMu.RUnlock()
	ids := slices.Sorted(maps.Keys(s.users.users))
	var out []auth.User
	for _, id := range ids {
		if len(out) >= limit {
			break
		}
		if after == "" || id > strings.ToLower(after) {
			out = append(out, copyUser(s.users.users[id]))
		}
	}
	return out, nil
}

// UpdateProfile implements auth.UserStore.
func (s *Store) UpdateProfile(_ context.Context, userID string, profile map[string]string) error {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, ok := s.users.users[strings.ToLower(userID)]
	if !ok {
		return fmt.Errorf("%w: user %s", auth.ErrNotFound, userID)
	}
	u.Profile = maps.Clone(profile)
	u.UpdatedAt = norm(time.Now())
	s.users.users[u.ID] = copyUser(u)
	return nil
}

// LinkIdentity implements auth.UserStore.
func (s *Store) LinkIdentity(_ context.Context, userID string, id auth.Identity) error {
	if err := validateIdentity(id); err != nil {
		return err
	}
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	if _, ok := s.users.users[strings.ToLower(userID)]; !ok {
		return fmt.Errorf("%w: user %s", auth.ErrNotFound, userID)
	}
	key := [2]string{id.Issuer, id.Subject}
	if _, dup := s.users.identities[key]; dup {
		return fmt.Errorf("%w: identity %s/%s is linked already", auth.ErrDuplicate, id.Issuer, id.Subject)
	}
	id.UserID, id.CreatedAt, id.LastLoginAt = strings.ToLower(userID), norm(time.Now()), time.Time{}
	s.users.identities[key] = id
	return nil
}

// Identities implements auth.UserStore.
func (s *Store) Identities(_ context.Context, userID string) ([]auth.Identity, error) {
	s.usersMu.RLock()
	defer s.usersMu.RUnlock()
	var out []auth.Identity
	for _, id := range s.users.identities {
		if id.UserID == strings.ToLower(userID) {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b auth.Identity) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Issuer+"\x00"+a.Subject, b.Issuer+"\x00"+b.Subject)
	})
	return out, nil
}

// PutRole implements auth.UserStore.
func (s *Store) PutRole(_ context.Context, r auth.Role) error {
	if !roleName.MatchString(r.Name) {
		return fmt.Errorf("%w: role name %q: lower-case letters, digits, '_', '.', '-', at most 63", auth.ErrInvalid, r.Name)
	}
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	if cur, ok := s.users.roles[r.Name]; ok {
		cur.Description = r.Description
		s.users.roles[r.Name] = cur
		return nil
	}
	r.CreatedAt = norm(time.Now())
	s.users.roles[r.Name] = r
	return nil
}

// Roles implements auth.UserStore.
func (s *Store) Roles(_ context.Context) ([]auth.Role, error) {
	s.usersMu.RLock()
	defer s.usersMu.RUnlock()
	out := slices.Collect(maps.Values(s.users.roles))
	slices.SortFunc(out, func(a, b auth.Role) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// GrantRole implements auth.UserStore.
func (s *Store) GrantRole(_ context.Context, userID, role string) error {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	userID = strings.ToLower(userID)
	if _, ok := s.users.users[userID]; !ok {
		return fmt.Errorf("%w: user %s", auth.ErrNotFound, userID)
	}
	if _, ok := s.users.roles[role]; !ok {
		return fmt.Errorf("%w: role %q", auth.ErrNotFound, role)
	}
	if s.users.userRoles[userID] == nil {
		s.users.userRoles[userID] = map[string]bool{}
	}
	s.users.userRoles[userID][role] = true
	return nil
}

// RevokeRole implements auth.UserStore.
func (s *Store) RevokeRole(_ context.Context, userID, role string) error {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	delete(s.users.userRoles[strings.ToLower(userID)], role)
	return nil
}

// UserRoles implements auth.UserStore.
func (s *Store) UserRoles(_ context.Context, userID string) ([]string, error) {
	s.usersMu.RLock()
	defer s.usersMu.RUnlock()
	out := slices.Sorted(maps.Keys(s.users.userRoles[strings.ToLower(userID)]))
	if out == nil {
		out = []string{}
	}
	return out, nil
}
