package entitle

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// PreviewExamples is how many example video ids a Delta carries each way.
const PreviewExamples = 5

// RuleChange is a proposed change of the rules: add one rule, or remove one
// by id. Exactly one of Add and Remove is set.
type RuleChange struct {
	Add    *Rule // the rule to add; its ID is ignored
	Remove int64 // the id of the rule to remove
}

// Preview is the effect of a RuleChange on a list of audiences, computed from
// the compiled indexes before and after the change.
type Preview struct {
	// Rule is the rule added (ID 0) or removed; Removed says which.
	Rule    Rule
	Removed bool
	// After is the Index with the change made (same snapshot and version),
	// for further questions about the proposed state.
	After *Index
	// Deltas are the audiences whose library changes, most changed first.
	Deltas []Delta
	// Unchanged counts the audiences that have the rule's subject but whose
	// library does not change (another rule decides first for all of them);
	// NotMatching counts those without the rule's subject, which cannot
	// change (see Index.Preview) and were not computed.
	Unchanged, NotMatching int
	// Text is a sentence for people: what the change is and what it does.
	Text string
}

// Delta is what one audience gains and loses.
type Delta struct {
	Key   string // the audience's CacheKey in the Index before the change
	Label string // AudienceLabel
	// Counts of videos the audience may watch and of folders that become
	// visible (Added) or invisible (Removed), and of videos that start or
	// stop being listed locked by a teaser.
	VideosAdded, VideosRemoved   int
	FoldersAdded, FoldersRemoved int
	LockedAdded, LockedRemoved   int
	// Up to PreviewExamples ids each way, in video id order.
	ExampleAdded, ExampleRemoved []string
	Text                         string // "+1,204 videos, +12 folders"
}

// Preview computes what a rule change would do to each audience's library,
// without storing anything. It derives a second Index with the changed rule
// set (WithRules) and compares the two Views of each audience that can be affected.
//
// Only audiences that have the changed rule's subject are computed. Proof:
// under §5 a decision for an audience depends only on the rules whose subject
// the audience has (a level is decided by the matching rules alone; rules of
// other subjects are passed over, see the oracle's has filter). The rule sets
// before and after differ in exactly the changed rule, so for an audience
// without its subject the matching rules, hence every video and folder
// decision, are the same: its View cannot change. TestPreviewAgreesWithOracle
// checks this against the oracle for the audiences skipped.
//
// Errors: ErrInvalid for a bad or ambiguous change, ErrNotFound for an
// unknown rule id, ErrDuplicate for an added rule whose subject and target
// already have a rule (the store would refuse it too).
func (x *Index) Preview(change RuleChange, audiences []Audience) (*Preview, error) {
	p := &Preview{}
	var rules []Rule
	switch {
	case (change.Add == nil) == (change.Remove == 0):
		return nil, fmt.Errorf("%w: a rule change adds one rule or removes one", ErrInvalid)
	case change.Add != nil:
		r, err := canonical(*change.Add)
		if err != nil {
			return nil, err
		}
		var maxID int64
		for _, o := range x.rules {
			if o.Subject == r.Subject && o.Target == r.Target {
				return nil, fmt.Errorf("%w: rule %d already names %s on %s", ErrDuplicate, o.ID, r.Subject, r.Target)
			}
			maxID = max(maxID, o.ID)
		}
		r.ID = 0
		p.Rule = r
		r.ID = maxID + 1 // sorts last; ids only order Explain's report
		rules = append(slices.Clone(x.rules), r)
	default:
		i := slices.IndexFunc(x.rules, func(r Rule) bool { return r.ID == change.Remove })
		if i < 0 {
			return nil, fmt.Errorf("%w: rule %d", ErrNotFound, change.Remove)
		}
		p.Rule, p.Removed = x.rules[i], true
		rules = slices.Delete(slices.Clone(x.rules), i, i+1)
	}
	after, err := x.WithRules(rules, x.version)
	if err != nil {
		return nil, err
	}
	p.After = after

	type pair struct{ before, after *View }
	memo := map[pair]Delta{}
	for _, a := range audiences {
		if !a.Matches(p.Rule.Subject) {
			p.NotMatching++
			continue
		}
		k := pair{x.Visible(a), after.Visible(a)}
		d, ok := memo[k]
		if !ok {
			d = diffViews(k.before, k.after)
			memo[k] = d
		}
		if d.VideosAdded+d.VideosRemoved+d.FoldersAdded+d.FoldersRemoved+d.LockedAdded+d.LockedRemoved == 0 {
			p.Unchanged++
			continue
		}
		d.Key, d.Label = x.CacheKey(a), AudienceLabel(a)
		p.Deltas = append(p.Deltas, d)
	}
	slices.SortStableFunc(p.Deltas, func(a, b Delta) int {
		return cmp.Or(
			cmp.Compare(b.VideosAdded+b.VideosRemoved, a.VideosAdded+a.VideosRemoved),
			cmp.Compare(b.FoldersAdded+b.FoldersRemoved, a.FoldersAdded+a.FoldersRemoved),
			cmp.Compare(a.Label, b.Label))
	})
	p.Text = x.previewText(p)
	return p, nil
}

