package vimeotest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// GenerateOptions shapes a generated account. The zero value gives a small,
// realistic account; every count can be raised for load tests.
type GenerateOptions struct {
	// Seed makes the account reproducible; 0 means 1.
	Seed uint64
	// Folders in the root's subtree, the root included (default 40) and
	// Videos in it (default 400).
	Folders int
	Videos  int
	// MaxDepth is the deepest level below the top (the root is a top-level
	// folder, depth 1). At most MaxDepth (10, Vimeo's limit); default 10. One
	// chain always reaches it when Folders allows; 1 leaves the root alone.
	MaxDepth int
	// WideFolders get more than 100 items each, so listing them takes several
	// pages. Default 1 when Videos >= 150; negative means none.
	WideFolders int
	// OutsideFolders and OutsideVideos populate the account outside the root:
	// other top-level folders and videos at the library root. Defaults 3 and
	// 10; negative means none.
	OutsideFolders int
	OutsideVideos  int
	// Rates of unlisted and private (nobody) videos, of videos still
	// transcoding or failed, of names reused among siblings, of unicode names,
	// and of timestamps rendered with a non-UTC offset. Zero means the default
	// (0.15, 0.1, 0.05, 0.01, 0.1, 0.2, 0.2); negative means none.
	UnlistedRate       float64
	PrivateRate        float64
	TranscodingRate    float64
	TranscodeErrorRate float64
	DuplicateNameRate  float64
	UnicodeRate        float64
	OffsetRate         float64
	// Tags, if set, are given to every TagEvery-th video as it is uploaded
	// (TagEvery 0: 7), long before the account's Now, as a library that was
	// tagged over the years; the draws of the seed are unchanged.
	Tags     []string
	TagEvery int
	// Clock of the account; default the system clock. Every generated
	// timestamp lies at least an hour before its Now.
	Clock Clock
	// UserID and UserName of the owner.
	UserID   int64
	UserName string
}

func rate(v, def float64) float64 {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}

var (
	plainNames = []string{"Season 1", "Season 2", "Episodes", "Interviews", "B-roll", "Trailers", "Archive",
		"Onboarding", "Training", "Webinars", "Product", "Marketing", "Events", "2023", "2024", "Raw",
		"Final", "Drafts", "Customer stories", "Tutorials", "Keynotes", "Shorts", "Behind the scenes"}
	unicodeNames = []string{"Café ☕ sessions", "日本語のフォルダ", "Ünïcødé — tést", "Видео 2024", "עברית",
		"🎬 Premieres", "Ελληνικά", "中文 教程", "naïve façade", "Straße & Söhne", "한국어 영상", "  spaced  name  "}
	videoWords = []string{"Intro", "Trailer", "Interview", "Part", "Recap", "Demo", "Keynote", "Q&A", "Teaser",
		"Walkthrough", "Highlights", "Lesson", "Episode", "Clip"}
	offsets = []*time.Location{time.FixedZone("+04:00", 4*3600), time.FixedZone("-05:00", -5*3600),
		time.FixedZone("+05:30", 5*3600+1800)}
)

type genFolder struct {
	id    int64
	depth int
}

