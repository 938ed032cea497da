package dataset

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/loadgen"
	"github.com/vidlib/vidlib/tree"
)

// SampleOptions tune Workload. The zero value (and nil) is valid.
type SampleOptions struct {
	// Visible is how many visible folders and how many visible videos are
	// sampled per audience (default 256 each).
	Visible int
	// Hidden is how many invisible folders and videos are sampled per audience
	// for misses (default 64 each).
	Hidden int
	Seed   uint64
	// Workers is how many audiences are sampled at once (default GOMAXPROCS).
	Workers int
}

// maxHiddenScan bounds the videos looked at to prove one folder hidden (no
// listed video in its subtree); a larger subtree is not sampled as a miss.
const maxHiddenScan = 32

// Workload turns the loaded data set into the load generator's users and
// audiences: tokens[i] is Users[i]'s bearer token. What an audience sees is
// asked of idx (compiled from the stored snapshot and rules, as the server
// compiles it) one video at a time (entitle.Index.Explain), for a user of
// that audience, so its cost follows the sample, not the library: hit videos
// are random videos the audience may watch; hit folders are folders that hold
// a sampled hit video in their subtree (its folder or one of that folder's
// ancestors); miss videos are random videos it may not see; miss folders are
// random folders whose subtree (at most maxHiddenScan videos) holds no video
// listed to it (the folders of sampled miss videos first, then random
// ones). A user named by a user rule gets an audience sample of its
// own, so that every sampled hit is visible to every user it is used for.
//
// The change stream's objects are left out (ChurnVideo, ChurnUsers): no
// churn video is sampled, no folder with one in its subtree is sampled as a
// miss, and churn users are not in the returned users, so that edits, moves,
// deletes and rule changes made while the workload runs turn no sampled hit
// into a miss or miss into a hit. Folders hold each video once (Generate's
// shape): a folder holding a visible video is visible.
func (d *Dataset) Workload(idx *entitle.Index, loaded *Loaded, tokens []string, opts *SampleOptions) ([]loadgen.User, []loadgen.Audience, error) {
	var o SampleOptions
	if opts != nil {
		o = *opts
	}
	if o.Visible <= 0 {
		o.Visible = 256
	}
	if o.Hidden <= 0 {
		o.Hidden = 64
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if len(tokens) != len(d.Users) || len(loaded.UserIDs) != len(d.Users) {
		return nil, nil, fmt.Errorf("%w: %d tokens and %d user ids for %d users", ErrInvalid, len(tokens), len(loaded.UserIDs), len(d.Users))
	}
	named := map[string]bool{}
	for _, r := range loaded.Rules {
		if r.Subject.Kind == entitle.User {
			named[r.Subject.Name] = true
		}
	}
	s := newSampler(d, idx.Snapshot(), idx, o)
	churnUsers := d.ChurnUsers()

	// Which sample each user gets: its audience's, or its own when named.
	type job struct {
		aud  entitle.Audience
		seed uint64
	}
	var jobs []job
	shared := make(map[int]int) // dataset audience → loadgen audience
	users := make([]loadgen.User, 0, len(d.Users)-churnUsers)
	for i, u := range d.Users[:len(d.Users)-churnUsers] {
		id := loaded.UserIDs[i]
		a, ok := shared[u.Audience]
		if !ok || named[id] {
			a = len(jobs)
			jobs = append(jobs, job{aud: entitle.NewAudience(id, u.Roles, u.Segments), seed: o.Seed ^ 0x5bd1e995 ^ uint64(a+1)*0x9e3779b97f4a7c15})
			if !named[id] {
				shared[u.Audience] = a
			}
		}
		users = append(users, loadgen.User{Token: tokens[i], Audience: a})
	}
	audiences := make([]loadgen.Audience, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range o.Workers {
		wg.Go(func() {
			for j := range next {
				audiences[j] = s.sample(&rng{state: jobs[j].seed}, jobs[j].aud)
			}
		})
	}
	for j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	return users, audiences, nil
}

// sampler draws one audience's sample; safe for concurrent use.
type sampler struct {
	d    *Dataset
	snap *tree.Snapshot
	idx  *entitle.Index
	o    SampleOptions
	// videos are the sampleable videos (not churn); folders every folder.
	videos, folders []string
	churn           map[string]bool // churn video ids
	// small are the folders whose subtree holds at most maxHiddenScan
	// videos: the only ones hidden looks into.
	small map[string]bool
}

func newSampler(d *Dataset, snap *tree.Snapshot, idx *entitle.Index, o SampleOptions) *sampler {
	s := &sampler{d: d, snap: snap, idx: idx, o: o, churn: map[string]bool{}}
	for i := range d.Videos {
		if ChurnVideo(i) {
			s.churn[d.Videos[i].VimeoID] = true
		} else {
			s.videos = append(s.videos, d.Videos[i].VimeoID)
		}
	}
	s.folders = make([]string, len(d.Folders))
	for i := range d.Folders {
		s.folders[i] = d.Folders[i].VimeoID
	}
	// Subtree sizes, children before parents (Folders lists parents first).
	count := make(map[string]int, len(d.Folders))
	for _, p := range d.Placements {
		count[p.FolderVimeoID]++
	}
	s.small = make(map[string]bool, len(d.Folders))
	for i := len(d.Folders) - 1; i >= 0; i-- {
		f := d.Folders[i]
		if count[f.VimeoID] <= maxHiddenScan {
			s.small[f.VimeoID] = true
		}
		if f.ParentVimeoID != "" {
			count[f.ParentVimeoID] += count[f.VimeoID]
		}
	}
	return s
}

func (s *sampler) sample(r *rng, a entitle.Audience) loadgen.Audience {
	var out loadgen.Audience
	n, h := s.o.Visible, s.o.Hidden
	seenV, seenF := map[string]bool{}, map[string]bool{}
	// Hits and video misses: random probes, a bounded number of them (an
	// audience that sees almost nothing, or almost everything, gets a
	// shorter list).
	for probes := 0; probes < 16*(n+h) && (len(out.Videos) < n || len(out.HiddenVideos) < h) && len(s.videos) > 0; probes++ {
		id := s.videos[r.intn(len(s.videos))]
		if seenV[id] {
			continue
		}
		d := s.idx.Explain(a, id)
		switch {
		case d.Allowed && len(out.Videos) < n:
			seenV[id] = true
			out.Videos = append(out.Videos, id)
			if f := s.witnessFolder(r, id); f != "" && !seenF[f] && len(out.Folders) < n {
				seenF[f] = true
				out.Folders = append(out.Folders, f)
			}
		case !d.Allowed && !d.Locked && len(out.HiddenVideos) < h:
			seenV[id] = true
			out.HiddenVideos = append(out.HiddenVideos, id)
		}
	}
	// Folder misses: the folders of the video misses first (a hidden video's
	// folder is often hidden too), then random folders.
	tryFolder := func(id string) {
		if !seenF[id] && len(out.HiddenFolders) < h {
			seenF[id] = true
			if s.hidden(a, id) {
				out.HiddenFolders = append(out.HiddenFolders, id)
			}
		}
	}
	for _, v := range out.HiddenVideos {
		if in := s.snap.FoldersOf(v); len(in) > 0 {
			tryFolder(in[0])
		}
	}
	for probes := 0; probes < 2*h && len(out.HiddenFolders) < h && len(s.folders) > 0; probes++ {
		tryFolder(s.folders[r.intn(len(s.folders))])
	}
	return out
}

// witnessFolder picks a folder that holds the visible video in its subtree:
// the folder it is placed in half of the time, else one of its ancestors.
func (s *sampler) witnessFolder(r *rng, videoID string) string {
	in := s.snap.FoldersOf(videoID)
	if len(in) == 0 {
		return ""
	}
	f := in[0]
	if r.intn(2) == 0 {
		return f
	}
	path := s.snap.Path(f) // root first, f last
	return path[r.intn(len(path))]
}

// hidden reports whether no video in the folder's subtree is listed to the
// audience, looking at no more than maxHiddenScan videos; a subtree that
// holds a churn video, or more videos than that, is not called hidden.
func (s *sampler) hidden(a entitle.Audience, folderID string) bool {
	if !s.small[folderID] {
		return false
	}
	budget := maxHiddenScan
	stack := []string{folderID}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if budget -= s.snap.ContentsLen(f); budget < 0 {
			return false
		}
		for p := range s.snap.AllContents(f) {
			if s.churn[p.VideoVimeoID] {
				return false
			}
			if d := s.idx.Explain(a, p.VideoVimeoID); d.Allowed || d.Locked {
				return false
			}
		}
		for c := range s.snap.AllChildren(f) {
			stack = append(stack, c)
		}
	}
	return true
}
