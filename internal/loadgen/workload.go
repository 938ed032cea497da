package loadgen

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Endpoints of the mixed workload, as they appear in reports.
const (
	EndpointHome     = "home"
	EndpointFolder   = "folder"
	EndpointVideo    = "video"
	EndpointPlayback = "playback"
)

// Mix weighs the endpoints of the mixed workload. Weights are relative (they
// need not sum to 1 or 100); the zero Mix means DefaultMix.
type Mix struct {
	Home, Folder, Video, Playback float64
}

// DefaultMix is the read mix: home 20 %, folder 50 %, video 25 %,
// playback 5 %.
var DefaultMix = Mix{Home: 20, Folder: 50, Video: 25, Playback: 5}

// ParseMix reads "home=20,folder=50,video=25,playback=5"; endpoints left out
// weigh 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return Mix{}, fmt.Errorf("%w: mix %q: want endpoint=weight pairs", ErrInvalid, s)
		}
		switch strings.TrimSpace(k) {
		case EndpointHome:
			m.Home = w
		case EndpointFolder:
			m.Folder = w
		case EndpointVideo:
			m.Video = w
		case EndpointPlayback:
			m.Playback = w
		default:
			return Mix{}, fmt.Errorf("%w: mix %q: unknown endpoint %q", ErrInvalid, s, k)
		}
	}
	if m.sum() == 0 {
		return Mix{}, fmt.Errorf("%w: mix %q weighs nothing", ErrInvalid, s)
	}
	return m, nil
}

func (m Mix) sum() float64 { return m.Home + m.Folder + m.Video + m.Playback }

// String is the form ParseMix reads, in percent.
func (m Mix) String() string {
	t := m.sum()
	p := func(w float64) string { return strconv.FormatFloat(100*w/t, 'g', 4, 64) }
	return "home=" + p(m.Home) + ",folder=" + p(m.Folder) + ",video=" + p(m.Video) + ",playback=" + p(m.Playback)
}

// Audience is what one group of users can see, as samples of ids: the
// workload aims hits at Folders and Videos and misses at HiddenFolders and
// HiddenVideos (objects that exist but are not visible, answered 404).
type Audience struct {
	Folders, Videos             []string
	HiddenFolders, HiddenVideos []string
}

// User is one signed-in user of the workload.
type User struct {
	Token    string // bearer token
	Audience int    // index into the audiences given to NewWorkload
}

// WorkloadOptions tune NewWorkload. The zero value (and nil) is valid.
type WorkloadOptions struct {
	Mix Mix // zero: DefaultMix
	// Misses is the share of folder, video and playback requests aimed at an
	// object the user may not see (expecting 404). 0 means DefaultMisses;
	// negative means none.
	Misses float64
	Seed   uint64
}

// DefaultMisses is the default share of requests aimed at invisible objects.
const DefaultMisses = 0.05

// unknownID names no folder or video: the miss of an audience without
// hidden samples.
const unknownID = "999999999999"

// Workload is the mixed read workload of the library API: each request is a
// random user's home, folder, video or playback request, chosen by Mix, for
// an object that user can see (or, for a share of Misses, cannot).
// Request(seq) depends only on the seed and seq, so a run is reproducible,
// and Workload is safe for concurrent use.
type Workload struct {
	users     []User
	audiences []Audience
	cum       [4]float64 // cumulative mix weights, normalised to 1
	misses    float64
	seed      uint64
}

// NewWorkload builds the mixed workload over users and the audiences they
// belong to.
func NewWorkload(users []User, audiences []Audience, opts *WorkloadOptions) (*Workload, error) {
	var o WorkloadOptions
	if opts != nil {
		o = *opts
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%w: a workload needs users", ErrInvalid)
	}
	for i, u := range users {
		if u.Audience < 0 || u.Audience >= len(audiences) {
			return nil, fmt.Errorf("%w: user %d has audience %d of %d", ErrInvalid, i, u.Audience, len(audiences))
		}
	}
	m := o.Mix
	if m.sum() == 0 {
		m = DefaultMix
	}
	if m.Home < 0 || m.Folder < 0 || m.Video < 0 || m.Playback < 0 {
		return nil, fmt.Errorf("%w: negative weight in mix %+v", ErrInvalid, m)
	}
	switch {
	case o.Misses == 0:
		o.Misses = DefaultMisses
	case o.Misses < 0:
		o.Misses = 0
	case o.Misses > 1:
		return nil, fmt.Errorf("%w: Misses %v is more than 1", ErrInvalid, o.Misses)
	}
	t := m.sum()
	w := &Workload{users: users, audiences: audiences, misses: o.Misses, seed: o.Seed}
	w.cum = [4]float64{m.Home / t, (m.Home + m.Folder) / t, (m.Home + m.Folder + m.Video) / t, 1}
	return w, nil
}

// Request returns the seq-th request of the workload.
func (w *Workload) Request(seq uint64) Request {
	r := rng{state: w.seed ^ (seq+1)*0x9e3779b97f4a7c15}
	u := w.users[r.intn(len(w.users))]
	a := &w.audiences[u.Audience]
	x := r.float()
	switch {
	case x < w.cum[0]:
		return Request{Endpoint: EndpointHome, Path: "/library/home", Token: u.Token}
	case x < w.cum[1]:
		id, expect := w.pick(&r, a.Folders, a.HiddenFolders)
		return Request{Endpoint: EndpointFolder, Path: "/folders/" + id, Token: u.Token, Expect: expect}
	case x < w.cum[2]:
		id, expect := w.pick(&r, a.Videos, a.HiddenVideos)
		return Request{Endpoint: EndpointVideo, Path: "/videos/" + id, Token: u.Token, Expect: expect}
	default:
		id, expect := w.pick(&r, a.Videos, a.HiddenVideos)
		return Request{Endpoint: EndpointPlayback, Path: "/videos/" + id + "/playback", Token: u.Token, Expect: expect}
	}
}

// pick chooses a visible id (expect any 2xx) or, for a share of misses or
// when nothing is visible, a hidden one (expect 404).
func (w *Workload) pick(r *rng, visible, hidden []string) (string, int) {
	if len(visible) > 0 && (w.misses == 0 || r.float() >= w.misses) {
		return visible[r.intn(len(visible))], 0
	}
	if len(hidden) == 0 {
		return unknownID, http.StatusNotFound
	}
	return hidden[r.intn(len(hidden))], http.StatusNotFound
}

// rng is splitmix64: tiny, fast and good enough to pick requests.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }
