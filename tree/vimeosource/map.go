package vimeosource

import (
	"slices"
	"strings"

	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo"
)

// FromWalk maps a walk result onto tree records, with the same mapping as a
// single read (FromVideo, FromFolder): a walked video is the video its
// folder's listing returned, a walked folder the folder record, placed where
// the walk found them. It does not judge the walk: the caller decides what an
// incomplete or inconsistent walk may change (a partial traversal must never
// delete).
func FromWalk(r *vimeo.WalkResult) ([]tree.Folder, []tree.Video, []tree.Placement) {
	folders := make([]tree.Folder, 0, len(r.Folders))
	for _, f := range r.Folders {
		tf := folder(f.Folder)
		tf.ParentVimeoID, tf.SortOrder = f.ParentID, f.Position // where the walk found it
		folders = append(folders, tf)
	}
	videos := make([]tree.Video, 0, len(r.Videos))
	placements := make([]tree.Placement, 0, len(r.Videos))
	for _, v := range r.Videos {
		videos = append(videos, FromVideo(v.Video))
		placements = append(placements, tree.Placement{FolderVimeoID: v.FolderID, VideoVimeoID: v.ID, SortOrder: v.Position})
	}
	return folders, videos, placements
}

// FromVideo is the one mapping of a Vimeo video onto a tree record, whether
// it was walked, read on its own or listed as recently modified. An unknown
// status is kept as it is, so that tree validation reports it rather than
// this mapping hiding it.
func FromVideo(v *vimeo.Video) tree.Video {
	return tree.Video{
		VimeoID: v.ID, Title: v.Name, Description: v.Description, ThumbnailURL: v.ThumbnailURL(),
		Pictures: Pictures(v.Pictures), Tags: Tags(v.Tags),
		DurationSeconds: v.Duration, Status: tree.VideoStatus(v.State()), Visibility: Visibility(v.PrivacyView),
		EmbedKey: v.Hash, EmbedPrivacy: EmbedPrivacy(v.PrivacyEmbed), CreatedAt: v.CreatedTime, ModifiedAt: v.ModifiedTime,
	}
}

// FromFolder maps a folder read on its own (or from the folder list). Its
// parent is Vimeo's, which may lie outside the mirrored root; Ancestors are
// nearest first. A single read does not know the folder's position (the
// mirror keeps the one it has).
func FromFolder(f *vimeo.Folder) tree.RemoteFolder {
	rf := tree.RemoteFolder{Folder: folder(f)}
	for _, a := range f.Ancestors {
		rf.Ancestors = append(rf.Ancestors, a.ID)
	}
	if len(rf.Ancestors) == 0 && f.ParentID != "" {
		rf.Ancestors = []string{f.ParentID}
	}
	return rf
}

// folder is the one mapping of a Vimeo folder onto a tree record, with the
// parent its metadata names; a walk replaces parent and position with where
// it found the folder.
func folder(f *vimeo.Folder) tree.Folder {
	return tree.Folder{VimeoID: f.ID, ParentVimeoID: f.ParentID, Name: f.Name, CreatedAt: f.CreatedTime, ModifiedAt: f.ModifiedTime}
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
