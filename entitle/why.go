package entitle

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Explanation is the admin's answer to "why can (or can't) this audience see
// this video, and what would change it": the Decision of Explain, every level
// looked at with the rules found there, and the single rule changes that would
// flip the decision. It is built by (*Index).ExplainDetail.
type Explanation struct {
	Decision
	VideoID  string
	Title    string // the video's title in the snapshot ("" if unknown)
	Audience string // AudienceLabel of the audience asked about
	// Video is level 0: the rules that target the video itself. Zero (no
	// rules) when the video is not in the library.
	Video Level
	// Paths are the placements of the video in live folders, in the order
	// the snapshot lists them, each walked root first down to the folder
	// holding the video. Empty when the video is not in the library.
	Paths []Path
	// Changes are single rule changes that flip the decision, each verified
	// by evaluating the rules with the change made: removing one existing
	// rule, or adding one rule for SuggestSubject(audience). Most specific
	// first (removals, then additions on the video, then on folders from the
	// placement folder up). Empty when no single change flips it, and for
	// videos that are not in the library (no rule can show them).
	Changes []Counterfactual
}

// Level is one target looked at by Explain: the video itself or a folder on
// a placement's chain.
type Level struct {
	Level  int    // 0 the video, 1 the folder holding it, 2 that folder's parent, …
	Target Target // video:<id> or folder:<id>
	Name   string // the folder's name or the video's title
	// Matched are the rules on this target whose subject the audience has;
	// Other are the rules on this target for other subjects (they never
	// decide for this audience). Both by ascending id.
	Matched []Rule
	Other   []Rule
	// Decides is true on the first level of the chain where a rule matched
	// (for the video level: when a rule matched there, deciding every
	// placement).
	Decides bool
}

// Path is one placement of the video walked from the top-level folder down.
type Path struct {
	Via     string  // the folder the video is placed in
	Levels  []Level // top-level folder first, Via last
	Allowed bool    // the outcome along this placement, video level included
}

// ChangeAction is what a Counterfactual does to the rules.
type ChangeAction string

// Counterfactual actions.
const (
	RemoveRule ChangeAction = "remove" // remove an existing rule (Rule.ID)
	AddRule    ChangeAction = "add"    // add Rule (ID 0)
)

// Counterfactual is one rule change that flips the decision for the audience.
type Counterfactual struct {
	Action  ChangeAction
	Rule    Rule // the rule to remove, or to add (ID 0)
	Allowed bool // the decision once the change is made
	Text    string
}

// SuggestSubject is the subject an added rule should name to change the
// answer for this audience and as few others as possible: the user when the
// audience has one, else its first role, else its first segment, else
// everyone (public for Anonymous). Any subject the audience has would change
// its answer equally.
func SuggestSubject(a Audience) Subject {
	switch {
	case a.anon:
		return Subject{Kind: Public}
	case a.user != "":
		return Subject{Kind: User, Name: a.user}
	case len(a.roles) > 0:
		return Subject{Kind: Role, Name: a.roles[0]}
	case len(a.segments) > 0:
		return Subject{Kind: Segment, Name: a.segments[0].key, Value: a.segments[0].value}
	}
	return Subject{Kind: Everyone}
}

// AudienceLabel names an audience for people: "user:u1 role:a segment:k=v",
// "everyone" for an audience with nothing but the signed-in user, or
// "public" for Anonymous (the subjects it has).
func AudienceLabel(a Audience) string {
	if a.anon {
		return string(Public)
	}
	var parts []string
	if a.user != "" {
		parts = append(parts, "user:"+a.user)
	}
	for _, r := range a.roles {
		parts = append(parts, "role:"+r)
	}
	for _, s := range a.segments {
		parts = append(parts, "segment:"+s.key+"="+s.value)
	}
	if len(parts) == 0 {
		return string(Everyone)
	}
	return strings.Join(parts, " ")
}

// SubjectAudience is the audience that has exactly one subject (and
// everyone and public): what a rule subject alone can see; for public it is
// Anonymous. Pass it where an Audience is
// wanted to ask about a role or a segment rather than a user.
func SubjectAudience(s Subject) Audience {
	switch s.Kind {
	case Public:
		return Anonymous()
	case Role:
		return NewAudience("", []string{s.Name}, nil)
	case Segment:
		return NewAudience("", nil, map[string]string{s.Name: s.Value})
	case User:
		return NewAudience(s.Name, nil, nil)
	}
	return NewAudience("", nil, nil)
}

// what is a hypothetical edit of the rules, seen by one audience: one rule
// left out, and/or one rule the audience matches added at a level.
type what struct {
	without   int32 // index into x.rules, -1 none
	addVideo  bool  // add at the video level
	addFolder int32 // add at this folder, -1 none
	addDeny   bool
}

