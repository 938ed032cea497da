package rank

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/vidlib/vidlib/entitle"
)

// Watch is what a user did with one video (from watch progress and sessions).
type Watch struct {
	VideoID        string
	WatchedSeconds float64   // playing time, all sessions
	Ratio          float64   // completion ratio of the furthest position, 0..1
	Completed      bool      // watched to the end
	LastAt         time.Time // the newest event
}

// User is whom a feed is for: entitlement identity and watch history.
type User struct {
	ID       string
	Roles    []string
	Segments map[string]string
	History  []Watch
}

// Audience is the user's entitlement audience.
func (u *User) Audience() entitle.Audience { return entitle.NewAudience(u.ID, u.Roles, u.Segments) }

// Features are what a Scorer sees of one candidate video for one user; each
// is in [0, 1].
type Features struct {
	VideoID string
	// Folder is the folder the user sees the video in (its first visible
	// placement): the unit of diversity.
	Folder string
	// Continue: an unfinished video the user started, weighted by recency.
	Continue float64
	// Affinity: the user's recency-weighted share of watch time in the
	// video's folder subtree (nearer folders count more); AffinityFolder and
	// AffinityVideo are the folder and the watched video behind it.
	Affinity       float64
	AffinityFolder string
	AffinityVideo  string
	// Popularity within the user's audience (blended with everyone's).
	Popularity float64
	// Freshness halves every Options.FreshHalfLife of the video's age.
	Freshness float64
	// CompletionRate: the share of the video's viewers who finished it.
	CompletionRate float64
}

// Item is one video of a feed, best first.
type Item struct {
	VideoID string  `json:"video_id"`
	Score   float64 `json:"score"`
	Reason  Reason  `json:"reason"`
}

// Feed is a user's ranked feed. ContentVersion and EntitlementVersion are
// those of the index it was computed from.
type Feed struct {
	UserID             string
	ContentVersion     int64
	EntitlementVersion int64
	ComputedAt         time.Time
	Items              []Item
}

type vinfo struct {
	id      string
	created time.Time
	folders []int32 // placement folders (positions), live ones
}

// Model ranks users over one entitlement index. Build it with New.
type Model struct {
	idx  *entitle.Index
	opts Options
	now  time.Time

	vids       []vinfo  // by entitle video position; id "" where no video
	folderID   []string // by entitle folder position
	parent     []int32  // by folder position; -1 at the top
	global     []float64
	completion []float64
	newest     []int32           // positions, newest first
	globalTop  []int32           // positions watched by anyone, most popular first
	subtree    map[int32][]int32 // folder → subtree videos, most popular (then newest) first
	maxGlobal  float64

	audMu   sync.Mutex
	aud     map[string]*audiencePop // entitle cache key → popularity
	userPop map[string][]popCount   // cache key → counts from users of that key
}

type popCount struct {
	pos int32
	n   float64
}

type audiencePop struct {
	once  sync.Once
	own   map[int32]float64 // pos → counts of this audience's users (sparse)
	max   float64           // of score over the catalogue
	top   []int32           // the audience's own watched videos, by score, desc
	model *Model
}

// score is the blended popularity: the audience's own counts plus a tenth
// of everyone's.
func (a *audiencePop) score(p int32) float64 { return a.own[p] + 0.1*a.model.global[p] }