// diffViews compares two Views of one snapshot (positions are the same in
// every Index of a snapshot).
func diffViews(before, after *View) Delta {
	var d Delta
	lay := before.lay
	bv, av := before.bits(), after.bits()
	for w := range bv.videos {
		o, n := bv.videos[w], av.videos[w]
		d.VideosAdded += bits.OnesCount64(n &^ o)
		d.VideosRemoved += bits.OnesCount64(o &^ n)
		lo, ln := bv.listed[w]&^o, av.listed[w]&^n // locked: listed, not watchable
		d.LockedAdded += bits.OnesCount64(ln &^ lo)
		d.LockedRemoved += bits.OnesCount64(lo &^ ln)
	}
	// Examples: the first few ids, in id order.
	for _, i := range lay.byID {
		if len(d.ExampleAdded) == min(d.VideosAdded, PreviewExamples) && len(d.ExampleRemoved) == min(d.VideosRemoved, PreviewExamples) {
			break
		}
		o, n := hasBit(bv.videos, i), hasBit(av.videos, i)
		switch {
		case n && !o && len(d.ExampleAdded) < PreviewExamples:
			d.ExampleAdded = append(d.ExampleAdded, lay.videoIDs[i])
		case o && !n && len(d.ExampleRemoved) < PreviewExamples:
			d.ExampleRemoved = append(d.ExampleRemoved, lay.videoIDs[i])
		}
	}
	for w := range bv.folders {
		o, n := bv.folders[w], av.folders[w]
		d.FoldersAdded += bits.OnesCount64(n &^ o)
		d.FoldersRemoved += bits.OnesCount64(o &^ n)
	}
	d.Text = deltaText(d)
	return d
}

func deltaText(d Delta) string {
	var parts []string
	add := func(n int, sign, what string) {
		if n > 0 {
			unit := what + "s"
			if n == 1 {
				unit = what
			}
			parts = append(parts, sign+thousands(n)+" "+unit)
		}
	}
	add(d.VideosAdded, "+", "video")
	add(d.VideosRemoved, "−", "video")
	add(d.FoldersAdded, "+", "folder")
	add(d.FoldersRemoved, "−", "folder")
	add(d.LockedAdded, "+", "locked video")
	add(d.LockedRemoved, "−", "locked video")
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// thousands formats n with comma separators: 1,204.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (x *Index) previewText(p *Preview) string {
	var b strings.Builder
	if p.Removed {
		fmt.Fprintf(&b, "Removing rule #%d (%s)", p.Rule.ID, x.DescribeRule(p.Rule))
	} else {
		fmt.Fprintf(&b, "Adding %s", x.DescribeRule(p.Rule))
	}
	if len(p.Deltas) == 0 {
		b.WriteString(" changes nothing for the audiences given.")
		return b.String()
	}
	b.WriteString(": ")
	const shown = 3
	for i, d := range p.Deltas[:min(shown, len(p.Deltas))] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Text + " for " + d.Label)
	}
	if n := len(p.Deltas) - shown; n > 0 {
		fmt.Fprintf(&b, "; and %s more audiences change", thousands(n))
	}
	if n := p.Unchanged + p.NotMatching; n > 0 {
		fmt.Fprintf(&b, "; %s unchanged", thousands(n))
	}
	b.WriteString(".")
	return b.String()
}
