package dataset

import (
	"fmt"
	"slices"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/loadgen"
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
}

// Workload turns the loaded data set into the load generator's users and
// audiences: tokens[i] is Users[i]'s bearer token. What an audience sees is
// asked of idx (compiled from the stored snapshot and rules, as the server
// compiles it), for a user of that audience. A user named by a user rule
// gets an audience sample of its own, so that every sampled hit is visible
// to every user it is used for.
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
	if len(tokens) != len(d.Users) || len(loaded.UserIDs) != len(d.Users) {
		return nil, nil, fmt.Errorf("%w: %d tokens and %d user ids for %d users", ErrInvalid, len(tokens), len(loaded.UserIDs), len(d.Users))
	}
	named := map[string]bool{}
	for _, r := range loaded.Rules {
		if r.Subject.Kind == entitle.User {
			named[r.Subject.Name] = true
		}
	}
	r := &rng{state: o.Seed ^ 0x5bd1e995}
	folderIDs := idx.Snapshot().FolderIDs()
	videoIDs := idx.Snapshot().VideoIDs()
	var audiences []loadgen.Audience
	shared := make(map[int]int) // dataset audience → loadgen audience
	users := make([]loadgen.User, len(d.Users))
	for i, u := range d.Users {
		id := loaded.UserIDs[i]
		a, ok := shared[u.Audience]
		if !ok || named[id] {
			view := idx.Visible(entitle.NewAudience(id, u.Roles, u.Segments))
			audiences = append(audiences, loadgen.Audience{
				Folders:       sample(r, view.FolderIDs(), o.Visible),
				Videos:        sample(r, view.VideoIDs(), o.Visible),
				HiddenFolders: sampleWhere(r, folderIDs, o.Hidden, func(id string) bool { return !view.Folder(id) }),
				HiddenVideos:  sampleWhere(r, videoIDs, o.Hidden, func(id string) bool { return !view.Video(id) }),
			})
			a = len(audiences) - 1
			if !named[id] {
				shared[u.Audience] = a
			}
		}
		users[i] = loadgen.User{Token: tokens[i], Audience: a}
	}
	return users, audiences, nil
}

// sample picks up to n distinct elements of ids (all of them if fewer).
func sample(r *rng, ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	// A partial Fisher-Yates shuffle of the (fresh) slice.
	for i := range n {
		j := i + r.intn(len(ids)-i)
		ids[i], ids[j] = ids[j], ids[i]
	}
	return slices.Clone(ids[:n]) // let the full list go
}

// sampleWhere picks up to n distinct ids satisfying keep: random probes
// first, then a scan when keep is rare.
func sampleWhere(r *rng, ids []string, n int, keep func(string) bool) []string {
	var out []string
	seen := map[string]bool{}
	for probes := 0; len(out) < n && probes < 20*n && len(ids) > 0; probes++ {
		id := ids[r.intn(len(ids))]
		if !seen[id] && keep(id) {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range ids {
		if len(out) >= n {
			break
		}
		if !seen[id] && keep(id) {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