var noEdit = what{without: -1, addFolder: -1}

// level applies one level under an edit: whether a rule matched, and whether
// the level allows.
func (x *Index) level(m []int32, rules []int32, add bool, e what) (decided, allowed bool) {
	deny, allow := false, false
	for _, ri := range rules {
		if ri == e.without {
			continue
		}
		if _, ok := slices.BinarySearch(m, x.ruleSubj[ri]); ok {
			decided = true
			deny = deny || x.rules[ri].Effect == Deny
			allow = allow || x.rules[ri].Effect == Allow
		}
	}
	if add {
		decided = true
		deny = deny || e.addDeny
		allow = allow || !e.addDeny
	}
	return decided, allow && !deny // a level decided by teasers alone does not allow
}

// allowedUnder evaluates §5 for candidate video vi under an edit.
func (x *Index) allowedUnder(m []int32, vi int32, e what) bool {
	if d, a := x.level(m, x.videoRules[vi], e.addVideo, e); d {
		return a
	}
	for _, f := range x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]] {
		for cur := f; cur >= 0; cur = x.parent[cur] {
			if d, a := x.level(m, x.folderRules[cur], e.addFolder == cur, e); d {
				if a {
					return true
				}
				break
			}
		}
	}
	return false
}

// ExplainDetail is Explain with everything an admin needs to act on it: the
// levels walked with the matching and non-matching rules at each, and the
// single rule changes that would flip the decision (each checked by
// re-evaluating the rules with the change made). It works for any audience,
// including one with no user (roles and segments only; see SubjectAudience).
// Like Explain it is not cached; its cost is a few walks up the video's
// chains, independent of the library's size.
func (x *Index) ExplainDetail(a Audience, videoID string) Explanation {
	e := Explanation{Decision: x.Explain(a, videoID), VideoID: videoID, Audience: AudienceLabel(a)}
	if v := x.snap.Video(videoID); v != nil {
		e.Title = v.Title
	}
	vi, ok := x.videoPos(videoID)
	if !ok || (e.Reason != ReasonRule && e.Reason != ReasonNoRule) {
		return e
	}
	m := x.match(a).ids
	e.Video = x.levelOf(m, x.videoRules[vi], 0, Target{Kind: VideoTarget, ID: videoID}, e.Title)
	videoDecides := len(e.Video.Matched) > 0
	e.Video.Decides = videoDecides

	// The chains, and the candidate changes along them.
	var removals []int32
	seenRule := map[int32]bool{}
	addRemoval := func(rules []int32) {
		for _, ri := range rules {
			if _, ok := slices.BinarySearch(m, x.ruleSubj[ri]); ok && !seenRule[ri] {
				seenRule[ri] = true
				removals = append(removals, ri)
			}
		}
	}
	addRemoval(x.videoRules[vi])
	var folders []int32 // candidate folders for an added rule, most specific first
	seenFolder := map[int32]bool{}
	for _, f := range x.placeFolder[x.placeStart[vi]:x.placeStart[vi+1]] {
		p := Path{Via: x.folderIDs[f]}
		decided := videoDecides
		for level, cur := 1, f; cur >= 0; level, cur = level+1, x.parent[cur] {
			id := x.folderIDs[cur]
			l := x.levelOf(m, x.folderRules[cur], level, Target{Kind: FolderTarget, ID: id}, x.snap.Folder(id).Name)
			if !decided && len(l.Matched) > 0 {
				decided, l.Decides = true, true
			}
			p.Levels = append(p.Levels, l)
			addRemoval(x.folderRules[cur])
			if !seenFolder[cur] {
				seenFolder[cur] = true
				folders = append(folders, cur)
			}
		}
		slices.Reverse(p.Levels)
		p.Allowed = x.allowedVia(m, vi, f)
		e.Paths = append(e.Paths, p)
	}

	// Removals: every matching rule on the chains (no other rule takes part
	// in the decision).
	slices.Sort(removals) // by rule id: x.rules is sorted by id
	for _, ri := range removals {
		ed := noEdit
		ed.without = ri
		if got := x.allowedUnder(m, vi, ed); got != e.Allowed {
			r := x.rules[ri]
			e.Changes = append(e.Changes, Counterfactual{Action: RemoveRule, Rule: r, Allowed: got,
				Text: fmt.Sprintf("removing rule #%d (%s) would %s it", r.ID, x.DescribeRule(r), verb(got))})
		}
	}
	// Additions: a rule of the opposite effect for the suggested subject, on
	// the video or on a folder of a chain. A store keeps one rule per subject
	// and target, so a target that already has a rule for that subject is
	// not proposed (removing or changing that rule is the way).
	sub := SuggestSubject(a)
	eff, deny := Allow, false
	if e.Allowed {
		eff, deny = Deny, true
	}
	try := func(t Target, rules []int32, ed what) {
		for _, ri := range rules {
			if x.rules[ri].Subject == sub {
				return
			}
		}
		ed.addDeny = deny
		if got := x.allowedUnder(m, vi, ed); got != e.Allowed {
			r := Rule{Subject: sub, Target: t, Effect: eff}
			e.Changes = append(e.Changes, Counterfactual{Action: AddRule, Rule: r, Allowed: got,
				Text: fmt.Sprintf("adding %s would %s it", x.DescribeRule(r), verb(got))})
		}
	}
	ed := noEdit
	ed.addVideo = true
	try(Target{Kind: VideoTarget, ID: videoID}, x.videoRules[vi], ed)
	for _, f := range folders {
		ed := noEdit
		ed.addFolder = f
		try(Target{Kind: FolderTarget, ID: x.folderIDs[f]}, x.folderRules[f], ed)
	}
	return e
}

