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
//     allow; no matching level denies;
//   - a folder is live iff neither it nor an ancestor is soft-deleted;
//   - a folder is visible iff it is live and some placement in its subtree
//     (a video in a live folder of the subtree) is allowed along that
//     placement's chain.

type oracleAudience struct {
	user     string
	roles    []string
	segments map[string]string
}

func (a oracleAudience) has(s Subject) bool {
	switch s.Kind {
	case Everyone:
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

// oracleLevel: do any rules on this target match the audience, and does one deny?
func oracleLevel(rules []Rule, a oracleAudience, target Target) (decided, allowed bool) {
	deny := false
	for _, r := range rules {
		if r.Target.Kind == target.Kind && r.Target.ID == target.ID && a.has(r.Subject) {
			decided = true
			if r.Effect == Deny {
				deny = true
			}
		}
	}
	return decided, decided && !deny
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
	if !s.Video(video).Playable() || !oracleLive(s, folder) {
		return false
	}
	chain := []Target{{Kind: VideoTarget, ID: video}, {Kind: FolderTarget, ID: folder}}
	for _, anc := range s.Ancestors(folder) {
		chain = append(chain, Target{Kind: FolderTarget, ID: anc})
	}
	for _, level := range chain {
		if decided, allowed := oracleLevel(rules, a, level); decided {
			return allowed
		}
	}
	return false
}

// placement names one placement: a video in a folder.
type placement struct{ folder, video string }

// oracleVideo answers for one video; via, if not nil, records the answer of
// every placement for oracleFolders.
func oracleVideo(s *tree.Snapshot, rules []Rule, a oracleAudience, video string, via map[placement]bool) bool {
	if s.Video(video) == nil {
		return false
	}
	visible := false
	for _, f := range s.FoldersOf(video) {
		ok := oracleVia(s, rules, a, video, f)
		if via != nil {
			via[placement{f, video}] = ok
		}
		visible = visible || ok
	}
	return visible
}

// oracleFolders returns the visible folders, given the answers of every
// placement recorded by oracleVideo.
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
