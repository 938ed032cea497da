package vimeo_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func TestWalkMatchesGeneratedTrees(t *testing.T) {
	tests := []struct {
		name string
		gen  vimeotest.GenerateOptions
	}{
		{"small", vimeotest.GenerateOptions{Seed: 1, Folders: 12, Videos: 60}},
		{"deep to the limit", vimeotest.GenerateOptions{Seed: 2, Folders: 25, Videos: 80, MaxDepth: 10}},
		{"wide folders", vimeotest.GenerateOptions{Seed: 3, Folders: 10, Videos: 700, WideFolders: 3}},
		{"unicode and duplicate names", vimeotest.GenerateOptions{Seed: 4, Folders: 30, Videos: 100, UnicodeRate: 0.9, DuplicateNameRate: 0.9}},
		{"unlisted, private, transcoding", vimeotest.GenerateOptions{Seed: 5, Folders: 8, Videos: 90, UnlistedRate: 0.4,
			PrivateRate: 0.3, TranscodingRate: 0.2, TranscodeErrorRate: 0.1}},
		{"empty root", vimeotest.GenerateOptions{Seed: 6, Folders: 1, Videos: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &tt.gen, nil, nil)
			res, err := e.c.Walk(t.Context(), e.rootURI(), nil)
			require.NoError(t, err)
			require.True(t, res.Complete, "%v", res.Failures)
			require.True(t, res.Consistent, "%v", res.Problems)
			require.True(t, res.CrossChecked, "%v", res.Notes)
			require.True(t, res.Trustworthy())
			requireMatchesSnapshot(t, e.acct, e.root, res)
			require.Equal(t, "", res.Folders[0].ParentID, "the root comes first, without parent")
			require.Equal(t, id(e.root), res.RootID)

			// Calls: the minimum, plus the flat folder list and the changed-videos page.
			flatPages := (len(e.acct.Folders()) + 99) / 100
			require.Equal(t, e.acct.MinWalkCalls(e.root, 100)+flatPages+1, res.Calls)
			require.Equal(t, res.Calls, len(e.srv.Requests()))

			// Statuses and thumbnails follow the account.
			for _, v := range res.Videos {
				av, ok := e.acct.Video(mustInt(t, v.ID))
				require.True(t, ok)
				want := map[string]vimeo.VideoStatus{"available": vimeo.StatusAvailable, "transcoding": vimeo.StatusTranscoding,
					"transcoding_error": vimeo.StatusTranscodeError}[av.Status]
				require.Equal(t, want, v.State(), v.ID)
				require.Equal(t, av.Status == "available", v.ThumbnailURL() != "" && strings.Contains(v.ThumbnailURL(), "1920x1080"), v.ID)
				require.Equal(t, "https://player.vimeo.com/video/"+v.ID+"?h="+av.Hash, v.PlayerEmbedURL)
				require.True(t, v.CreatedTime.Equal(av.Created), v.ID)
			}
		})
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// picks finds interesting objects of a generated account.
type picks struct {
	wide          int64   // a folder with more than 100 items
	leaves        []int64 // folders without subfolders, in the tree, not the root
	branch        int64   // a small subtree with subfolders, not the root
	outside       int64   // a top-level folder outside the tree
	rootVideo     int64   // a video directly in the root
	leafVideo     int64   // a video in leaves[0]
	leafVideoLast int64   // a video in the last leaf
}

func pick(t *testing.T, e *env) picks {
	t.Helper()
	var p picks
	sub := map[int64]bool{}
	for _, f := range e.acct.Subtree(e.root) {
		sub[f] = true
	}
	children := map[int64]int{}
	items := map[int64]int{}
	for _, f := range e.acct.Folders() {
		children[f.ParentID]++
		items[f.ParentID]++
	}
	for _, v := range e.acct.Videos() {
		items[v.FolderID]++
	}
	for _, f := range e.acct.Folders() {
		switch {
		case !sub[f.ID]:
			if f.ParentID == 0 && p.outside == 0 {
				p.outside = f.ID
			}
		case f.ID == e.root:
		case children[f.ID] == 0:
			p.leaves = append(p.leaves, f.ID)
		default:
			// The branch: the smallest subtree with subfolders, so that
			// there is room outside it.
			if n := len(e.acct.Subtree(f.ID)); p.branch == 0 || n < len(e.acct.Subtree(p.branch)) {
				p.branch = f.ID
			}
		}
		if sub[f.ID] && f.ID != e.root && items[f.ID] > 100 && p.wide == 0 {
			p.wide = f.ID
		}
	}
	for _, v := range e.acct.Videos() {
		switch {
		case v.FolderID == e.root && p.rootVideo == 0:
			p.rootVideo = v.ID
		case len(p.leaves) > 0 && v.FolderID == p.leaves[0] && p.leafVideo == 0:
			p.leafVideo = v.ID
		case len(p.leaves) > 0 && v.FolderID == p.leaves[len(p.leaves)-1]:
			p.leafVideoLast = v.ID
		}
	}
	return p
}

func itemsPath(e *env, folder int64) string {
	return "/users/" + id(e.acct.UserID()) + "/projects/" + id(folder) + "/items"
}

// TestWalkMidWalkChanges changes the account while the walk runs, at chosen
// requests, and checks that the walk ends equal to the account as it then is,
// or says precisely why not.
func TestWalkMidWalkChanges(t *testing.T) {
	gen := vimeotest.GenerateOptions{Seed: 11, Folders: 24, Videos: 240, WideFolders: 1, MaxDepth: 6}
	tests := []struct {
		name         string
		sopts        vimeotest.Options
		setup        func(t *testing.T, e *env, p picks)
		complete     bool
		wantFailure  vimeo.FailureReason
		failedFolder func(p picks) int64
		relisted     bool
	}{
		{name: "folder deleted while its pages are read", complete: true, relisted: false,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{Path: itemsPath(e, p.wide), Query: map[string]string{"page": "2"},
					Before: func(a *vimeotest.Account) { require.NoError(t, a.DeleteFolder(p.wide, true)) }})
			}},
		{name: "listing shrinks between pages (400/2286)", complete: true, relisted: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{Path: itemsPath(e, p.wide), Query: map[string]string{"page": "2"},
					Before: func(a *vimeotest.Account) { deleteVideosIn(t, a, p.wide, 90) }})
			}},
		{name: "listing shrinks between pages (404 past page 1)", sopts: vimeotest.Options{PagePastEnd404: true}, complete: true, relisted: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{Path: itemsPath(e, p.wide), Query: map[string]string{"page": "2"},
					Before: func(a *vimeotest.Account) { deleteVideosIn(t, a, p.wide, 90) }})
			}},
		{name: "videos inserted before page 2", complete: true, relisted: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{Path: itemsPath(e, p.wide), Query: map[string]string{"page": "2"},
					Before: func(a *vimeotest.Account) {
						for i := range 3 { // created long ago: they sort first and shift every page
							_, err := a.CreateVideo(p.wide, vimeotest.VideoSpec{Name: fmt.Sprintf("old %d", i), Created: epoch.AddDate(-5, 0, 0)})
							require.NoError(t, err)
						}
					}})
			}},
		{name: "video moved into a folder already listed", complete: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 6, Before: func(a *vimeotest.Account) {
					require.NoError(t, a.MoveVideo(p.leafVideoLast, e.root))
				}})
			}},
		{name: "video moved out of a folder already listed", complete: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 3, Before: func(a *vimeotest.Account) {
					require.NoError(t, a.MoveVideo(p.rootVideo, p.leaves[len(p.leaves)-1]))
				}})
			}},
		{name: "subtree moved within the tree", complete: true,
			setup: func(t *testing.T, e *env, p picks) {
				target := leafOutside(t, e, p.branch)
				e.srv.AddFault(vimeotest.Fault{After: 10, Before: func(a *vimeotest.Account) {
					require.NoError(t, a.MoveFolder(p.branch, target))
				}})
			}},
		{name: "subtree moved out of the tree", complete: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 8, Before: func(a *vimeotest.Account) {
					require.NoError(t, a.MoveFolder(p.branch, p.outside))
				}})
			}},
		{name: "folder moved into the tree", complete: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 20, Before: func(a *vimeotest.Account) {
					require.NoError(t, a.MoveFolder(p.outside, p.leaves[0]))
				}})
			}},
		{name: "folder created and deleted", complete: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 15, Before: func(a *vimeotest.Account) {
					nf, err := a.CreateFolder(p.leaves[0], "Brand new")
					require.NoError(t, err)
					_, err = a.CreateVideo(nf, vimeotest.VideoSpec{Name: "in the new folder"})
					require.NoError(t, err)
					require.NoError(t, a.DeleteFolder(p.leaves[1], false))
				}})
			}},
		{name: "renames, privacy and transcode changes", complete: true,
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 25, Before: func(a *vimeotest.Account) {
					require.NoError(t, a.RenameFolder(p.leaves[0], "Renamed ✓"))
					require.NoError(t, a.RenameVideo(p.rootVideo, "Renamed video"))
					require.NoError(t, a.SetPrivacy(p.leafVideo, "unlisted"))
					require.NoError(t, a.SetTranscode(p.rootVideo, "in_progress"))
				}})
			}},
		{name: "access revoked mid-walk (403)", complete: false, wantFailure: vimeo.FailForbidden,
			failedFolder: func(p picks) int64 { return p.branch },
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 4, Before: func(a *vimeotest.Account) { require.NoError(t, a.Revoke(p.branch)) }})
			}},
		{name: "access revoked mid-walk (404)", sopts: vimeotest.Options{ForbiddenAs404: true}, complete: false,
			wantFailure: vimeo.FailNotFound, failedFolder: func(p picks) int64 { return p.branch },
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{After: 4, Before: func(a *vimeotest.Account) { require.NoError(t, a.Revoke(p.branch)) }})
			}},
		{name: "a folder that always fails", complete: false, wantFailure: vimeo.FailError,
			failedFolder: func(p picks) int64 { return p.leaves[0] },
			setup: func(t *testing.T, e *env, p picks) {
				e.srv.AddFault(vimeotest.Fault{Path: itemsPath(e, p.leaves[0]), Status: 500, Times: -1})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &gen, &tt.sopts, &vimeo.Options{Retry: vimeo.RetryOptions{MaxAttempts: 3}})
			p := pick(t, e)
			require.NotZero(t, p.wide)
			require.NotZero(t, p.branch)
			require.NotZero(t, p.outside)
			require.NotZero(t, p.rootVideo)
			require.GreaterOrEqual(t, len(p.leaves), 2)
			tt.setup(t, e, p)

			res, err := e.c.Walk(t.Context(), e.rootURI(), nil)
			require.NoError(t, err)
			t.Logf("calls=%d relists=%d rounds=%d notes=%v problems=%v", res.Calls, res.Relists, res.VerifyRounds, res.Notes, res.Problems)
			require.True(t, res.Consistent, "%v", res.Problems)
			require.Equal(t, tt.complete, res.Complete, "%v", res.Failures)
			if tt.relisted {
				require.Positive(t, res.Relists)
			}
			if !tt.complete {
				require.Len(t, res.Failures, 1)
				f := res.Failures[0]
				require.Equal(t, id(tt.failedFolder(p)), f.FolderID)
				require.Equal(t, tt.wantFailure, f.Reason)
				fo, ok := e.acct.Folder(tt.failedFolder(p))
				require.True(t, ok)
				require.Equal(t, id(fo.ParentID), f.ParentID)
				require.Equal(t, fo.Name, f.Name)
				require.Error(t, f.Err)
				require.False(t, res.Trustworthy())
			}
			requireMatchesSnapshot(t, e.acct, e.root, res)
		})
	}
}

