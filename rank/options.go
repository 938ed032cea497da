package rank

import (
	"fmt"
	"time"
)

// Defaults of Options.
const (
	DefaultSize            = 200
	DefaultTopWindow       = 10
	DefaultMaxPerFolder    = 3
	DefaultCandidates      = 300
	DefaultAffinityFolders = 6
	DefaultFreshHalfLife   = 30 * 24 * time.Hour
	DefaultRecencyHalfLife = 14 * 24 * time.Hour
)

// Options tune a Model. The zero value (and nil) is valid.
type Options struct {
	// Size is how many videos a feed holds (default DefaultSize).
	Size int
	// TopWindow and MaxPerFolder are the diversity rule: the first TopWindow
	// items hold at most MaxPerFolder videos of one folder (defaults 10, 3).
	TopWindow    int
	MaxPerFolder int
	// Candidates bounds the candidates taken from each source (popular in the
	// audience, newest, each affinity folder) before scoring (default 300).
	Candidates int
	// AffinityFolders bounds the folders, by the user's affinity, whose
	// subtrees give candidates (default 6).
	AffinityFolders int
	// FreshHalfLife is the age at which a video's freshness halves (30 days);
	// RecencyHalfLife the age at which a watch counts half (14 days).
	FreshHalfLife   time.Duration
	RecencyHalfLife time.Duration
	// Scorer scores Features (nil: Linear with DefaultWeights).
	Scorer Scorer
	// Now is the clock (nil: time.Now), read once per Model.
	Now func() time.Time
}

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Size < 0 || r.TopWindow < 0 || r.MaxPerFolder < 0 || r.Candidates < 0 || r.AffinityFolders < 0 ||
		r.FreshHalfLife < 0 || r.RecencyHalfLife < 0 {
		return r, fmt.Errorf("%w: options must not be negative", ErrInvalid)
	}
	def := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	def(&r.Size, DefaultSize)
	def(&r.TopWindow, DefaultTopWindow)
	def(&r.MaxPerFolder, DefaultMaxPerFolder)
	def(&r.Candidates, DefaultCandidates)
	def(&r.AffinityFolders, DefaultAffinityFolders)
	if r.FreshHalfLife == 0 {
		r.FreshHalfLife = DefaultFreshHalfLife
	}
	if r.RecencyHalfLife == 0 {
		r.RecencyHalfLife = DefaultRecencyHalfLife
	}
	if r.Scorer == nil {
		r.Scorer = Linear{Weights: DefaultWeights}
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r, nil
}
