package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// The bulk path writes what the row-by-row path (Update, ProvisionUser,
// GrantRole, AddRule) writes: the same snapshot, users and rules, read back
// through the ordinary reads. Soft-deleted and hidden records, tags and
// pictures go through too.
func TestBulkLoadMatchesUpdate(t *testing.T) {
	ctx := context.Background()
	folders, videos, ps := genTree(40, 300, 4)
	when := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	deleted := map[string]bool{folders[5].VimeoID: true} // a subtree, as DeleteFolder deletes it
	for i := range folders {
		if deleted[folders[i].VimeoID] || deleted[folders[i].ParentVimeoID] {
			deleted[folders[i].VimeoID] = true
			folders[i].DeletedAt = when
		}
	}
	videos[3].Hidden = true
	videos[4].DeletedAt = when
	videos[6].Tags = []string{"b", "a"}
	videos[6].Pictures = []tree.Picture{{Width: 640, Height: 360, URL: "https://i.vimeocdn.com/x.jpg"}}

	bulk, rows := open(t), open(t)
	v, err := bulk.BulkLoadTree(ctx, folders, videos, ps)
	require.NoError(t, err)
	require.Equal(t, int64(1), v, "one content version bump")
	_, err = rows.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, folders); err != nil {
			return err
		}
		if err := tx.UpsertVideos(ctx, videos); err != nil {
			return err
		}
		if err := tx.PlaceVideos(ctx, ps); err != nil {
			return err
		}
		if err := tx.DeleteFolder(ctx, folders[5].VimeoID); err != nil {
			return err
		}
		if err := tx.SetVideoHidden(ctx, videos[3].VimeoID, true); err != nil {
			return err
		}
		return tx.DeleteVideos(ctx, []string{videos[4].VimeoID})
	})
	require.NoError(t, err)
	for _, opts := range []tree.LoadOptions{{}, {IncludeDeleted: true}} {
		a, err := bulk.LoadSnapshot(ctx, opts)
		require.NoError(t, err)
		b, err := rows.LoadSnapshot(ctx, opts)
		require.NoError(t, err)
		require.Equal(t, normFolders(b.Folders()), normFolders(a.Folders()))
		require.Equal(t, normVideos(b.Videos()), normVideos(a.Videos()))
		require.Equal(t, b.Placements(), a.Placements())
	}
	snap, err := bulk.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
	require.NoError(t, err)
	require.Len(t, snap.Videos(), 300)
	require.Equal(t, []string{"b", "a"}, snap.Video(videos[6].VimeoID).Tags)
	require.Equal(t, videos[6].Pictures, snap.Video(videos[6].VimeoID).Pictures)

	// The change feed: a reader from before the bulk load reloads; one at
	// its version follows later changes.
	_, err = bulk.ContentChangesSince(ctx, 0)
	require.ErrorIs(t, err, tree.ErrFeedGap)
	ch, err := bulk.ContentChangesSince(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, int64(1), ch.To)
	require.Empty(t, ch.Videos)

	// A second bulk load is refused, and changes nothing.
	_, err = bulk.BulkLoadTree(ctx, folders[:1], nil, nil)
	require.ErrorIs(t, err, pgstore.ErrNotEmpty)
	cv, err := bulk.ContentVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), cv)

	// Users and rules.
	for _, s := range []*pgstore.Store{bulk, rows} {
		for _, r := range []string{"staff", "gold"} {
			require.NoError(t, s.PutRole(ctx, auth.Role{Name: r}))
		}
	}
	const iss = "https://issuer.example/pool"
	ids := []auth.Identity{
		{Issuer: iss, Subject: "alice", Provider: auth.ProviderCognito, Email: "a@x.example", EmailVerified: true},
		{Issuer: iss, Subject: "bob", Provider: auth.ProviderCognito, Email: "b@x.example"},
	}
	users := []auth.User{{Email: "a@x.example", DisplayName: "Alice", Profile: map[string]string{"tier": "gold"}}, {Email: "b@x.example"}}
	roles := [][]string{{"gold", "staff"}, nil}
	got, err := bulk.BulkProvisionUsers(ctx, ids, users, roles)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i, id := range ids {
		want, _, err := rows.ProvisionUser(ctx, id, users[i])
		require.NoError(t, err)
		for _, r := range roles[i] {
			require.NoError(t, rows.GrantRole(ctx, want.ID, r))
		}
		have, err := bulk.UserByIdentity(ctx, id.Issuer, id.Subject)
		require.NoError(t, err)
		require.Equal(t, got[i], have.ID)
		require.Equal(t, want.Email, have.Email)
		require.Equal(t, want.DisplayName, have.DisplayName)
		require.Equal(t, want.Profile, have.Profile)
		wr, err := rows.UserRoles(ctx, want.ID)
		require.NoError(t, err)
		hr, err := bulk.UserRoles(ctx, have.ID)
		require.NoError(t, err)
		require.Equal(t, wr, hr)
		wi, err := rows.Identities(ctx, want.ID)
		require.NoError(t, err)
		hi, err := bulk.Identities(ctx, have.ID)
		require.NoError(t, err)
		require.Equal(t, len(wi), len(hi))
		require.Equal(t, wi[0].Email, hi[0].Email)
		require.Equal(t, wi[0].EmailVerified, hi[0].EmailVerified)
		require.Equal(t, wi[0].Provider, hi[0].Provider)
	}
	_, err = bulk.BulkProvisionUsers(ctx, ids[:1], users[:1], roles[:1])
	require.ErrorIs(t, err, auth.ErrDuplicate, "a known identity fails the call")
	_, err = bulk.BulkProvisionUsers(ctx, ids, users[:1], roles)
	require.ErrorIs(t, err, auth.ErrInvalid)

	rules := []entitle.Rule{
		{Subject: entitle.Subject{Kind: entitle.Role, Name: "staff"}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: folders[1].VimeoID}, Effect: entitle.Allow, CreatedBy: "test"},
		{Subject: entitle.Subject{Kind: entitle.User, Name: got[0]}, Target: entitle.Target{Kind: entitle.VideoTarget, ID: videos[9].VimeoID}, Effect: entitle.Deny, Note: "n"},
		{Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: folders[2].VimeoID}, Effect: entitle.Allow},
	}
	stored, ev, err := bulk.BulkAddRules(ctx, rules)
	require.NoError(t, err)
	require.Equal(t, int64(1), ev, "one entitlement version bump")
	listed, lv, err := bulk.ListRules(ctx)
	require.NoError(t, err)
	require.Equal(t, ev, lv)
	require.Len(t, listed, 3)
	for i := range rules {
		require.Positive(t, stored[i].ID)
		require.Equal(t, stored[i].ID, listed[i].ID, "ids in the given order")
		require.Equal(t, rules[i].Subject, listed[i].Subject)
		require.Equal(t, rules[i].Target, listed[i].Target)
		require.Equal(t, rules[i].Effect, listed[i].Effect)
		require.Equal(t, rules[i].Note, listed[i].Note)
		require.Equal(t, rules[i].CreatedBy, listed[i].CreatedBy)
		require.WithinDuration(t, stored[i].CreatedAt, listed[i].CreatedAt, time.Millisecond)
	}
	// A duplicate fails the whole call; the rules and version stay.
	_, _, err = bulk.BulkAddRules(ctx, []entitle.Rule{{Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.VideoTarget, ID: "7"}, Effect: entitle.Allow}, rules[0]})
	require.ErrorIs(t, err, entitle.ErrDuplicate)
	after, av, err := bulk.ListRules(ctx)
	require.NoError(t, err)
	require.Equal(t, ev, av)
	require.Len(t, after, 3)
	// The row path still works after the bulk path (the sequences moved on).
	_, _, err = bulk.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.VideoTarget, ID: "7"}, Effect: entitle.Allow})
	require.NoError(t, err)
	_, err = bulk.Update(ctx, func(tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: "new", ParentVimeoID: folders[0].VimeoID, Name: "new"}})
	})
	require.NoError(t, err)
	ch, err = bulk.ContentChangesSince(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"new"}, ch.Folders)
}