// leafOutside returns the shallowest folder of the tree outside folder's
// subtree (and other than its parent), so that folder's subtree can move under
// it within the depth limit.
func leafOutside(t *testing.T, e *env, folder int64) int64 {
	t.Helper()
	inside := map[int64]bool{}
	for _, f := range e.acct.Subtree(folder) {
		inside[f] = true
	}
	depth := func(id int64) int {
		d := 0
		for cur := id; cur != 0; {
			f, _ := e.acct.Folder(cur)
			cur = f.ParentID
			d++
		}
		return d
	}
	cur, _ := e.acct.Folder(folder)
	best, bestDepth := int64(0), 100
	for _, l := range e.acct.Subtree(e.root) {
		if !inside[l] && l != cur.ParentID && depth(l) < bestDepth {
			best, bestDepth = l, depth(l)
		}
	}
	require.NotZero(t, best)
	return best
}

func deleteVideosIn(t *testing.T, a *vimeotest.Account, folder int64, n int) {
	t.Helper()
	for _, v := range a.Videos() {
		if n == 0 {
			return
		}
		if v.FolderID == folder {
			require.NoError(t, a.DeleteVideo(v.ID))
			n--
		}
	}
}

func TestWalkRootErrors(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 2, Folders: 3, Videos: 5}, nil, nil)
	_, err := e.c.Walk(t.Context(), "424242", nil)
	require.ErrorIs(t, err, vimeo.ErrNotFound)
	_, err = e.c.Walk(t.Context(), "not-a-folder", nil)
	require.ErrorIs(t, err, vimeo.ErrInvalidArgument)

	bad, err := vimeo.New("wrong", &vimeo.Options{BaseURL: e.srv.URL(), Clock: e.clk})
	require.NoError(t, err)
	_, err = bad.Walk(t.Context(), e.rootURI(), nil)
	require.ErrorIs(t, err, vimeo.ErrUnauthorized)

	// The token is revoked after the root was read: the walk stops with 401.
	e.srv.AddFault(vimeotest.Fault{After: 1, Status: http.StatusUnauthorized, Times: -1})
	_, err = e.c.Walk(t.Context(), e.rootURI(), nil)
	require.ErrorIs(t, err, vimeo.ErrUnauthorized)
}

