// Package ranktest is test support for ranking: an entitlement oracle that
// shares no code with entitle.Index, for property tests that check no feed,
// computed or served, holds a video its user may not see.
package ranktest

import (
	"slices"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// Visible is the oracle: DESIGN.md §5 read literally, one video at a time, with nothing
// but the snapshot's public API and a scan of the rules. It shares no code
// with entitle.Index.
func Visible(snap *tree.Snapshot, rules []entitle.Rule, userID string, roles []string, segments map[string]string, videoID string) bool {
	v := snap.Video(videoID)
	if v == nil || !v.Playable() {
		return false
	}
	matches := func(s entitle.Subject) bool {
		switch s.Kind {
		case entitle.Everyone:
			return true
		case entitle.Role:
			return slices.Contains(roles, s.Name)
		case entitle.Segment:
			val, ok := segments[s.Name]
			return ok && val == s.Value
		case entitle.User:
			return userID != "" && userID == s.Name
		}
		return false
	}
	level := func(kind entitle.TargetKind, id string) (decided, allowed bool) {
		denied := false
		for _, r := range rules {
			if r.Target.Kind == kind && r.Target.ID == id && matches(r.Subject) {
				decided = true
				denied = denied || r.Effect == entitle.Deny
			}
		}
		return decided, !denied
	}
	for _, f := range snap.FoldersOf(videoID) {
		live := true
		for _, a := range append([]string{f}, snap.Ancestors(f)...) {
			if fo := snap.Folder(a); fo == nil || fo.Deleted() {
				live = false
			}
		}
		if !live {
			continue
		}
		if d, ok := level(entitle.VideoTarget, videoID); d {
			if ok {
				return true
			}
			continue
		}
		for _, a := range append([]string{f}, snap.Ancestors(f)...) {
			if d, ok := level(entitle.FolderTarget, a); d {
				if ok {
					return true
				}
				break
			}
		}
	}
	return false
}
