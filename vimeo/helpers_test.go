package vimeo_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	clk  *vimeotest.VirtualClock
	acct *vimeotest.Account
	root int64
	srv  *vimeotest.Server
	c    *vimeo.Client
}

// newEnv generates an account, serves it and returns a client on a virtual
// clock: every wait (rate limit, backoff, bans) costs no real time.
func newEnv(t *testing.T, gen *vimeotest.GenerateOptions, sopts *vimeotest.Options, copts *vimeo.Options) *env {
	t.Helper()
	clk := vimeotest.NewVirtualClock(epoch)
	g := vimeotest.GenerateOptions{}
	if gen != nil {
		g = *gen
	}
	g.Clock = clk
	acct, root, err := vimeotest.Generate(&g)
	require.NoError(t, err)
	so := vimeotest.Options{}
	if sopts != nil {
		so = *sopts
	}
	srv := vimeotest.Start(t, acct, &so)
	co := vimeo.Options{}
	if copts != nil {
		co = *copts
	}
	co.BaseURL, co.Clock = srv.URL(), clk
	if co.Seed == 0 {
		co.Seed = 1
	}
	c, err := vimeo.New(srv.Token(), &co)
	require.NoError(t, err)
	return &env{clk: clk, acct: acct, root: root, srv: srv, c: c}
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func (e *env) rootURI() string { return "/users/" + id(e.acct.UserID()) + "/projects/" + id(e.root) }

// requireMatchesSnapshot checks a walk result against the account's ground
// truth, field by field.
func requireMatchesSnapshot(t *testing.T, acct *vimeotest.Account, root int64, res *vimeo.WalkResult, msgAndArgs ...any) {
	t.Helper()
	snap, err := acct.Snapshot(root, "date", "asc")
	require.NoError(t, err)
	// The contents of folders the walk reports as failed are unknown to it.
	failed := map[string]bool{}
	for _, f := range res.Failures {
		failed[f.FolderID] = true
	}
	if len(failed) > 0 {
		under := func(id string) bool { return failed[id] }
		var fs []vimeotest.SnapshotFolder
		for _, f := range snap.Folders {
			if under(f.ParentID) {
				failed[f.ID] = true
				continue
			}
			fs = append(fs, f)
		}
		var vs []vimeotest.SnapshotVideo
		for _, v := range snap.Videos {
			if !under(v.FolderID) {
				vs = append(vs, v)
			}
		}
		snap.Folders, snap.Videos = fs, vs
	}
	type f struct {
		ID, Parent, Name string
		Pos              int
	}
	type v struct {
		ID, Folder, Name string
		Pos              int
		Privacy, Hash    string
		Duration         int
	}
	var wantF, gotF []f
	for _, x := range snap.Folders {
		wantF = append(wantF, f{x.ID, x.ParentID, x.Name, x.Position})
	}
	for _, x := range res.Folders {
		gotF = append(gotF, f{x.ID, x.ParentID, x.Name, x.Position})
	}
	var wantV, gotV []v
	for _, x := range snap.Videos {
		wantV = append(wantV, v{x.ID, x.FolderID, x.Name, x.Position, x.Privacy, x.Hash, x.Duration})
	}
	for _, x := range res.Videos {
		gotV = append(gotV, v{x.ID, x.FolderID, x.Name, x.Position, x.PrivacyView, x.Hash, x.Duration})
	}
	require.Equal(t, wantF, gotF, msgAndArgs...)
	require.Equal(t, wantV, gotV, msgAndArgs...)
}
