package dataset

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// ErrInvalid reports options that describe no valid data set.
var ErrInvalid = errors.New("dataset: invalid")

// Defaults of Options: the benchmark scale.
const (
	DefaultFolders   = 10_000
	DefaultVideos    = 100_000
	DefaultDepth     = 10
	DefaultRules     = 2_000
	DefaultUsers     = 10_000
	DefaultAudiences = 500
)

// Options size a data set. Zero fields take the defaults; the zero value (and
// nil) is the scale.
type Options struct {
	Seed      uint64
	Folders   int // folders, the root included
	Videos    int // videos, each placed in one folder
	Depth     int // folder levels: the root is level 1, the deepest folder is at level Depth
	Rules     int // entitlement rules
	Users     int // users, at least Audiences
	Audiences int // distinct audiences (sets of roles and segments) among the users
}

func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&out.Folders, DefaultFolders)
	def(&out.Videos, DefaultVideos)
	def(&out.Depth, DefaultDepth)
	def(&out.Rules, DefaultRules)
	def(&out.Users, DefaultUsers)
	def(&out.Audiences, DefaultAudiences)
	switch {
	case out.Folders < 0 || out.Videos < 0 || out.Depth < 0 || out.Rules < 0 || out.Users < 0 || out.Audiences < 0:
		return out, fmt.Errorf("%w: negative size in %+v", ErrInvalid, out)
	case out.Folders < out.Depth:
		return out, fmt.Errorf("%w: %d folders cannot make %d levels", ErrInvalid, out.Folders, out.Depth)
	case out.Depth < 2:
		return out, fmt.Errorf("%w: depth %d: the root and at least one level under it", ErrInvalid, out.Depth)
	case out.Users < out.Audiences:
		return out, fmt.Errorf("%w: %d users cannot form %d audiences", ErrInvalid, out.Users, out.Audiences)
	case out.Audiences > audienceSpace:
		return out, fmt.Errorf("%w: at most %d distinct audiences", ErrInvalid, audienceSpace)
	}
	return out, nil
}

// The catalogue audiences are drawn from: one or two roles, a tier, a region
// and an optional plan.
var (
	roleNames = func() []string {
		out := make([]string, 24)
		for i := range out {
			out[i] = fmt.Sprintf("role-%02d", i)
		}
		return out
	}()
	segmentValues = map[string][]string{
		"tier":   {"free", "silver", "gold", "platinum"},
		"region": {"emea", "amer", "apac", "latam", "anz"},
		"plan":   {"monthly", "annual", "trial"},
	}
	segmentKeys   = []string{"tier", "region", "plan"}
	audienceSpace = (len(roleNames) + len(roleNames)*(len(roleNames)-1)/2) * 4 * 5 * (3 + 1)
)

// User is a generated user: the token subject it signs in with and the roles
// and profile segments the stores give it.
type User struct {
	Subject  string // the token's "sub" (a Cognito pool user)
	Email    string
	Roles    []string // sorted
	Segments map[string]string
	Audience int // index into Dataset.Audiences
}

// Audience is one distinct set of roles and segments.
type Audience struct {
	Roles    []string // sorted
	Segments map[string]string
}

// Dataset is a generated library: a tree valid for tree.New, rules, users
// and the audiences they form.
type Dataset struct {
	Folders    []tree.Folder // parents before children; Folders[0] is the root
	Videos     []tree.Video
	Placements []tree.Placement
	// Rules are valid entitle rules, no two with the same subject and target.
	// A user subject names a User.Subject; Load replaces it with the id the
	// user store assigned.
	Rules     []entitle.Rule
	Users     []User
	Audiences []Audience
	Roles     []string // the role catalogue
}

// base is the creation time of the generated library.
var base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate builds a data set. The same options give the same data set.
func Generate(opts *Options) (*Dataset, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &rng{state: o.Seed}
	d := &Dataset{Roles: slices.Clone(roleNames)}
	levels := d.genFolders(r, o)
	d.genVideos(r, o)
	d.genAudiences(r, o)
	d.genUsers(r, o)
	if err := d.genRules(r, o, levels); err != nil {
		return nil, err
	}
	return d, nil
}

// FolderID and VideoID are the Vimeo ids of the i-th generated folder and video.
func FolderID(i int) string { return strconv.Itoa(10_000_000 + i) }

// VideoID is the Vimeo id of the i-th generated video.
func VideoID(i int) string { return strconv.Itoa(500_000_000 + i) }

