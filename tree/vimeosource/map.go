package vimeosource

import (
	"slices"
	"strings"

	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo"
)

// FromWalk maps a walk result onto tree records. It does not judge the walk:
// the caller decides what an incomplete or inconsistent walk may change (a
// partial traversal must never delete).
func FromWalk(r *vimeo.WalkResult) ([]tree.Folder, []tree.Video, []tree.Placement) {
	folders := make([]tree.Folder, 0, len(r.Folders))
	for _, f := range r.Folders {
		folders = append(folders, Folder(f))
	}
	videos := make([]tree.Video, 0, len(r.Videos))
	placements := make([]tree.Placement, 0, len(r.Videos))
	for _, v := range r.Videos {
		videos = append(videos, Video(v))
		placements = append(placements, tree.Placement{FolderVimeoID: v.FolderID, VideoVimeoID: v.ID, SortOrder: v.Position})
	}
	return folders, videos, placements
}

// Folder maps one walked folder.
func Folder(f vimeo.WalkFolder) tree.Folder {
	return tree.Folder{
		VimeoID: f.ID, ParentVimeoID: f.ParentID, Name: f.Name, SortOrder: f.Position,
		CreatedAt: f.CreatedTime, ModifiedAt: f.ModifiedTime,
	}
}

// Video maps one walked video. An unknown status is kept as it is, so that
// tree validation reports it rather than this mapping hiding it.
func Video(v vimeo.WalkVideo) tree.Video {
	return tree.Video{
		VimeoID: v.ID, Title: v.Name, Description: v.Description, ThumbnailURL: v.ThumbnailURL,
		Pictures: Pictures(v.Pictures), Tags: Tags(v.Tags),
		DurationSeconds: v.Duration, Status: tree.VideoStatus(v.Status), Visibility: Visibility(v.PrivacyView),
		EmbedKey: v.Hash, EmbedPrivacy: EmbedPrivacy(v.PrivacyEmbed), CreatedAt: v.CreatedTime, ModifiedAt: v.ModifiedTime,
	}
}

// Visibility maps Vimeo's privacy.view; a value Vimeo may add later maps to
// "" (unknown), which validation accepts and entitlement treats like any
// other: visibility is Vimeo's setting, access is decided by our rules.
func Visibility(view string) tree.Visibility {
	if v := tree.Visibility(view); v.Valid() {
		return v
	}
	return ""
}

// EmbedPrivacy maps Vimeo's privacy.embed; an unknown value maps to ""
// (unknown), which blocks nothing (see tree.Video.EmbedBlock).
func EmbedPrivacy(embed string) tree.EmbedPrivacy {
	if e := tree.EmbedPrivacy(embed); e.Valid() {
		return e
	}
	return ""
}

// Pictures maps Vimeo's thumbnail sizes, dropping sizes without a link;
// no sizes map to nil.
func Pictures(ps []vimeo.Picture) []tree.Picture {
	var out []tree.Picture
	for _, p := range ps {
		if p.Link != "" {
			out = append(out, tree.Picture{Width: p.Width, Height: p.Height, URL: p.Link})
		}
	}
	return out
}

// Tags maps Vimeo's tag names, dropping empty and repeated ones; no tags map
// to nil.
func Tags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