// New builds a Model over idx from every user's history (popularity within
// audiences, completion rates). Users may be nil (no popularity yet).
func New(idx *entitle.Index, users []User, opts *Options) (*Model, error) {
	if idx == nil {
		return nil, fmt.Errorf("%w: a Model needs an entitlement index", ErrInvalid)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	snap := idx.Snapshot()
	m := &Model{idx: idx, opts: o, now: o.Now(), aud: map[string]*audiencePop{}, userPop: map[string][]popCount{},
		subtree: map[int32][]int32{}}
	nf, _ := snap.Len()
	m.folderID = make([]string, nf)
	m.parent = make([]int32, nf)
	for f := range snap.AllFolders() {
		p := idx.FolderPos(f.VimeoID)
		if p < 0 || int(p) >= nf {
			continue
		}
		m.folderID[p] = f.VimeoID
		m.parent[p] = idx.FolderPos(f.ParentVimeoID)
	}
	maxV := int32(-1)
	for v := range snap.AllVideos() {
		maxV = max(maxV, idx.VideoPos(v.VimeoID))
	}
	m.vids = make([]vinfo, maxV+1)
	for v := range snap.AllVideos() {
		p := idx.VideoPos(v.VimeoID)
		if p < 0 {
			continue
		}
		vi := vinfo{id: v.VimeoID, created: v.CreatedAt}
		for _, f := range snap.FoldersOf(v.VimeoID) {
			if fp := idx.FolderPos(f); fp >= 0 {
				vi.folders = append(vi.folders, fp)
			}
		}
		m.vids[p] = vi
		m.newest = append(m.newest, p)
	}
	slices.SortFunc(m.newest, func(a, b int32) int {
		return cmp.Or(m.vids[b].created.Compare(m.vids[a].created), cmp.Compare(m.vids[a].id, m.vids[b].id))
	})

	// Popularity (recency-weighted viewers) and completion rates.
	m.global = make([]float64, len(m.vids))
	m.completion = make([]float64, len(m.vids))
	starts := make([]float64, len(m.vids))
	for i := range users {
		u := &users[i]
		key := idx.CacheKey(u.Audience())
		var pc []popCount
		for _, w := range u.History {
			p := idx.VideoPos(w.VideoID)
			if p < 0 || int(p) >= len(m.vids) {
				continue
			}
			r := m.recency(w.LastAt)
			m.global[p] += r
			starts[p]++
			if w.Completed {
				m.completion[p]++
			}
			pc = append(pc, popCount{p, r})
		}
		m.userPop[key] = append(m.userPop[key], pc...)
	}
	for p := range m.vids {
		m.completion[p] = (m.completion[p] + 0.5) / (starts[p] + 2) // a prior: unknown videos are middling
		m.maxGlobal = max(m.maxGlobal, m.global[p])
	}
	for p, g := range m.global {
		if g > 0 {
			m.globalTop = append(m.globalTop, int32(p))
		}
	}
	slices.SortFunc(m.globalTop, func(a, b int32) int { return cmp.Or(cmp.Compare(m.global[b], m.global[a]), cmp.Compare(a, b)) })
	// Subtree candidate lists.
	for p := range m.vids {
		seen := map[int32]bool{}
		for _, f := range m.vids[p].folders {
			for a := f; a >= 0; a = m.parent[a] {
				if seen[a] {
					break
				}
				seen[a] = true
				m.subtree[a] = append(m.subtree[a], int32(p))
			}
		}
	}
	for _, l := range m.subtree {
		slices.SortFunc(l, func(a, b int32) int {
			return cmp.Or(cmp.Compare(m.global[b], m.global[a]), m.vids[b].created.Compare(m.vids[a].created), cmp.Compare(a, b))
		})
	}
	return m, nil
}

// Index is the entitlement index the Model ranks over.
func (m *Model) Index() *entitle.Index { return m.idx }

func (m *Model) recency(t time.Time) float64 {
	age := m.now.Sub(t)
	if age < 0 {
		age = 0
	}
	return math.Exp2(-float64(age) / float64(m.opts.RecencyHalfLife))
}

func (m *Model) freshness(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	age := m.now.Sub(t)
	if age < 0 {
		age = 0
	}
	return math.Exp2(-float64(age) / float64(m.opts.FreshHalfLife))
}

// audience returns the popularity table of an entitlement cache key: counts
// of users with that key, blended with a tenth of everyone's.
func (m *Model) audience(key string) *audiencePop {
	m.audMu.Lock()
	a, ok := m.aud[key]
	if !ok {
		a = &audiencePop{}
		m.aud[key] = a
	}
	m.audMu.Unlock()
	a.once.Do(func() {
		a.model = m
		a.own = make(map[int32]float64)
		for _, c := range m.userPop[key] {
			a.own[c.pos] += c.n
		}
		a.max = 0.1 * m.maxGlobal
		for p := range a.own {
			a.max = max(a.max, a.score(p))
			a.top = append(a.top, p)
		}
		slices.SortFunc(a.top, func(x, y int32) int {
			return cmp.Or(cmp.Compare(a.score(y), a.score(x)), cmp.Compare(x, y))
		})
	})
	return a
}

type anchor struct {
	weight float64 // recency-weighted watch in the subtree
	video  int32   // the most watched visible video in it
	best   float64
}

// Rank computes the user's feed. Every video in it is visible to the user in
// the Model's index.
func (m *Model) Rank(u *User) *Feed {
	aud := u.Audience()
	view := m.idx.Visible(aud)
	pop := m.audience(m.idx.CacheKey(aud))
	o := &m.opts

	// The user's history, restricted to what they may see now.
	hist := make(map[int32]*Watch, len(u.History))
	folders := map[int32]*anchor{}
	total := 0.0
	for i := range u.History {
		w := &u.History[i]
		p := m.idx.VideoPos(w.VideoID)
		if !view.VideoAt(p) {
			continue
		}
		hist[p] = w
		wt := m.recency(w.LastAt) * (0.5 + min(1, w.Ratio) + b2f(w.Completed))
		total += wt
		seen := map[int32]bool{}
		for _, f := range m.vids[p].folders {
			for a := f; a >= 0 && m.parent[a] >= 0; a = m.parent[a] { // the root holds everything: no signal
				if seen[a] {
					break
				}
				seen[a] = true
				an := folders[a]
				if an == nil {
					an = &anchor{video: -1}
					folders[a] = an
				}
				an.weight += wt
				if wt > an.best {
					an.best, an.video = wt, p
				}
			}
		}
	}

	cands := make(map[int32]struct{}, 4*o.Candidates)
	add := func(l []int32) {
		n := 0
		for _, p := range l {
			if n == o.Candidates {
				return
			}
			if view.VideoAt(p) {
				if w := hist[p]; w == nil || !w.Completed {
					cands[p] = struct{}{}
					n++
				}
			}
		}
	}
	for p := range hist {
		if !hist[p].Completed {
			cands[p] = struct{}{}
		}
	}
	add(pop.top)     // popular within the audience
	add(m.globalTop) // and with everyone
	add(m.newest)
	if total > 0 {
		fs := make([]int32, 0, len(folders))
		for f := range folders {
			fs = append(fs, f)
		}
		// Deepest first among equals: a nearer folder says more.
		slices.SortFunc(fs, func(a, b int32) int {
			return cmp.Or(cmp.Compare(folders[b].weight, folders[a].weight), cmp.Compare(a, b))
		})
		for i, f := range fs {
			if i == o.AffinityFolders {
				break
			}
			add(m.subtree[f])
		}
	}

	label := audienceLabel(u.Roles)
	items := make([]scored, 0, len(cands))
	var f Features
	for p := range cands {
		vi := &m.vids[p]
		f = Features{VideoID: vi.id, Freshness: m.freshness(vi.created), CompletionRate: m.completion[p]}
		for _, fp := range vi.folders {
			if view.FolderAt(fp) {
				f.Folder = m.folderID[fp]
				break
			}
		}
		if pop.max > 0 {
			f.Popularity = pop.score(p) / pop.max
		}
		if w := hist[p]; w != nil && !w.Completed && w.Ratio < 0.95 {
			f.Continue = m.recency(w.LastAt)
		}
		if total > 0 {
			var affFolder int32 = -1
			for _, fp := range vi.folders {
				if !view.FolderAt(fp) {
					continue
				}
				decay := 1.0
				for a := fp; a >= 0 && m.parent[a] >= 0; a = m.parent[a] {
					if an := folders[a]; an != nil && an.video >= 0 && an.video != p {
						if s := decay * an.weight / total; s > f.Affinity {
							f.Affinity, affFolder = s, a
						}
					}
					decay *= 0.6
				}
			}
			if affFolder >= 0 {
				an := folders[affFolder]
				f.AffinityFolder, f.AffinityVideo = m.folderID[affFolder], m.vids[an.video].id
			}
		}
		c := o.Scorer.Score(u, &f)
		s := c.Sum()
		if len(hist) == 0 { // cold start: popular within the audience, then new
			c = Contributions{}
			if f.Popularity > 0 {
				c[SignalPopular] = 1 + f.Popularity
			} else {
				c[SignalFresh] = f.Freshness
			}
			s = c.Sum()
		}
		if math.IsNaN(s) || math.IsInf(s, 0) {
			s = 0
		}
		items = append(items, scored{pos: p, score: s, folder: f.Folder, reason: m.reason(c.Top(), &f, label)})
	}
	slices.SortFunc(items, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(m.vids[a.pos].id, m.vids[b.pos].id))
	})
	items = diversify(items, o.TopWindow, o.MaxPerFolder)
	if len(items) > o.Size {
		items = items[:o.Size]
	}
	feed := &Feed{UserID: u.ID, ContentVersion: m.idx.Snapshot().Version(), EntitlementVersion: m.idx.Version(),
		ComputedAt: m.now, Items: make([]Item, len(items))}
	for i, it := range items {
		feed.Items[i] = Item{VideoID: m.vids[it.pos].id, Score: it.score, Reason: it.reason}
	}
	return feed
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type scored struct {
	pos    int32
	score  float64
	folder string
	reason Reason
}

func (m *Model) reason(s Signal, f *Features, label string) Reason {
	r := Reason{Kind: kindOf[s]}
	switch s {
	case SignalAffinity:
		r.VideoID, r.FolderID = f.AffinityVideo, f.AffinityFolder
	case SignalPopular:
		r.Audience = label
	case SignalFresh:
		r.FolderID = f.Folder
	}
	return r
}

// diversify reorders items (best first) so that the first top hold at most
// perFolder of one folder, keeping score order otherwise: an item that would
// break the rule waits until the window is full.
func diversify(items []scored, top, perFolder int) []scored {
	if len(items) <= 1 || perFolder <= 0 {
		return items
	}
	out := make([]scored, 0, len(items))
	var waiting []scored
	count := map[string]int{}
	i := 0
	for ; i < len(items) && len(out) < top; i++ {
		it := items[i]
		if count[it.folder] >= perFolder {
			waiting = append(waiting, it)
			continue
		}
		count[it.folder]++
		out = append(out, it)
	}
	out = append(out, waiting...)
	return append(out, items[i:]...)
}

// Filter returns the items of a stored feed that the audience may see in
// idx now, in order: the serve-time check. A nil idx keeps nothing.
func Filter(idx *entitle.Index, a entitle.Audience, items []Item) []Item {
	if idx == nil {
		return nil
	}
	view := idx.Visible(a)
	out := make([]Item, 0, len(items))
	for _, it := range items {
		if view.Video(it.VideoID) {
			out = append(out, it)
		}
	}
	return out
}