// Bad input is refused before anything is written.
func TestBulkLoadTreeRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	folders, videos, ps := genTree(10, 20, 3)
	orphan := append([]tree.Folder{{VimeoID: "x", ParentVimeoID: "missing", Name: "x"}}, folders...)
	for name, call := range map[string]func() error{
		"orphan": func() error { _, err := s.BulkLoadTree(ctx, orphan, videos, ps); return err },
		"child first": func() error {
			_, err := s.BulkLoadTree(ctx, []tree.Folder{folders[1], folders[0]}, nil, nil)
			return err
		},
		"unknown video": func() error { _, err := s.BulkLoadTree(ctx, folders, videos[1:], ps); return err },
		"placed twice":  func() error { _, err := s.BulkLoadTree(ctx, folders, videos, append(ps, ps[0])); return err },
		"live under deleted": func() error {
			fs := append([]tree.Folder(nil), folders...)
			fs[1].DeletedAt = time.Now()
			_, err := s.BulkLoadTree(ctx, fs, nil, nil)
			return err
		},
		"video twice": func() error { _, err := s.BulkLoadTree(ctx, folders, append(videos, videos[0]), ps); return err },
	} {
		require.Error(t, call(), name)
	}
	snap, err := s.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
	require.NoError(t, err)
	nf, nv := snap.Len()
	require.Zero(t, nf+nv)
	v, err := s.ContentVersion(ctx)
	require.NoError(t, err)
	require.Zero(t, v)
}

// normFolders and normVideos clear what the two paths legitimately differ in:
// internal ids and the store's own timestamps.
func normFolders(fs []tree.Folder) []tree.Folder {
	out := make([]tree.Folder, len(fs))
	for i, f := range fs {
		f.ID = 0
		if !f.DeletedAt.IsZero() {
			f.DeletedAt = time.Unix(1, 0)
		}
		out[i] = f
	}
	return out
}

func normVideos(vs []tree.Video) []tree.Video {
	out := make([]tree.Video, len(vs))
	for i, v := range vs {
		v.ID, v.UpdatedAt = 0, time.Time{}
		if !v.DeletedAt.IsZero() {
			v.DeletedAt = time.Unix(1, 0)
		}
		out[i] = v
	}
	return out
}