func TestWalkFallsBackToTheFlatFolderList(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 8, Folders: 15, Videos: 40}, &vimeotest.Options{TopLevelProjectsOnly: true}, nil)
	res, err := e.c.Walk(t.Context(), e.rootURI(), nil)
	require.NoError(t, err)
	require.True(t, res.CrossChecked)
	require.True(t, res.Trustworthy())
	requireMatchesSnapshot(t, e.acct, e.root, res)
	var paths []string
	for _, r := range e.srv.Requests() {
		if strings.HasSuffix(r.Path, "/projects") || strings.HasSuffix(r.Path, "/folders") {
			paths = append(paths, r.Path)
		}
	}
	require.Equal(t, []string{"/users/1001/projects", "/users/1001/folders"}, paths)

	// Without cross-checks the walk says so.
	res, err = e.c.Walk(t.Context(), e.rootURI(), &vimeo.WalkOptions{SkipVerify: true})
	require.NoError(t, err)
	require.False(t, res.CrossChecked)
	requireMatchesSnapshot(t, e.acct, e.root, res)
}

// TestWalkCallBudget checks that a walk with CallsPerMinute never sends more in
// any minute (of the fake's clock) than the budget and its burst.
func TestWalkCallBudget(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 9, Folders: 60, Videos: 300}, nil, nil)
	const budget = 30
	res, err := e.c.Walk(t.Context(), e.rootURI(), &vimeo.WalkOptions{CallsPerMinute: budget})
	require.NoError(t, err)
	require.True(t, res.Trustworthy())
	reqs := e.srv.Requests()
	require.Greater(t, len(reqs), 2*budget)
	maxInWindow := 0
	for i := range reqs {
		n := 0
		for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < time.Minute; j++ {
			n++
		}
		maxInWindow = max(maxInWindow, n)
	}
	require.LessOrEqual(t, maxInWindow, budget+budget/10, "budget plus its burst")
}

func TestWalkSortOrders(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 10, Folders: 8, Videos: 50}, nil, nil)
	res, err := e.c.Walk(t.Context(), e.rootURI(), &vimeo.WalkOptions{Sort: "alphabetical", Direction: "asc", Concurrency: 1})
	require.NoError(t, err)
	snap, err := e.acct.Snapshot(e.root, "alphabetical", "asc")
	require.NoError(t, err)
	got := map[string]int{}
	for _, v := range res.Videos {
		got[v.ID] = v.Position
	}
	for _, v := range snap.Videos {
		require.Equal(t, v.Position, got[v.ID], v.ID)
	}
	byFolder := map[string][]string{}
	for _, v := range res.Videos {
		byFolder[v.FolderID] = append(byFolder[v.FolderID], strings.ToLower(v.Name))
	}
	for f, names := range byFolder {
		require.True(t, sort.StringsAreSorted(names), f)
	}
}