// genFolders makes a root, a spine down to the deepest level, and attaches
// every other folder to a random folder above the deepest level (a random
// recursive tree, cut at Depth). It returns the folders of each level.
func (d *Dataset) genFolders(r *rng, o Options) [][]int {
	d.Folders = make([]tree.Folder, 0, o.Folders)
	levels := make([][]int, o.Depth+1)
	children := make([]int, o.Folders)
	level := make([]int, o.Folders)
	var eligible []int // folders that may take a child: level < Depth
	add := func(parent int) {
		i := len(d.Folders)
		f := tree.Folder{
			VimeoID: FolderID(i), Name: fmt.Sprintf("Folder %d", i),
			CreatedAt: base.Add(time.Duration(i) * time.Minute), ModifiedAt: base.Add(time.Duration(i)*time.Minute + time.Hour),
		}
		level[i] = 1
		if parent >= 0 {
			f.ParentVimeoID = d.Folders[parent].VimeoID
			f.SortOrder = children[parent]
			children[parent]++
			level[i] = level[parent] + 1
		}
		d.Folders = append(d.Folders, f)
		levels[level[i]] = append(levels[level[i]], i)
		if level[i] < o.Depth {
			eligible = append(eligible, i)
		}
	}
	add(-1)
	for i := 1; i < o.Depth; i++ {
		add(i - 1)
	}
	for len(d.Folders) < o.Folders {
		add(eligible[r.intn(len(eligible))])
	}
	return levels
}

// genVideos places every video in a uniformly random folder; about 3 % are
// not playable (transcoding or failed) and a fifth are unlisted.
func (d *Dataset) genVideos(r *rng, o Options) {
	d.Videos = make([]tree.Video, o.Videos)
	d.Placements = make([]tree.Placement, o.Videos)
	inFolder := make([]int, len(d.Folders))
	for i := range d.Videos {
		v := tree.Video{
			VimeoID: VideoID(i), Title: fmt.Sprintf("Video %d", i), Description: "A generated benchmark video.",
			ThumbnailURL:    fmt.Sprintf("https://i.vimeocdn.com/video/%d_640x360.jpg", 500_000_000+i),
			DurationSeconds: 30 + r.intn(3600), Status: tree.StatusAvailable, Visibility: tree.VisibilityAnybody,
			CreatedAt: base.Add(time.Duration(i) * time.Second), ModifiedAt: base.Add(time.Duration(i)*time.Second + time.Hour),
		}
		switch x := r.intn(100); {
		case x < 2:
			v.Status = tree.StatusTranscoding
		case x < 3:
			v.Status = tree.StatusTranscodeError
		}
		if r.intn(5) == 0 {
			v.Visibility, v.EmbedKey = tree.VisibilityUnlisted, fmt.Sprintf("%010x", r.next()&0xffffffffff)
		}
		d.Videos[i] = v
		f := r.intn(len(d.Folders))
		d.Placements[i] = tree.Placement{FolderVimeoID: d.Folders[f].VimeoID, VideoVimeoID: v.VimeoID, SortOrder: inFolder[f]}
		inFolder[f]++
	}
}

// genAudiences draws exactly Audiences distinct combinations of the
// catalogue.
func (d *Dataset) genAudiences(r *rng, o Options) {
	seen := make(map[string]bool, o.Audiences)
	for len(d.Audiences) < o.Audiences {
		a := Audience{Roles: []string{roleNames[r.intn(len(roleNames))]}, Segments: map[string]string{}}
		if r.intn(3) == 0 {
			a.Roles = append(a.Roles, roleNames[r.intn(len(roleNames))])
		}
		slices.Sort(a.Roles)
		a.Roles = slices.Compact(a.Roles)
		for _, k := range segmentKeys {
			vals := segmentValues[k]
			if k == "plan" && r.intn(len(vals)+1) == len(vals) {
				continue // no plan
			}
			a.Segments[k] = vals[r.intn(len(vals))]
		}
		key := entitle.NewAudience("", a.Roles, a.Segments).Key()
		if !seen[key] {
			seen[key] = true
			d.Audiences = append(d.Audiences, a)
		}
	}
}

// genUsers gives the first Audiences users one audience each and the rest a
// random one, so every audience has a user.
func (d *Dataset) genUsers(r *rng, o Options) {
	d.Users = make([]User, o.Users)
	for i := range d.Users {
		a := i
		if i >= len(d.Audiences) {
			a = r.intn(len(d.Audiences))
		}
		sub := fmt.Sprintf("bench-user-%06d", i)
		d.Users[i] = User{Subject: sub, Email: sub + "@bench.example", Audience: a,
			Roles: slices.Clone(d.Audiences[a].Roles), Segments: maps.Clone(d.Audiences[a].Segments)}
	}
}

