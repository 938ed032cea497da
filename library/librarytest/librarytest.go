// Package librarytest supports tests and benchmarks of the library and the
// servers over it: a small hand-made library with known entitlements (Seed),
// a generator of large random libraries (Generate), and Static, an
// in-memory library.Store whose tree and rules a test swaps directly.
//
// Test support only: never import it from production code.
package librarytest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// Writer is what Seed writes to: store/memstore and store/pgstore.
type Writer interface {
	Update(ctx context.Context, fn func(tree.Tx) error) (int64, error)
	AddRule(ctx context.Context, r entitle.Rule) (entitle.Rule, int64, error)
}

// The small library Seed writes (Vimeo ids):
//
//	1 Library (root)                      video 2001 "Welcome" (everyone, by a video rule)
//	├── 10 Sales        allow role:sales
//	│   ├── 100 Deals   videos 1001, 1002 (1002 denied to role:sales by a video rule)
//	│   └── 101 Drafts  video 1011 (transcoding: invisible to all)
//	├── 11 Engineering  allow role:eng;   video 1101 (unlisted, embed key "abc123")
//	└── 12 Public       allow everyone;   videos 1201…1205
//	    └── 120 Secret  deny everyone;    video 1206 (allowed to segment tier=gold by a video rule)
const (
	Root        = "1"
	Sales       = "10"
	Deals       = "100"
	Drafts      = "101"
	Engineering = "11"
	Public      = "12"
	Secret      = "120"
	EmbedKey    = "abc123"
)

// Base is the creation time of the oldest seeded video; each later id is a
// minute newer in the order they are listed.
var Base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// SeedTree returns the small library's folders, videos and placements.
func SeedTree() ([]tree.Folder, []tree.Video, []tree.Placement) {
	folders := []tree.Folder{
		{VimeoID: Root, Name: "Library"},
		{VimeoID: Sales, ParentVimeoID: Root, Name: "Sales", SortOrder: 0},
		{VimeoID: Engineering, ParentVimeoID: Root, Name: "Engineering", SortOrder: 1},
		{VimeoID: Public, ParentVimeoID: Root, Name: "Public", SortOrder: 2},
		{VimeoID: Deals, ParentVimeoID: Sales, Name: "Deals", SortOrder: 0},
		{VimeoID: Drafts, ParentVimeoID: Sales, Name: "Drafts", SortOrder: 1},
		{VimeoID: Secret, ParentVimeoID: Public, Name: "Secret", SortOrder: 0},
	}
	type vp struct{ id, folder string }
	list := []vp{{"2001", Root}, {"1001", Deals}, {"1002", Deals}, {"1011", Drafts}, {"1101", Engineering},
		{"1201", Public}, {"1202", Public}, {"1203", Public}, {"1204", Public}, {"1205", Public}, {"1206", Secret}}
	var videos []tree.Video
	var places []tree.Placement
	order := map[string]int{}
	for i, x := range list {
		v := tree.Video{
			VimeoID: x.id, Title: "Video " + x.id, Description: "About " + x.id,
			ThumbnailURL: "https://i.vimeocdn.com/video/" + x.id + ".jpg", DurationSeconds: 60 + i,
			Status: tree.StatusAvailable, Visibility: tree.VisibilityDisable,
			CreatedAt: Base.Add(time.Duration(i) * time.Minute), ModifiedAt: Base.Add(time.Duration(i) * time.Minute),
		}
		if x.id == "1011" {
			v.Status = tree.StatusTranscoding
		}
		if x.id == "1101" {
			v.Visibility, v.EmbedKey = tree.VisibilityUnlisted, EmbedKey
		}
		if x.id == "1001" {
			v.Tags = []string{"Négociation", "研修"}
		}
		if x.id == "1201" {
			v.Pictures = []tree.Picture{
				{Width: 295, Height: 166, URL: "https://i.vimeocdn.com/video/" + x.id + "-d_295x166"},
				{Width: 640, Height: 360, URL: "https://i.vimeocdn.com/video/" + x.id + "-d_640x360"},
			}
			v.ThumbnailURL = v.Pictures[1].URL
		}
		videos = append(videos, v)
		places = append(places, tree.Placement{FolderVimeoID: x.folder, VideoVimeoID: x.id, SortOrder: order[x.folder]})
		order[x.folder]++
	}
	return folders, videos, places
}

// SeedRules returns the small library's rules (without ids).
func SeedRules() []entitle.Rule {
	r := func(subject, target string, e entitle.Effect) entitle.Rule {
		s, err := entitle.ParseSubject(subject)
		if err != nil {
			panic(err)
		}
		t, err := entitle.ParseTarget(target)
		if err != nil {
			panic(err)
		}
		return entitle.Rule{Subject: s, Target: t, Effect: e, Note: "librarytest"}
	}
	return []entitle.Rule{
		r("role:sales", "folder:"+Sales, entitle.Allow),
		r("role:sales", "video:1002", entitle.Deny),
		r("role:eng", "folder:"+Engineering, entitle.Allow),
		r("everyone", "folder:"+Public, entitle.Allow),
		r("everyone", "folder:"+Secret, entitle.Deny),
		r("segment:tier=gold", "video:1206", entitle.Allow),
		r("everyone", "video:2001", entitle.Allow),
	}
}

// Seed writes the small library and its rules to w.
func Seed(ctx context.Context, w Writer) error {
	folders, videos, places := SeedTree()
	if _, err := w.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, folders); err != nil {
			return err
		}
		if err := tx.UpsertVideos(ctx, videos); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, places)
	}); err != nil {
		return fmt.Errorf("librarytest: seed tree: %w", err)
	}
	for _, r := range SeedRules() {
		if _, _, err := w.AddRule(ctx, r); err != nil {
			return fmt.Errorf("librarytest: seed rule: %w", err)
		}
	}
	return nil
}

// GenOptions shape a generated library.
type GenOptions struct {
	Folders, Videos, Depth, Rules, Roles, Segments int
	Seed                                           uint64
	// Awkward gives folders and videos names, titles, descriptions and
	// thumbnails with what JSON encoders must escape (quotes, control
	// characters, <>&, U+2028, invalid UTF-8, non-ASCII), and leaves some
	// times zero, for encoding tests.
	Awkward bool
}

// awkward are strings JSON encoders must treat with care.
var awkward = []string{
	`plain`, `"quoted" \back\slash`, "tab\there\nnewline\r\x00nul\x1f\x7f", `<script>alert("x")</script> & co`,
	"line\u2028sep\u2029par", "caf\u00e9 \u65e5\u672c \U0001F3AC", "bad \xff\xfe utf8 \xe2\x82", "", " ", `'single'`, "\b\f",
}

// Generated is a generated library.
type Generated struct {
	Snapshot *tree.Snapshot
	Rules    []entitle.Rule
	Roles    []string // role names rules use
	Segments []string // tier values rules use (segment key "tier")
}

// Generate builds a random library: one root, Folders folders at most Depth
// deep, Videos videos spread over them (some not playable), and Rules rules
// over Roles roles and Segments tier values, on folders and videos at every
// depth, mostly allows.
func Generate(o GenOptions) (*Generated, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	folders := []tree.Folder{{VimeoID: "1", Name: "Library"}}
	depth := map[string]int{"1": 0}
	children := map[string]int{}
	for i := 1; i < o.Folders; i++ {
		id := strconv.Itoa(1_000_000 + i)
		var parent string
		for {
			parent = folders[rng.IntN(len(folders))].VimeoID
			if depth[parent] < o.Depth {
				break
			}
		}
		depth[id] = depth[parent] + 1
		name := "Folder " + id
		if o.Awkward {
			name = awkward[rng.IntN(len(awkward))] + " " + id
		}
		folders = append(folders, tree.Folder{VimeoID: id, ParentVimeoID: parent, Name: name, SortOrder: children[parent]})
		children[parent]++
	}
	videos := make([]tree.Video, 0, o.Videos)
	places := make([]tree.Placement, 0, o.Videos)
	inFolder := map[string]int{}
	for i := range o.Videos {
		id := strconv.Itoa(100_000_000 + i)
		f := folders[rng.IntN(len(folders))].VimeoID
		st := tree.StatusAvailable
		if rng.IntN(50) == 0 {
			st = tree.StatusTranscoding
		}
		v := tree.Video{VimeoID: id, Title: "Video " + id, Status: st, Visibility: tree.VisibilityDisable,
			DurationSeconds: 30 + rng.IntN(3600), CreatedAt: Base.Add(time.Duration(rng.IntN(1_000_000)) * time.Second)}
		if o.Awkward {
			pick := func() string { return awkward[rng.IntN(len(awkward))] }
			v.Title, v.Description = pick()+" "+id, pick()+pick()
			if rng.IntN(2) == 0 {
				v.ThumbnailURL = "https://i.vimeocdn.com/video/" + id + "?a=1&b=" + pick()
			}
			for k := range rng.IntN(4) {
				w := 100 << k
				v.Pictures = append(v.Pictures, tree.Picture{Width: w, Height: w * 9 / 16,
					URL: "https://i.vimeocdn.com/video/" + id + "_" + strconv.Itoa(w) + "?r=" + pick()})
			}
			for range rng.IntN(3) {
				v.Tags = append(v.Tags, pick())
			}
			switch rng.IntN(4) {
			case 0:
				v.CreatedAt = time.Time{}
			case 1:
				v.ModifiedAt = v.CreatedAt.Add(time.Duration(rng.IntN(1e9)) * time.Nanosecond).In(time.FixedZone("x", -5*3600))
			}
		}
		videos = append(videos, v)
		places = append(places, tree.Placement{FolderVimeoID: f, VideoVimeoID: id, SortOrder: inFolder[f]})
		inFolder[f]++
	}
	snap, err := tree.New(1, folders, videos, places)
	if err != nil {
		return nil, err
	}
	g := &Generated{Snapshot: snap}
	for i := range max(o.Roles, 1) {
		g.Roles = append(g.Roles, "role"+strconv.Itoa(i))
	}
	for i := range max(o.Segments, 1) {
		g.Segments = append(g.Segments, "t"+strconv.Itoa(i))
	}
	seen := map[string]bool{}
	for id := int64(1); len(g.Rules) < o.Rules; {
		var subj entitle.Subject
		switch k := rng.IntN(20); {
		case k == 0:
			subj = entitle.Subject{Kind: entitle.Everyone}
		case k < 14:
			subj = entitle.Subject{Kind: entitle.Role, Name: g.Roles[rng.IntN(len(g.Roles))]}
		default:
			subj = entitle.Subject{Kind: entitle.Segment, Name: "tier", Value: g.Segments[rng.IntN(len(g.Segments))]}
		}
		var tgt entitle.Target
		if rng.IntN(5) == 0 {
			tgt = entitle.Target{Kind: entitle.VideoTarget, ID: videos[rng.IntN(len(videos))].VimeoID}
		} else {
			tgt = entitle.Target{Kind: entitle.FolderTarget, ID: folders[rng.IntN(len(folders))].VimeoID}
		}
		eff := entitle.Allow
		if rng.IntN(5) == 0 {
			eff = entitle.Deny
		}
		k := subj.String() + "|" + tgt.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		g.Rules = append(g.Rules, entitle.Rule{ID: id, Subject: subj, Target: tgt, Effect: eff})
		id++
	}
	return g, nil
}

// Static is an in-memory library.Store: a snapshot and rules that a test
// replaces with SetSnapshot and SetRules, each bumping its version.
type Static struct {
	mu       sync.Mutex
	snap     *tree.Snapshot
	rules    []entitle.Rule
	content  int64
	ent      int64
	Failures int // while > 0, every call fails and decrements it
}

// NewStatic returns a Static at content and entitlement version 1.
func NewStatic(snap *tree.Snapshot, rules []entitle.Rule) *Static {
	return &Static{snap: snap, rules: rules, content: 1, ent: 1}
}

// SetSnapshot replaces the tree and returns the new content version.
func (s *Static) SetSnapshot(snap *tree.Snapshot) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap = snap
	s.content++
	return s.content
}

// SetRules replaces the rules and returns the new entitlement version.
func (s *Static) SetRules(rules []entitle.Rule) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = rules
	s.ent++
	return s.ent
}

var errFailure = fmt.Errorf("librarytest: injected failure")

func (s *Static) fail() error {
	if s.Failures > 0 {
		s.Failures--
		return errFailure
	}
	return nil
}

// LoadSnapshot implements library.Store.
func (s *Static) LoadSnapshot(context.Context, tree.LoadOptions) (*tree.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap, s.fail()
}

// ContentVersion implements library.Store.
func (s *Static) ContentVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.content, s.fail()
}

// ListRules implements library.Store.
func (s *Static) ListRules(context.Context) ([]entitle.Rule, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rules, s.ent, s.fail()
}

// EntitlementVersion implements library.Store.
func (s *Static) EntitlementVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ent, s.fail()
}

// WithText returns the snapshot with made-up text, for search benchmarks:
// titles of 2–7 words, descriptions of 10–60 words and 0–4 tags drawn
// (Zipf) from a vocabulary of 20,000 made-up words, some accented, one in
// fifty in a spaceless script, and folder names of 1–3 words. It returns the
// vocabulary too.
func WithText(snap *tree.Snapshot, seed uint64) (*tree.Snapshot, []string, error) {
	r := rand.New(rand.NewPCG(seed, 18))
	syll := []string{"ka", "lo", "ri", "men", "ta", "vo", "sel", "dri", "un", "pa", "tor", "é", "ça", "ne", "ü", "bo", "gra", "fi", "sto", "que"}
	cjk := []string{"研修", "会社", "動画", "新人", "営業", "説明", "安全", "技術"}
	var vocab []string
	seen := map[string]bool{}
	for len(vocab) < 20_000 {
		var w string
		if r.IntN(50) == 0 {
			w = cjk[r.IntN(len(cjk))] + cjk[r.IntN(len(cjk))]
		} else {
			for range 2 + r.IntN(3) {
				w += syll[r.IntN(len(syll))]
			}
		}
		if !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	z := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	text := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = vocab[z.Uint64()]
			if i == 0 {
				ws[i] = strings.ToUpper(ws[i][:1]) + ws[i][1:]
			}
		}
		return strings.Join(ws, " ")
	}
	folders := snap.Folders()
	for i := range folders {
		folders[i].Name = text(1 + r.IntN(3))
	}
	videos := snap.Videos()
	for i := range videos {
		videos[i].Title = text(2 + r.IntN(6))
		videos[i].Description = text(10 + r.IntN(51))
		videos[i].Tags = nil
		for range r.IntN(5) {
			videos[i].Tags = append(videos[i].Tags, text(1))
		}
	}
	out, err := tree.New(snap.Version(), folders, videos, snap.Placements())
	return out, vocab, err
}

// TextQueries returns n queries over WithText's vocabulary, as users type
// them: one or two words (Zipf), whole or cut short to two letters or more,
// three in ten with two neighbouring letters swapped.
func TextQueries(vocab []string, n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 7))
	z := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	out := make([]string, 0, n)
	for len(out) < n {
		w := []rune(vocab[z.Uint64()])
		switch k := r.IntN(10); {
		case k < 3 && len(w) > 3:
			w = w[:2+r.IntN(len(w)-2)]
		case k < 6 && len(w) >= 5:
			i := r.IntN(len(w) - 1)
			w[i], w[i+1] = w[i+1], w[i]
		}
		q := string(w)
		if r.IntN(3) == 0 {
			q = vocab[z.Uint64()] + " " + q
		}
		out = append(out, q)
	}
	return out
}