// Generate builds a reproducible account from opts and returns it with the id
// of the root folder of the generated library (a top-level folder).
func Generate(opts *GenerateOptions) (*Account, int64, error) {
	var o GenerateOptions
	if opts != nil {
		o = *opts
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Folders <= 0 {
		o.Folders = 40
	}
	if o.Videos < 0 {
		o.Videos = 0
	} else if o.Videos == 0 {
		o.Videos = 400
	}
	if o.MaxDepth <= 0 || o.MaxDepth > MaxDepth {
		o.MaxDepth = MaxDepth
	}
	if o.MaxDepth == 1 {
		o.Folders = 1 // only the root fits
	}
	switch {
	case o.WideFolders < 0:
		o.WideFolders = 0
	case o.WideFolders == 0 && o.Videos >= 150:
		o.WideFolders = 1
	}
	if o.OutsideFolders == 0 {
		o.OutsideFolders = 3
	} else if o.OutsideFolders < 0 {
		o.OutsideFolders = 0
	}
	if o.OutsideVideos == 0 {
		o.OutsideVideos = 10
	} else if o.OutsideVideos < 0 {
		o.OutsideVideos = 0
	}
	unlisted, private := rate(o.UnlistedRate, 0.15), rate(o.PrivateRate, 0.1)
	transcoding, failed := rate(o.TranscodingRate, 0.05), rate(o.TranscodeErrorRate, 0.01)
	dupRate, uniRate, offRate := rate(o.DuplicateNameRate, 0.1), rate(o.UnicodeRate, 0.2), rate(o.OffsetRate, 0.2)
	if o.Clock == nil {
		o.Clock = SystemClock()
	}

	rng := rand.New(rand.NewPCG(o.Seed, o.Seed*0x9e3779b97f4a7c15+1))
	a := NewAccount(&AccountOptions{UserID: o.UserID, UserName: o.UserName, Clock: o.Clock})

	// A timeline that ends an hour before now.
	total := o.Folders + o.Videos + o.OutsideFolders + o.OutsideVideos
	end := o.Clock.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	step := 240
	t := end.Add(-time.Duration(total*step) * time.Second)
	tick := func() time.Time {
		if rng.Float64() >= 0.05 { // sometimes two objects share a second
			t = t.Add(time.Duration(1+rng.IntN(2*step-1)) * time.Second)
		}
		if t.After(end) {
			t = end
		}
		return t
	}
	zone := func() *time.Location {
		if rng.Float64() < offRate {
			return offsets[rng.IntN(len(offsets))]
		}
		return nil
	}
	siblingsNames := map[int64][]string{}
	folderName := func(parent int64, n int) string {
		if sib := siblingsNames[parent]; len(sib) > 0 && rng.Float64() < dupRate {
			return sib[rng.IntN(len(sib))]
		}
		if rng.Float64() < uniRate {
			return unicodeNames[rng.IntN(len(unicodeNames))]
		}
		if rng.Float64() < 0.5 {
			return plainNames[rng.IntN(len(plainNames))]
		}
		return fmt.Sprintf("Folder %d", n)
	}
	newFolder := func(parent int64, name string) (int64, error) {
		id, err := a.createFolder(parent, name, tick(), zone())
		if err == nil {
			siblingsNames[parent] = append(siblingsNames[parent], name)
		}
		return id, err
	}
	videoN := 0
	tagEvery := o.TagEvery
	if tagEvery <= 0 {
		tagEvery = 7
	}
	newVideo := func(folder int64) error {
		videoN++
		spec := VideoSpec{Created: tick(), Zone: zone(), Duration: 30 + rng.IntN(3600)}
		if len(o.Tags) > 0 && (videoN-1)%tagEvery == 0 {
			spec.Tags = slices.Clone(o.Tags)
		}
		switch {
		case rng.Float64() < uniRate/2:
			spec.Name = fmt.Sprintf("%s %s %d", unicodeNames[rng.IntN(len(unicodeNames))], videoWords[rng.IntN(len(videoWords))], videoN)
		case rng.Float64() < dupRate:
			spec.Name = videoWords[rng.IntN(len(videoWords))]
		default:
			spec.Name = fmt.Sprintf("%s %d", videoWords[rng.IntN(len(videoWords))], videoN)
		}
		if rng.Float64() < 0.7 {
			spec.Description = fmt.Sprintf("Description of %q — generated, seed %d.", spec.Name, o.Seed)
		}
		switch p := rng.Float64(); {
		case p < unlisted:
			spec.Privacy = "unlisted"
		case p < unlisted+private:
			spec.Privacy = "nobody"
		case p < unlisted+private+0.02:
			spec.Privacy = "disable"
		default:
			spec.Privacy = "anybody"
		}
		switch p := rng.Float64(); {
		case p < failed:
			spec.Transcode = "error"
		case p < failed+transcoding:
			spec.Transcode = "in_progress"
		}
		_, err := a.CreateVideo(folder, spec)
		return err
	}

	root, err := newFolder(0, "Library")
	if err != nil {
		return nil, 0, err
	}
	folders := []genFolder{{root, 1}}
	// One chain to the deepest level.
	for prev := root; len(folders) < o.Folders && folders[len(folders)-1].depth < o.MaxDepth; {
		d := folders[len(folders)-1].depth + 1
		id, err := newFolder(prev, fmt.Sprintf("Level %d", d))
		if err != nil {
			return nil, 0, err
		}
		folders = append(folders, genFolder{id, d})
		prev = id
	}
	for len(folders) < o.Folders {
		var parent genFolder
		if rng.Float64() < 0.35 {
			parent = folders[len(folders)-1]
		} else {
			parent = folders[rng.IntN(len(folders))]
		}
		if parent.depth >= o.MaxDepth {
			parent = folders[rng.IntN(len(folders))]
			if parent.depth >= o.MaxDepth {
				continue
			}
		}
		id, err := newFolder(parent.id, folderName(parent.id, len(folders)))
		if err != nil {
			return nil, 0, err
		}
		folders = append(folders, genFolder{id, parent.depth + 1})
	}

	// Wide folders first, then the rest at random.
	left := o.Videos
	perm := rng.Perm(len(folders))
	for i := 0; i < o.WideFolders && i < len(perm) && left > 0; i++ {
		n := min(left, 101+rng.IntN(80))
		f := folders[perm[i]].id
		// Subfolders count toward the listing; videos fill the rest.
		for range n {
			if err := newVideo(f); err != nil {
				return nil, 0, err
			}
		}
		left -= n
	}
	for ; left > 0; left-- {
		if err := newVideo(folders[rng.IntN(len(folders))].id); err != nil {
			return nil, 0, err
		}
	}

	// The rest of the account.
	var outside []int64
	for i := range o.OutsideFolders {
		parent := int64(0)
		if len(outside) > 0 && rng.Float64() < 0.5 {
			parent = outside[rng.IntN(len(outside))]
		}
		id, err := newFolder(parent, fmt.Sprintf("Elsewhere %d", i+1))
		if err != nil {
			return nil, 0, err
		}
		outside = append(outside, id)
	}
	for range o.OutsideVideos {
		f := int64(0)
		if len(outside) > 0 && rng.Float64() < 0.6 {
			f = outside[rng.IntN(len(outside))]
		}
		if err := newVideo(f); err != nil {
			return nil, 0, err
		}
	}
	return a, root, nil
}
