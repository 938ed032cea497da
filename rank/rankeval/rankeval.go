package rankeval

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/tree"
)

// Options size the synthetic data. The zero value (and nil) is valid.
type Options struct {
	Topics         int // top-level topic folders (default 20), each with 3 subfolders
	Videos         int // default 3000
	Users          int // default 1000
	WatchesPerUser int // default 40
	// Affinity is the share of a user's watches in their planted topics
	// (default 0.7).
	Affinity float64
	Days     int    // the log's span (default 60); the split is at 80 %
	Seed     uint64 // default 1
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	def := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	def(&r.Topics, 20)
	def(&r.Videos, 3000)
	def(&r.Users, 1000)
	def(&r.WatchesPerUser, 40)
	def(&r.Days, 60)
	if r.Affinity <= 0 || r.Affinity > 1 {
		r.Affinity = 0.7
	}
	if r.Seed == 0 {
		r.Seed = 1
	}
	return r
}

// Data is a generated library and interaction log.
type Data struct {
	Index  *entitle.Index
	Split  time.Time
	Train  []rank.User         // histories before the split
	Truth  map[string][]string // user → videos first watched after the split
	Topics map[string][]string // user → planted topic folders (hidden from the scorers)
	videos []string
}

// Generate builds the synthetic data.
func Generate(opts *Options) (*Data, error) {
	o := opts.withDefaults()
	r := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(time.Duration(o.Days) * 24 * time.Hour)
	split := start.Add(time.Duration(float64(end.Sub(start)) * 0.8))

	folders := []tree.Folder{{VimeoID: "1", Name: "Library"}}
	var leaves [][]string // topic → its subfolders
	for t := range o.Topics {
		tid := strconv.Itoa(100 + t)
		folders = append(folders, tree.Folder{VimeoID: tid, ParentVimeoID: "1", Name: "Topic " + strconv.Itoa(t)})
		var subs []string
		for s := range 3 {
			sid := strconv.Itoa(10000 + 10*t + s)
			folders = append(folders, tree.Folder{VimeoID: sid, ParentVimeoID: tid, Name: fmt.Sprintf("Topic %d.%d", t, s)})
			subs = append(subs, sid)
		}
		leaves = append(leaves, subs)
	}
	videos := make([]tree.Video, o.Videos)
	places := make([]tree.Placement, o.Videos)
	appeal := make([]float64, o.Videos)
	byTopic := make([][]int, o.Topics)
	// Videos are created over the year before the end, a few during the log.
	for i := range videos {
		t := r.IntN(o.Topics)
		created := end.Add(-time.Duration(r.Float64() * float64(365*24*time.Hour)))
		videos[i] = tree.Video{VimeoID: strconv.Itoa(1_000_000 + i), Title: "Video " + strconv.Itoa(i), Status: tree.StatusAvailable, CreatedAt: created}
		places[i] = tree.Placement{FolderVimeoID: leaves[t][r.IntN(3)], VideoVimeoID: videos[i].VimeoID}
		appeal[i] = math.Pow(r.Float64(), 3) // a few videos appeal to many
		byTopic[t] = append(byTopic[t], i)
	}
	snap, err := tree.New(1, folders, videos, places)
	if err != nil {
		return nil, err
	}
	idx, err := entitle.New(snap, []entitle.Rule{{ID: 1, Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow}}, 1, nil)
	if err != nil {
		return nil, err
	}
	pickBy := func(cands []int) int { // weighted by appeal (plus a floor)
		total := 0.0
		for _, c := range cands {
			total += appeal[c] + 0.02
		}
		x := r.Float64() * total
		for _, c := range cands {
			x -= appeal[c] + 0.02
			if x <= 0 {
				return c
			}
		}
		return cands[len(cands)-1]
	}
	all := make([]int, o.Videos)
	for i := range all {
		all[i] = i
	}
	d := &Data{Index: idx, Split: split, Truth: map[string][]string{}, Topics: map[string][]string{}}
	for i := range videos {
		d.videos = append(d.videos, videos[i].VimeoID)
	}
	for u := range o.Users {
		id := fmt.Sprintf("user-%05d", u)
		topics := []int{r.IntN(o.Topics)}
		if r.IntN(2) == 0 {
			topics = append(topics, r.IntN(o.Topics))
		}
		for _, t := range topics {
			d.Topics[id] = append(d.Topics[id], strconv.Itoa(100+t))
		}
		train := rank.User{ID: id, Roles: []string{"member"}}
		seen := map[int]bool{}
		for range o.WatchesPerUser {
			var v int
			if r.Float64() < o.Affinity {
				v = pickBy(byTopic[topics[r.IntN(len(topics))]])
			} else {
				v = pickBy(all)
			}
			at := start.Add(time.Duration(r.Float64() * float64(end.Sub(start))))
			if seen[v] {
				continue
			}
			seen[v] = true
			if at.Before(split) {
				ratio := 0.3 + 0.7*r.Float64()
				train.History = append(train.History, rank.Watch{VideoID: videos[v].VimeoID, WatchedSeconds: 600 * ratio,
					Ratio: ratio, Completed: ratio > 0.9, LastAt: at})
			} else {
				d.Truth[id] = append(d.Truth[id], videos[v].VimeoID)
			}
		}
		d.Train = append(d.Train, train)
	}
	return d, nil
}