// genRules gives every role an allow on a subtree under the root first (so
// every audience sees something), then draws random rules: subjects
// everyone 2 %, role 40 %, segment 40 %, user 18 %; targets folders 70 %
// (shallow levels favoured) and videos 30 %; allow 70 %, deny 30 %.
func (d *Dataset) genRules(r *rng, o Options, levels [][]int) error {
	d.Rules = make([]entitle.Rule, 0, o.Rules)
	seen := make(map[string]bool, o.Rules)
	add := func(s entitle.Subject, t entitle.Target, e entitle.Effect) {
		key := s.String() + " " + t.String()
		if len(d.Rules) == o.Rules || seen[key] {
			return
		}
		seen[key] = true
		d.Rules = append(d.Rules, entitle.Rule{Subject: s, Target: t, Effect: e, CreatedBy: "bench"})
	}
	top := levels[2]
	for _, role := range roleNames {
		add(entitle.Subject{Kind: entitle.Role, Name: role}, entitle.Target{Kind: entitle.FolderTarget, ID: d.Folders[top[r.intn(len(top))]].VimeoID}, entitle.Allow)
	}
	for attempts := 0; len(d.Rules) < o.Rules; attempts++ {
		if attempts > 100*o.Rules+1000 {
			return fmt.Errorf("%w: could not draw %d distinct rules", ErrInvalid, o.Rules)
		}
		var s entitle.Subject
		switch x := r.intn(100); {
		case x < 2:
			s = entitle.Subject{Kind: entitle.Everyone}
		case x < 42:
			s = entitle.Subject{Kind: entitle.Role, Name: roleNames[r.intn(len(roleNames))]}
		case x < 82:
			k := segmentKeys[r.intn(len(segmentKeys))]
			s = entitle.Subject{Kind: entitle.Segment, Name: k, Value: segmentValues[k][r.intn(len(segmentValues[k]))]}
		default:
			s = entitle.Subject{Kind: entitle.User, Name: d.Users[r.intn(len(d.Users))].Subject}
		}
		var t entitle.Target
		if len(d.Videos) == 0 || r.intn(10) < 7 {
			t = entitle.Target{Kind: entitle.FolderTarget, ID: d.Folders[pickShallow(r, levels)].VimeoID}
		} else {
			t = entitle.Target{Kind: entitle.VideoTarget, ID: d.Videos[r.intn(len(d.Videos))].VimeoID}
		}
		e := entitle.Allow
		if r.intn(10) < 3 {
			e = entitle.Deny
		}
		add(s, t, e)
	}
	return nil
}

// pickShallow picks a folder, choosing its level first with weights that
// halve per level from level 2 (the root, level 1, is rare).
func pickShallow(r *rng, levels [][]int) int {
	for {
		l := 2
		for l < len(levels)-1 && r.intn(2) == 0 {
			l++
		}
		if r.intn(50) == 0 {
			l = 1
		}
		if len(levels[l]) > 0 {
			return levels[l][r.intn(len(levels[l]))]
		}
	}
}

// Snapshot builds the generated tree with tree.New.
func (d *Dataset) Snapshot() (*tree.Snapshot, error) {
	return tree.New(0, d.Folders, d.Videos, d.Placements)
}

// Compile builds the entitlement index a server compiles once the data set
// is loaded, from the generated data alone, with each user's subject
// standing for its id (user rules name subjects), and the Loaded that
// matches it: what a process that did not load the data set (the server
// did, in another process) needs for Workload.
func (d *Dataset) Compile(opts *entitle.Options) (*entitle.Index, *Loaded, error) {
	snap, err := d.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	out := &Loaded{UserIDs: make([]string, len(d.Users)), Rules: make([]entitle.Rule, len(d.Rules))}
	for i, u := range d.Users {
		out.UserIDs[i] = u.Subject
	}
	for i, r := range d.Rules {
		r.ID = int64(i + 1)
		out.Rules[i] = r
	}
	idx, err := entitle.New(snap, out.Rules, 0, opts)
	if err != nil {
		return nil, nil, err
	}
	return idx, out, nil
}

// ChurnVideo reports whether the i-th generated video is one the bench's
// change stream may move and delete (one in a hundred); Workload samples
// none of them.
func ChurnVideo(i int) bool { return i%100 == 99 }

// ChurnUsers is how many users, the last ones, the change stream's rule
// changes name (one in a hundred, at least one when there are more users
// than audiences, none otherwise); Workload leaves them out of the load, so
// the rules it adds and removes change what no measured user sees.
func (d *Dataset) ChurnUsers() int {
	return min(len(d.Users)-len(d.Audiences), max(1, len(d.Users)/100))
}

// rng is splitmix64.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }
