package entitle

import (
	"slices"

	"github.com/vidlib/vidlib/tree"
)

// The oracle: ARCHITECTURE.md §5 applied literally, one question at a time, with
// nothing but the snapshot's public API and a linear scan of the rule list. It
// shares no code with the Index (not even Audience); it is deliberately slow
// and simple so that it is obviously right.
//
// The documented choices it follows (see doc.go):
//   - a video is visible iff it is playable (not hidden, not deleted, available)
//     and at least one of its placements, in a live folder, allows it;
//   - a placement in folder F is evaluated along its own chain: the video, F,
//     F's parent, …, the top-level folder; at the first level where a rule
//     matches one of the audience's subjects, any matching deny denies, else
//     any matching allow allows, else the matching teasers lock (the lowest
//     rule id gives the reason); no matching level denies;
//   - public matches every audience, anonymous or not; everyone matches
//     signed-in audiences only; an anonymous audience has nothing else;
//   - a video no placement allows is locked if some placement locks it (the
//     first such placement's reason);
//   - a folder is live iff neither it nor an ancestor is soft-deleted;
//   - a folder is visible iff it is live and some placement in its subtree
//     (a video in a live folder of the subtree) is allowed or locked along
//     that placement's chain.

type oracleAudience struct {
	anon     bool // an anonymous visitor: only public rules apply
	user     string
	roles    []string
	segments map[string]string
}

func (a oracleAudience) has(s Subject) bool {
	if a.anon {
		return s.Kind == Public
	}
	switch s.Kind {
	case Public, Everyone:
		return true
	case Role:
		return slices.Contains(a.roles, s.Name)
	case Segment:
		v, ok := a.segments[s.Name]
		return ok && v == s.Value
	case User:
		return a.user != "" && s.Name == a.user
	}
	return false
}

// oracleOutcome is one answer: allowed (may watch), locked by a teaser for
// lock, or neither.
type oracleOutcome struct {
	allowed bool
	lock    LockReason
}

func (o oracleOutcome) listed() bool { return o.allowed || o.lock != "" }

// oracleLevel: do any rules on this target match the audience, and what do
// they say? Deny beats allow, allow beats teaser; among teasers the lowest
// rule id gives the lock reason.
func oracleLevel(rules []Rule, a oracleAudience, target Target) (decided bool, out oracleOutcome) {
	deny, allow := false, false
	var teaser *Rule
	for i, r := range rules {
		if r.Target.Kind == target.Kind && r.Target.ID == target.ID && a.has(r.Subject) {
			decided = true
			switch r.Effect {
			case Deny:
				deny = true
			case Allow:
				allow = true
			case Teaser:
				if teaser == nil || r.ID < teaser.ID {
					teaser = &rules[i]
				}
			}
		}
	}
	switch {
	case deny:
	case allow:
		out.allowed = true
	case teaser != nil:
		out.lock = teaser.LockReason
	}
	return decided, out
}

func oracleLive(s *tree.Snapshot, folder string) bool {
	f := s.Folder(folder)
	if f == nil || f.Deleted() {
		return false
	}
	for _, anc := range s.Ancestors(folder) {
		if s.Folder(anc).Deleted() {
			return false
		}
	}
	return true
}

// oracleVia: is the video allowed along the chain of its placement in folder?
func oracleVia(s *tree.Snapshot, rules []Rule, a oracleAudience, video, folder string) bool {
	return oracleViaOutcome(s, rules, a, video, folder).allowed
}

// oracleViaOutcome: what the chain of the video's placement in folder says.
func oracleViaOutcome(s *tree.Snapshot, rules []Rule, a oracleAudience, video, folder string) oracleOutcome {
	if v := s.Video(video); !v.Playable() || !oracleEmbeddable(v) || !oracleLive(s, folder) {
		return oracleOutcome{}
	}
	chain := []Target{{Kind: VideoTarget, ID: video}, {Kind: FolderTarget, ID: folder}}
	for _, anc := range s.Ancestors(folder) {
		chain = append(chain, Target{Kind: FolderTarget, ID: anc})
	}
	for _, level := range chain {
		if decided, out := oracleLevel(rules, a, level); decided {
			return out
		}
	}
	return oracleOutcome{}
}

// placement names one placement: a video in a folder.
type placement struct{ folder, video string }

// oracleVideo answers "may the audience watch the video"; via, if not nil,
// records for oracleFolders whether each placement lists it (allowed or
// locked).
func oracleVideo(s *tree.Snapshot, rules []Rule, a oracleAudience, video string, via map[placement]bool) bool {
	return oracleVideoOutcome(s, rules, a, video, via).allowed
}

// oracleVideoOutcome: allowed if some placement allows; else locked with the
// reason of the first placement (FoldersOf order) a teaser locks; else
// neither.
func oracleVideoOutcome(s *tree.Snapshot, rules []Rule, a oracleAudience, video string, via map[placement]bool) oracleOutcome {
	if s.Video(video) == nil {
		return oracleOutcome{}
	}
	var out oracleOutcome
	for _, f := range s.FoldersOf(video) {
		o := oracleViaOutcome(s, rules, a, video, f)
		if via != nil {
			via[placement{f, video}] = o.listed()
		}
		if o.allowed {
			out = oracleOutcome{allowed: true}
		} else if !out.allowed && out.lock == "" {
			out.lock = o.lock
		}
	}
	return out
}

// oracleFolders returns the visible folders, given whether each placement
// lists its video, as recorded by oracleVideo.
func oracleFolders(s *tree.Snapshot, via map[placement]bool) map[string]bool {
	out := make(map[string]bool)
	for _, f := range s.FolderIDs() {
		if !oracleLive(s, f) {
			continue
		}
	search:
		for _, g := range s.Subtree(f) {
			for _, p := range s.Contents(g) {
				if via[placement{g, p.VideoVimeoID}] {
					out[f] = true
					break search
				}
			}
		}
	}
	return out
}

// oracleEmbeddable: Vimeo's privacy lets the embedded player play the video
// for app users (password videos not allowed: the Index's default).
func oracleEmbeddable(v *tree.Video) bool {
	switch v.Visibility {
	case tree.VisibilityNobody, tree.VisibilityPassword, tree.VisibilityUsers, tree.VisibilityContacts:
		return false
	}
	return v.EmbedPrivacy != tree.EmbedPrivate
}