// Random is a Scorer with a fixed pseudo-random score per user and video:
// the random baseline.
type Random struct{}

// Score implements rank.Scorer.
func (Random) Score(u *rank.User, f *rank.Features) rank.Contributions {
	h := fnv.New64a()
	_, _ = h.Write([]byte(u.ID))
	_, _ = h.Write([]byte(f.VideoID))
	var c rank.Contributions
	c[rank.SignalPopular] = float64(h.Sum64()%1_000_000) / 1_000_000
	return c
}

// Result is one scorer's metrics.
type Result struct {
	Name     string
	NDCG10   float64
	Recall20 float64
	Coverage float64 // share of the catalogue in some user's top 10
	Users    int     // users evaluated (those with truth and history)
}

// Scorers are the scorer under test and the baselines, by name.
func Scorers() []NamedScorer {
	return []NamedScorer{
		{"scorer (rank.Linear)", rank.Linear{Weights: rank.DefaultWeights}},
		{"popularity", rank.Only(rank.SignalPopular)},
		{"recency", rank.Only(rank.SignalFresh)},
		{"random", Random{}},
	}
}

// NamedScorer names a scorer in the table.
type NamedScorer struct {
	Name   string
	Scorer rank.Scorer
}

// Evaluate ranks every user of d with each scorer and computes the metrics.
func Evaluate(d *Data, scorers []NamedScorer, maxPerFolder int) ([]Result, error) {
	var out []Result
	for _, s := range scorers {
		m, err := rank.New(d.Index, d.Train, &rank.Options{Scorer: s.Scorer, Now: func() time.Time { return d.Split },
			MaxPerFolder: maxPerFolder, Size: 20 + 60})
		if err != nil {
			return nil, err
		}
		res := Result{Name: s.Name}
		covered := map[string]bool{}
		for i := range d.Train {
			u := &d.Train[i]
			truth := d.Truth[u.ID]
			if len(truth) == 0 || len(u.History) == 0 {
				continue
			}
			feed := m.Rank(u)
			// The usual protocol: what the user watched before the split is
			// not a prediction (continue watching is left out).
			seen := map[string]bool{}
			for _, w := range u.History {
				seen[w.VideoID] = true
			}
			feed.Items = slices.DeleteFunc(feed.Items, func(it rank.Item) bool { return seen[it.VideoID] })
			rel := map[string]bool{}
			for _, v := range truth {
				rel[v] = true
			}
			dcg, idcg, hits := 0.0, 0.0, 0
			for k, it := range feed.Items {
				if k < 10 {
					covered[it.VideoID] = true
					if rel[it.VideoID] {
						dcg += 1 / math.Log2(float64(k+2))
					}
				}
				if k < 20 && rel[it.VideoID] {
					hits++
				}
			}
			for k := range min(len(truth), 10) {
				idcg += 1 / math.Log2(float64(k+2))
			}
			res.NDCG10 += dcg / idcg
			res.Recall20 += float64(hits) / float64(len(truth))
			res.Users++
		}
		if res.Users > 0 {
			res.NDCG10 /= float64(res.Users)
			res.Recall20 /= float64(res.Users)
		}
		res.Coverage = float64(len(covered)) / float64(len(d.videos))
		out = append(out, res)
	}
	return out, nil
}

// Print writes the results as a table.
func Print(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scorer\tNDCG@10\trecall@20\tcoverage@10\tusers\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", r.Name, r.NDCG10, r.Recall20, r.Coverage, r.Users)
	}
	return tw.Flush()
}

// Find returns the named result.
func Find(rs []Result, name string) (Result, bool) {
	i := slices.IndexFunc(rs, func(r Result) bool { return r.Name == name })
	if i < 0 {
		return Result{}, false
	}
	return rs[i], true
}
