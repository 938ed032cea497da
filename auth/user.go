package auth

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of the user store; stores translate driver errors into these.
var (
	ErrNotFound  = errors.New("auth: not found")
	ErrDuplicate = errors.New("auth: duplicate")
	ErrInvalid   = errors.New("auth: invalid")
)

// User is an internal user: the person behind one or more external identities.
type User struct {
	ID          string // UUID assigned by the store
	Email       string
	DisplayName string
	// Profile holds the user's stored profile segments (key → value), e.g.
	// {"tier": "gold", "region": "emea"}; entitlement rules can name them.
	Profile    map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DisabledAt time.Time // zero unless an admin disabled the user
}

// Identity is an external sign-in identity (Cognito, Google or Apple), keyed by
// issuer and subject.
type Identity struct {
	Issuer        string
	Subject       string
	Provider      string // "Google", "SignInWithApple", "Cognito", …
	Email         string
	EmailVerified bool
	UserID        string // the internal user it maps to (set by the store)
	CreatedAt     time.Time
	LastLoginAt   time.Time
}

// Role is an entry of the role catalogue.
type Role struct {
	Name        string // lower-case: letters, digits, '_', '.', '-'; at most 63
	Description string
	CreatedAt   time.Time
}

// UserStore keeps users, their identities and their roles.
type UserStore interface {
	// UserByIdentity returns the user an identity maps to (ErrNotFound).
	UserByIdentity(ctx context.Context, issuer, subject string) (User, error)
	// ProvisionUser returns the user the identity maps to, creating the user and
	// linking the identity in one transaction on first sign-in. It is race-safe:
	// concurrent first sign-ins of one identity create one user. created says
	// whether this call created it. It records the identity's last login.
	ProvisionUser(ctx context.Context, id Identity, template User) (u User, created bool, err error)
	// User returns a user by internal id (ErrNotFound).
	User(ctx context.Context, userID string) (User, error)
	// ListUsers returns users ordered by id; after pages past that id.
	ListUsers(ctx context.Context, after string, limit int) ([]User, error)
	// UpdateProfile replaces the stored profile segments of a user.
	UpdateProfile(ctx context.Context, userID string, profile map[string]string) error
	// LinkIdentity links another identity to an existing user (ErrDuplicate if
	// it is linked already).
	LinkIdentity(ctx context.Context, userID string, id Identity) error
	// Identities returns the identities linked to a user.
	Identities(ctx context.Context, userID string) ([]Identity, error)

	// PutRole creates a role or updates its description.
	PutRole(ctx context.Context, r Role) error
	// Roles returns the catalogue ordered by name.
	Roles(ctx context.Context) ([]Role, error)
	// GrantRole gives a user a role (idempotent; ErrNotFound for an unknown user
	// or role).
	GrantRole(ctx context.Context, userID, role string) error
	// RevokeRole takes a role away (idempotent).
	RevokeRole(ctx context.Context, userID, role string) error
	// UserRoles returns the roles assigned to a user, sorted.
	UserRoles(ctx context.Context, userID string) ([]string, error)
}
