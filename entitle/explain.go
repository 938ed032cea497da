package entitle

import "slices"

// Reason says why a Decision came out as it did.
type Reason string

// Reasons.
const (
	ReasonRule         Reason = "rule"           // a rule at Level decided
	ReasonNoRule       Reason = "no_rule"        // no rule matched at any level: default deny
	ReasonNotInLibrary Reason = "not_in_library" // unknown video, or not placed in any live folder
	ReasonDeleted      Reason = "deleted"        // soft-deleted in the mirror
	ReasonHidden       Reason = "hidden"         // hidden by an admin
	ReasonNotPlayable  Reason = "not_playable"   // not available in Vimeo (transcoding, error, lost)
	ReasonPrivacy      Reason = "vimeo_privacy"  // Vimeo's privacy keeps the embed from playing (Detail says how)
)

// Decision is the answer of Explain: whether the audience may watch the
// video, whether a teaser lists it locked instead, and what decided it.
type Decision struct {
	Allowed bool
	// Locked: not allowed, but a teaser rule lists the video locked for
	// LockReason (Rule is that teaser rule).
	Locked     bool
	LockReason LockReason
	Reason     Reason
	// Rule is the rule that decided (ReasonRule only): the lowest-id matching
	// deny rule at Level when denied, else the lowest-id matching allow rule
	// when allowed, else the lowest-id matching teaser rule when locked.
	Rule *Rule
	// Level is where the decision was made: 0 the video itself, 1 the folder the
	// video is placed in, 2 that folder's parent, and so on; -1 when no level
	// decided.
	Level int
	// Target is the level's target: video:<id> or folder:<id> (zero at Level -1).
	Target Target
	// Via is the folder of the placement the decision was taken along ("" for a
	// video-level decision or none).
	Via string
	// Detail says which Vimeo privacy setting blocks the embed
	// (ReasonPrivacy only; tree.Video.EmbedBlock).
	Detail string
}

// Explain decides like Check (and View.Locked) and says why. For a video
// placed in several folders: a video-level rule decides for all placements;
// otherwise each placement is evaluated along its own ancestor chain and the
// first allowed placement (in FoldersOf order) is reported, else the first
// placement a teaser locked, else the first placement a rule denied, else the
// default deny. Explain is not cached; it costs a walk up the tree per
// placement.
func (x *Index) Explain(a Audience, videoID string) Decision {
	no := Decision{Level: -1}
	v := x.snap.Video(videoID)
	switch {
	case v == nil:
		no.Reason = ReasonNotInLibrary
		return no
	case v.Deleted():
		no.Reason = ReasonDeleted
		return no
	case v.Hidden:
		no.Reason = ReasonHidden
		return no
	case !v.Status.Playable():
		no.Reason = ReasonNotPlayable
		return no
	}
	if why := v.EmbedBlock(x.allowPwd); why != "" {
		no.Reason, no.Detail = ReasonPrivacy, why
		return no
	}
	vi, ok := x.videoPos(videoID)
	if !ok {
		no.Reason = ReasonNotInLibrary
		return no
	}
	m := x.match(a).ids
	if d, ok := x.decide(m, x.videoRules[vi]); ok {
		d.Level, d.Target = 0, Target{Kind: VideoTarget, ID: videoID}
		return d
	}
	var denied, locked *Decision
	for _, f := range x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]] {
		via := x.folderIDs[f]
		for level, cur := 1, f; cur >= 0; level, cur = level+1, x.parent[cur] {
			d, ok := x.decide(m, x.folderRules[cur])
			if !ok {
				continue
			}
			d.Level, d.Target, d.Via = level, Target{Kind: FolderTarget, ID: x.folderIDs[cur]}, via
			switch {
			case d.Allowed:
				return d
			case d.Locked && locked == nil:
				locked = &d
			case !d.Locked && denied == nil:
				denied = &d
			}
			break
		}
	}
	if locked != nil {
		return *locked
	}
	if denied != nil {
		return *denied
	}
	no.Reason = ReasonNoRule
	return no
}

// decide applies one level: of the rules there (indexes into x.rules, by
// ascending id) those whose subject the audience has; none → not decided.
func (x *Index) decide(subjects []int32, rules []int32) (Decision, bool) {
	var allow, deny, teaser *Rule
	for _, ri := range rules {
		r := &x.rules[ri]
		if _, ok := slices.BinarySearch(subjects, x.ruleSubj[ri]); !ok {
			continue
		}
		switch {
		case r.Effect == Deny && deny == nil:
			deny = r
		case r.Effect == Allow && allow == nil:
			allow = r
		case r.Effect == Teaser && teaser == nil:
			teaser = r
		}
	}
	switch {
	case deny != nil:
		c := *deny
		return Decision{Allowed: false, Reason: ReasonRule, Rule: &c}, true
	case allow != nil:
		c := *allow
		return Decision{Allowed: true, Reason: ReasonRule, Rule: &c}, true
	case teaser != nil:
		c := *teaser
		return Decision{Locked: true, LockReason: c.LockReason, Reason: ReasonRule, Rule: &c}, true
	}
	return Decision{}, false
}
