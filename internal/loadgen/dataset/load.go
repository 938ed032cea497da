package dataset

import (
	"context"
	"fmt"
	"sync"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// Loaded is what Load stored.
type Loaded struct {
	// UserIDs are the ids the user store assigned, aligned with Dataset.Users.
	UserIDs []string
	// Rules are the stored rules (with IDs; user subjects name user ids).
	Rules              []entitle.Rule
	ContentVersion     int64
	EntitlementVersion int64
}

// loadBatch is how many objects one Tx call writes.
const loadBatch = 5000

// loadWorkers is how many users are provisioned at once (a pgstore round
// trip each).
const loadWorkers = 8

// BulkStore fills empty stores in bulk (store/pgstore.Store, with COPY):
// Load uses it when the tree store implements it and the user and rule
// stores are the same value.
type BulkStore interface {
	BulkLoadTree(ctx context.Context, folders []tree.Folder, videos []tree.Video, placements []tree.Placement) (int64, error)
	BulkProvisionUsers(ctx context.Context, ids []auth.Identity, users []auth.User, roles [][]string) ([]string, error)
	BulkAddRules(ctx context.Context, rules []entitle.Rule) ([]entitle.Rule, int64, error)
}

// Load writes the data set into empty stores: the tree in one transaction,
// the role catalogue, every user (as an identity of issuer with its roles
// and profile segments, so that auth.Service maps the user's tokens to
// them), then the rules, whose user subjects it resolves to the assigned
// user ids. With a BulkStore the tree, the users and the rules are written
// in one bulk call each, otherwise through the stores' ordinary methods
// (tree.Tx upserts in batches of 5,000, a ProvisionUser and GrantRole per
// user, an AddRule per rule).
func (d *Dataset) Load(ctx context.Context, ts tree.Store, rs entitle.RuleStore, us auth.UserStore, issuer string) (*Loaded, error) {
	out := &Loaded{UserIDs: make([]string, len(d.Users))}
	bulk, ok := ts.(BulkStore)
	if ok && any(rs) == any(ts) && any(us) == any(ts) {
		return d.loadBulk(ctx, bulk, us, issuer)
	}
	var err error
	out.ContentVersion, err = ts.Update(ctx, func(tx tree.Tx) error {
		for i := 0; i < len(d.Folders); i += loadBatch {
			if err := tx.UpsertFolders(ctx, d.Folders[i:min(i+loadBatch, len(d.Folders))]); err != nil {
				return err
			}
		}
		for i := 0; i < len(d.Videos); i += loadBatch {
			if err := tx.UpsertVideos(ctx, d.Videos[i:min(i+loadBatch, len(d.Videos))]); err != nil {
				return err
			}
		}
		for i := 0; i < len(d.Placements); i += loadBatch {
			if err := tx.PlaceVideos(ctx, d.Placements[i:min(i+loadBatch, len(d.Placements))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dataset: load the tree: %w", err)
	}

	for _, role := range d.Roles {
		if err := us.PutRole(ctx, auth.Role{Name: role, Description: "benchmark role"}); err != nil {
			return nil, fmt.Errorf("dataset: role %s: %w", role, err)
		}
	}
	if err := d.loadUsers(ctx, us, issuer, out.UserIDs); err != nil {
		return nil, err
	}

	out.Rules = make([]entitle.Rule, 0, len(d.Rules))
	for _, r := range d.resolvedRules(out.UserIDs) {
		stored, v, err := rs.AddRule(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("dataset: rule %s %s %s: %w", r.Effect, r.Subject, r.Target, err)
		}
		out.Rules = append(out.Rules, stored)
		out.EntitlementVersion = v
	}
	return out, nil
}

func (d *Dataset) loadBulk(ctx context.Context, bulk BulkStore, us auth.UserStore, issuer string) (*Loaded, error) {
	out := &Loaded{}
	var err error
	if out.ContentVersion, err = bulk.BulkLoadTree(ctx, d.Folders, d.Videos, d.Placements); err != nil {
		return nil, fmt.Errorf("dataset: load the tree: %w", err)
	}
	for _, role := range d.Roles {
		if err := us.PutRole(ctx, auth.Role{Name: role, Description: "benchmark role"}); err != nil {
			return nil, fmt.Errorf("dataset: role %s: %w", role, err)
		}
	}
	ids := make([]auth.Identity, len(d.Users))
	users := make([]auth.User, len(d.Users))
	roles := make([][]string, len(d.Users))
	for i, u := range d.Users {
		ids[i] = auth.Identity{Issuer: issuer, Subject: u.Subject, Provider: auth.ProviderCognito, Email: u.Email, EmailVerified: true}
		users[i] = auth.User{Email: u.Email, DisplayName: u.Subject, Profile: u.Segments}
		roles[i] = u.Roles
	}
	if out.UserIDs, err = bulk.BulkProvisionUsers(ctx, ids, users, roles); err != nil {
		return nil, fmt.Errorf("dataset: users: %w", err)
	}
	if out.Rules, out.EntitlementVersion, err = bulk.BulkAddRules(ctx, d.resolvedRules(out.UserIDs)); err != nil {
		return nil, fmt.Errorf("dataset: rules: %w", err)
	}
	return out, nil
}

// resolvedRules are the rules with user subjects naming the stored ids.
func (d *Dataset) resolvedRules(userIDs []string) []entitle.Rule {
	bySubject := make(map[string]string, len(d.Users))
	for i, u := range d.Users {
		bySubject[u.Subject] = userIDs[i]
	}
	out := make([]entitle.Rule, len(d.Rules))
	for i, r := range d.Rules {
		if r.Subject.Kind == entitle.User {
			r.Subject.Name = bySubject[r.Subject.Name]
		}
		out[i] = r
	}
	return out
}

func (d *Dataset) loadUsers(ctx context.Context, us auth.UserStore, issuer string, ids []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan int)
	errc := make(chan error, loadWorkers)
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Go(func() {
			for i := range work {
				u := d.Users[i]
				id := auth.Identity{Issuer: issuer, Subject: u.Subject, Provider: auth.ProviderCognito, Email: u.Email, EmailVerified: true}
				stored, _, err := us.ProvisionUser(ctx, id, auth.User{Email: u.Email, DisplayName: u.Subject, Profile: u.Segments})
				if err == nil {
					for _, role := range u.Roles {
						if err = us.GrantRole(ctx, stored.ID, role); err != nil {
							break
						}
					}
				}
				if err != nil {
					errc <- fmt.Errorf("dataset: user %s: %w", u.Subject, err)
					cancel()
					return
				}
				ids[i] = stored.ID
			}
		})
	}
feed:
	for i := range d.Users {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	return ctx.Err()
}
