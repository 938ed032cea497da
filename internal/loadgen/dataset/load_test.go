package dataset

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var _ BulkStore = (*pgstore.Store)(nil)

// Load into PostgreSQL takes the bulk path and stores what the ordinary
// path stores in memory: the same tree, users (roles, profiles) and rules
// (user subjects resolved to each store's own ids).
func TestLoadBulkMatchesOrdinaryLoad(t *testing.T) {
	ctx := context.Background()
	d, err := Generate(small(9))
	require.NoError(t, err)
	pg, err := pgstore.Open(ctx, testenv.PostgresURL(t), nil)
	require.NoError(t, err)
	t.Cleanup(pg.Close)
	_, err = pg.Migrate(ctx)
	require.NoError(t, err)
	mem := memstore.New()
	const issuer = "https://issuer.example/pool"
	bulk, err := d.Load(ctx, pg, pg, pg, issuer)
	require.NoError(t, err)
	rows, err := d.Load(ctx, mem, mem, mem, issuer)
	require.NoError(t, err)

	a, err := pg.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	b, err := mem.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, b.Placements(), a.Placements())
	require.Equal(t, b.FolderIDs(), a.FolderIDs())
	for _, id := range b.VideoIDs() {
		va, vb := *a.Video(id), *b.Video(id)
		va.ID, vb.ID, va.UpdatedAt = 0, 0, vb.UpdatedAt
		va.CreatedAt, va.ModifiedAt = va.CreatedAt.UTC(), va.ModifiedAt.UTC()
		vb.CreatedAt, vb.ModifiedAt = vb.CreatedAt.UTC(), vb.ModifiedAt.UTC()
		require.Equal(t, vb, va)
	}

	toSubject := func(ids []string) map[string]string {
		m := map[string]string{}
		for i, id := range ids {
			m[id] = d.Users[i].Subject
		}
		return m
	}
	for _, l := range []struct {
		loaded *Loaded
		store  interface {
			ListRules(context.Context) ([]entitle.Rule, int64, error)
		}
	}{{bulk, pg}, {rows, mem}} {
		stored, v, err := l.store.ListRules(ctx)
		require.NoError(t, err)
		require.Equal(t, l.loaded.EntitlementVersion, v)
		require.Len(t, stored, len(d.Rules))
		subj := toSubject(l.loaded.UserIDs)
		for i, r := range stored {
			require.Equal(t, l.loaded.Rules[i].ID, r.ID)
			if r.Subject.Kind == entitle.User {
				r.Subject.Name = subj[r.Subject.Name]
			}
			require.Equal(t, d.Rules[i].Subject, r.Subject)
			require.Equal(t, d.Rules[i].Target, r.Target)
			require.Equal(t, d.Rules[i].Effect, r.Effect)
		}
	}
	for i, u := range d.Users {
		got, err := pg.UserByIdentity(ctx, issuer, u.Subject)
		require.NoError(t, err)
		require.Equal(t, bulk.UserIDs[i], got.ID)
		require.Equal(t, u.Segments, got.Profile)
		require.Equal(t, u.Email, got.Email)
		roles, err := pg.UserRoles(ctx, got.ID)
		require.NoError(t, err)
		require.Equal(t, u.Roles, roles)
	}
}