// allowedVia evaluates one placement's chain (video level included).
func (x *Index) allowedVia(m []int32, vi, f int32) bool {
	if d, a := x.level(m, x.videoRules[vi], false, noEdit); d {
		return a
	}
	for cur := f; cur >= 0; cur = x.parent[cur] {
		if d, a := x.level(m, x.folderRules[cur], false, noEdit); d {
			return a
		}
	}
	return false
}

func (x *Index) levelOf(m []int32, rules []int32, level int, t Target, name string) Level {
	l := Level{Level: level, Target: t, Name: name}
	for _, ri := range rules {
		if _, ok := slices.BinarySearch(m, x.ruleSubj[ri]); ok {
			l.Matched = append(l.Matched, x.rules[ri])
		} else {
			l.Other = append(l.Other, x.rules[ri])
		}
	}
	return l
}

func verb(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

// DescribeRule renders a rule for people, with the target's name from the
// snapshot: "deny for role:member on folder 'Sales' (123)". The rule's id is
// not included.
func (x *Index) DescribeRule(r Rule) string {
	eff := string(r.Effect)
	if r.Effect == Teaser {
		eff += " (" + string(r.LockReason) + ")"
	}
	return eff + " for " + r.Subject.String() + " on " + x.DescribeTarget(r.Target)
}

// DescribeTarget renders a target with its name: "folder 'Sales' (123)",
// "video 'Q3 review' (456)"; an id the snapshot does not know is shown bare.
func (x *Index) DescribeTarget(t Target) string {
	name := ""
	switch t.Kind {
	case FolderTarget:
		if f := x.snap.Folder(t.ID); f != nil {
			name = f.Name
		}
	case VideoTarget:
		if v := x.snap.Video(t.ID); v != nil {
			name = v.Title
		}
	}
	if name == "" {
		return string(t.Kind) + " " + t.ID
	}
	return string(t.Kind) + " " + strconv.Quote(name) + " (" + t.ID + ")"
}

// String says the decision and what would change it in a few sentences.
func (e Explanation) String() string {
	var b strings.Builder
	seeing := map[bool]string{true: "may see", false: "may not see"}[e.Allowed]
	if e.Locked {
		seeing = "sees locked (" + string(e.LockReason) + ")"
	}
	fmt.Fprintf(&b, "%s: %s video %s: ", e.Audience, seeing, quoteOr(e.Title, e.VideoID))
	switch e.Reason {
	case ReasonRule:
		eff := string(e.Rule.Effect)
		if e.Rule.Effect == Teaser {
			eff += " " + string(e.Rule.LockReason)
		}
		fmt.Fprintf(&b, "rule #%d (%s %s) decides at level %d (%s)", e.Rule.ID, eff, e.Rule.Subject, e.Level, e.Target)
	case ReasonNoRule:
		b.WriteString("no rule matches at any level (default deny)")
	case ReasonNotInLibrary:
		b.WriteString("the video is not in the library (unknown, or not placed in a live folder)")
	case ReasonDeleted:
		b.WriteString("the video is deleted in the mirror")
	case ReasonHidden:
		b.WriteString("an admin hid the video")
	case ReasonNotPlayable:
		b.WriteString("the video is not playable in Vimeo")
	case ReasonPrivacy:
		b.WriteString("Vimeo's privacy settings keep the player from playing it for app users (" + e.Detail + ")")
	}
	b.WriteString(".")
	for i, c := range e.Changes {
		if i == 0 {
			b.WriteString(" To change it: ")
		} else {
			b.WriteString("; or ")
		}
		b.WriteString(c.Text)
	}
	if len(e.Changes) > 0 {
		b.WriteString(".")
	}
	return b.String()
}

func quoteOr(name, id string) string {
	if name == "" {
		return id
	}
	return strconv.Quote(name) + " (" + id + ")"
}
