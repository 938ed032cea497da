package rank

import (
	"strings"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// ReasonKind is the kind of a Reason, stable for apps and storage.
type ReasonKind string

// The reason kinds, one per Signal.
const (
	ReasonContinue   ReasonKind = "continue_watching"
	ReasonWatched    ReasonKind = "because_you_watched"
	ReasonPopular    ReasonKind = "popular"
	ReasonNew        ReasonKind = "new"
	ReasonCompletion ReasonKind = "watched_to_the_end"
	ReasonForYou     ReasonKind = "for_you" // what a reason degrades to when its subject is no longer visible
)

var kindOf = [NumSignals]ReasonKind{ReasonContinue, ReasonWatched, ReasonPopular, ReasonNew, ReasonCompletion}

// Reason says why a video is in a feed. VideoID and FolderID name what the
// words mention (the watched video and its folder; the folder a new video is
// in); Audience is the label of the audience a popular video is popular with.
// A Reason holds ids, not words: Text renders it against the current
// snapshot and view, so it never names what the user may no longer see.
type Reason struct {
	Kind     ReasonKind `json:"kind"`
	VideoID  string     `json:"video_id,omitempty"`
	FolderID string     `json:"folder_id,omitempty"`
	Audience string     `json:"audience,omitempty"`
}

// Encode is the reason's storage form ("kind|video|folder|audience").
func (r Reason) Encode() string {
	return string(r.Kind) + "|" + r.VideoID + "|" + r.FolderID + "|" + r.Audience
}

// DecodeReason parses Encode's form; anything else is a ReasonForYou.
func DecodeReason(s string) Reason {
	kind, rest, ok1 := strings.Cut(s, "|")
	video, rest, ok2 := strings.Cut(rest, "|")
	folder, audience, ok3 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || !ok3 || kind == "" {
		return Reason{Kind: ReasonForYou}
	}
	return Reason{Kind: ReasonKind(kind), VideoID: video, FolderID: folder, Audience: audience}
}

// In returns the reason as the audience of view may be told it: no reason,
// or a "because you watched" reason whose video is not visible any more,
// becomes ReasonForYou, and a folder that is not visible is dropped.
func (r Reason) In(view *entitle.View) Reason {
	if r.Kind == "" || (r.Kind == ReasonWatched && (r.VideoID == "" || !view.Video(r.VideoID))) {
		return Reason{Kind: ReasonForYou}
	}
	if r.FolderID != "" && !view.Folder(r.FolderID) {
		r.FolderID = ""
	}
	return r
}

// Text renders the reason in words an app can show, naming only videos and
// folders visible in view (see In; ReasonForYou says "Recommended for you").
func (r Reason) Text(snap *tree.Snapshot, view *entitle.View) string {
	r = r.In(view)
	folder := func() string {
		if r.FolderID == "" || !view.Folder(r.FolderID) {
			return ""
		}
		if f := snap.Folder(r.FolderID); f != nil {
			return f.Name
		}
		return ""
	}
	switch r.Kind {
	case ReasonContinue:
		return "Continue watching"
	case ReasonWatched:
		if r.VideoID != "" && view.Video(r.VideoID) {
			if v := snap.Video(r.VideoID); v != nil {
				if f := folder(); f != "" {
					return "Because you watched " + v.Title + " in " + f
				}
				return "Because you watched " + v.Title
			}
		}
	case ReasonPopular:
		if r.Audience != "" {
			return "Popular with " + r.Audience
		}
		return "Popular with people like you"
	case ReasonNew:
		if f := folder(); f != "" {
			return "New in " + f
		}
		return "New"
	case ReasonCompletion:
		return "Often watched to the end"
	}
	return "Recommended for you"
}

// audienceLabel names the audience of a user in a reason: the first role,
// in the plural ("members"), or "" for a user without roles.
func audienceLabel(roles []string) string {
	if len(roles) == 0 {
		return ""
	}
	r := roles[0]
	for _, x := range roles[1:] {
		if x < r {
			r = x
		}
	}
	if strings.HasSuffix(r, "s") {
		return r
	}
	return r + "s"
}
