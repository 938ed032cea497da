package pgstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/auth"
)

var _ auth.UserStore = (*Store)(nil)

var authErrs = domainErrs{notFound: auth.ErrNotFound, duplicate: auth.ErrDuplicate, invalid: auth.ErrInvalid}

var roleName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

const userCols = `id::text, email, display_name, profile, created_at, updated_at, disabled_at`

func scanUser(row pgx.Row) (auth.User, error) {
	var u auth.User
	var disabled *time.Time
	err := row.Scan(&u.ID, &u.Email, &u.DisplayName, &u.Profile, &u.CreatedAt, &u.UpdatedAt, &disabled)
	u.DisabledAt = deref(disabled)
	if u.Profile == nil {
		u.Profile = map[string]string{}
	}
	return u, err
}

// validUUID rejects ids that are not UUIDs before they reach the database, so a
// malformed id is "not found", not a driver error.
var validUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func checkUserID(id string) error {
	if !validUUID.MatchString(id) {
		return fmt.Errorf("%w: user %q", auth.ErrNotFound, id)
	}
	return nil
}

// UserByIdentity implements auth.UserStore.
func (s *Store) UserByIdentity(ctx context.Context, issuer, subject string) (auth.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColsU+` FROM users u
		JOIN user_identities i ON i.user_id = u.id WHERE i.issuer = $1 AND i.subject = $2`, issuer, subject))
	if err != nil {
		return auth.User{}, fmt.Errorf("pgstore: user by identity %s/%s: %w", issuer, subject, translate(err, authErrs))
	}
	return u, nil
}

// userColsU is userCols qualified with the alias u, for joins.
var userColsU = regexp.MustCompile(`(^|, )([a-z_]+)`).ReplaceAllString(userCols, "${1}u.${2}")

func validateIdentity(id auth.Identity) error {
	if id.Issuer == "" || id.Subject == "" {
		return fmt.Errorf("%w: identity needs an issuer and a subject", auth.ErrInvalid)
	}
	return nil
}

// ProvisionUser implements auth.UserStore. The identity insert is the arbiter:
// of two concurrent first sign-ins one inserts the identity (and its user), the
// other's insert conflicts and it reads the winner's user.
func (s *Store) ProvisionUser(ctx context.Context, id auth.Identity, tmpl auth.User) (auth.User, bool, error) {
	if err := validateIdentity(id); err != nil {
		return auth.User{}, false, err
	}
	profile := tmpl.Profile
	if profile == nil {
		profile = map[string]string{}
	}
	var u auth.User
	var created bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Access tokens carry no email: an empty one keeps what is stored.
		tag, err := tx.Exec(ctx, `UPDATE user_identities SET last_login_at = now(),
				email = CASE WHEN $3 <> '' THEN $3 ELSE email END,
				email_verified = CASE WHEN $3 <> '' THEN $4 ELSE email_verified END
			WHERE issuer = $1 AND subject = $2`, id.Issuer, id.Subject, id.Email, id.EmailVerified)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var userID string
			if err := tx.QueryRow(ctx, `SELECT gen_random_uuid()::text`).Scan(&userID); err != nil {
				return err
			}
			// Insert the user, then claim the identity for it. The identity's
			// primary key is the arbiter: if another sign-in claimed it first, this
			// transaction rolls back, user row included (errLostRace below).
			if _, err := tx.Exec(ctx, `INSERT INTO users (id, email, display_name, profile) VALUES ($1, $2, $3, $4)`,
				userID, tmpl.Email, tmpl.DisplayName, profile); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO user_identities (issuer, subject, user_id, provider, email, email_verified, last_login_at)
				VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT (issuer, subject) DO NOTHING`,
				id.Issuer, id.Subject, userID, id.Provider, id.Email, id.EmailVerified)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return errLostRace
			}
			created = true
		}
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColsU+` FROM users u
			JOIN user_identities i ON i.user_id = u.id WHERE i.issuer = $1 AND i.subject = $2`, id.Issuer, id.Subject))
		return err
	})
	if errors.Is(err, errLostRace) {
		// Another sign-in created the user first; our transaction (and its
		// user row) rolled back. Read theirs.
		u, err = s.UserByIdentity(ctx, id.Issuer, id.Subject)
		return u, false, err
	}
	if err != nil {
		return auth.User{}, false, fmt.Errorf("pgstore: provision user: %w", translate(err, authErrs))
	}
	return u, created, nil
}

var errLostRace = errors.New("identity claimed concurrently")

// User implements auth.UserStore.
func (s *Store) User(ctx context.Context, userID string) (auth.User, error) {
	if err := checkUserID(userID); err != nil {
		return auth.User{}, err
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, userID))
	if err != nil {
		return auth.User{}, fmt.Errorf("pgstore: user %s: %w", userID, translate(err, authErrs))
	}
	return u, nil
}

// ListUsers implements auth.UserStore.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]auth.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	if after != "" && !validUUID.MatchString(after) {
		return nil, fmt.Errorf("%w: cursor %q is not a user id", auth.ErrInvalid, after)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE $1 = '' OR id > $1::uuid ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: list users: %w", err)
	}
	return users, nil
}

// UpdateProfile implements auth.UserStore.
func (s *Store) UpdateProfile(ctx context.Context, userID string, profile map[string]string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	if profile == nil {
		profile = map[string]string{}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET profile = $2, updated_at = now() WHERE id = $1`, userID, profile)
	if err != nil {
		return fmt.Errorf("pgstore: update profile: %w", translate(err, authErrs))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: user %s", auth.ErrNotFound, userID)
	}
	return nil
}

// LinkIdentity implements auth.UserStore.
func (s *Store) LinkIdentity(ctx context.Context, userID string, id auth.Identity) error {
	if err := validateIdentity(id); err != nil {
		return err
	}
	if err := checkUserID(userID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO user_identities (issuer, subject, user_id, provider, email, email_verified)
		VALUES ($1, $2, $3, $4, $5, $6)`, id.Issuer, id.Subject, userID, id.Provider, id.Email, id.EmailVerified)
	if err != nil {
		return fmt.Errorf("pgstore: link identity: %w", translate(err, authErrs))
	}
	return nil
}

// Identities implements auth.UserStore.
func (s *Store) Identities(ctx context.Context, userID string) ([]auth.Identity, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT issuer, subject, provider, email, email_verified, user_id::text, created_at, last_login_at
		FROM user_identities WHERE user_id = $1 ORDER BY created_at, issuer, subject`, userID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: identities: %w", err)
	}
	ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Identity, error) {
		var i auth.Identity
		var last *time.Time
		err := r.Scan(&i.Issuer, &i.Subject, &i.Provider, &i.Email, &i.EmailVerified, &i.UserID, &i.CreatedAt, &last)
		i.LastLoginAt = deref(last)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: identities: %w", err)
	}
	return ids, nil
}

// PutRole implements auth.UserStore.
func (s *Store) PutRole(ctx context.Context, r auth.Role) error {
	if !roleName.MatchString(r.Name) {
		return fmt.Errorf("%w: role name %q: lower-case letters, digits, '_', '.', '-', at most 63", auth.ErrInvalid, r.Name)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO roles (name, description) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET description = excluded.description`, r.Name, r.Description)
	if err != nil {
		return fmt.Errorf("pgstore: put role: %w", translate(err, authErrs))
	}
	return nil
}

// Roles implements auth.UserStore.
func (s *Store) Roles(ctx context.Context) ([]auth.Role, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, description, created_at FROM roles ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: roles: %w", err)
	}
	roles, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Role, error) {
		var role auth.Role
		return role, r.Scan(&role.Name, &role.Description, &role.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: roles: %w", err)
	}
	return roles, nil
}

// GrantRole implements auth.UserStore.
func (s *Store) GrantRole(ctx context.Context, userID, role string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING`, userID, role)
	if err != nil {
		return fmt.Errorf("pgstore: grant role %q: %w", role, translate(err, authErrs))
	}
	return nil
}

// RevokeRole implements auth.UserStore.
func (s *Store) RevokeRole(ctx context.Context, userID, role string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1 AND role = $2`, userID, role); err != nil {
		return fmt.Errorf("pgstore: revoke role: %w", translate(err, authErrs))
	}
	return nil
}

// UserRoles implements auth.UserStore.
func (s *Store) UserRoles(ctx context.Context, userID string) ([]string, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role`, userID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: user roles: %w", err)
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: user roles: %w", err)
	}
	return roles, nil
}
