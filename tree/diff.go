package tree

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change is one difference between the mirror and the source (see Diff), or
// one thing a poll or refresh found. It carries what applying it needs.
type Change struct {
	Kind    ChangeKind
	VimeoID string // the folder's or the video's id
	// From is where the object was in the mirror: the old parent of a moved
	// folder, the folder a moved or deleted video left, the parent of a
	// deleted folder. To is where the source has it: the new parent of a
	// folder, the folder of a video ("" for none).
	From, To string
	// SortOrder is the video's position in To.
	SortOrder int
	// Fields names what differs, for renames and updates.
	Fields []string
	// Folder or Video is the record as the source has it (for deletions: as the
	// mirror had it). Fields only the mirror owns (ids, Hidden, DeletedAt) are
	// zero.
	Folder *Folder
	Video  *Video
	// OldFolder or OldVideo is the mirror's record before the change, for
	// moves, renames and updates (nil otherwise), so that a change can be
	// put into words without the snapshot it was computed from (Describe).
	OldFolder *Folder `json:",omitempty"`
	OldVideo  *Video  `json:",omitempty"`
	// Reason says why a deletion was confirmed or skipped, or why a video
	// became unavailable (ReasonNotFound, ReasonLeftRoot, ReasonForbidden, …).
	Reason string
	// KeepDeleted, on a ChangeFolderRestored, lists the cascade the restore
	// must not bring back: the folder's descendants deleted together with it
	// that the source no longer has (Tx.RestoreFolder restores everything
	// deleted with the folder; the applier deletes these again in the same
	// transaction). Only the top of each such subtree is listed: deleting it
	// takes its descendants along. Diff fills it in; a change built without a
	// complete remote tree (a poll, a refresh) leaves it empty.
	KeepDeleted []string `json:",omitempty"`
}

// ChangeKind names a kind of change.
type ChangeKind string

// Change kinds. The folder kinds and the video kinds each say what happened to
// one object; an object that changed in several ways gets several changes, in
// the order they are listed here (a restored folder that also moved and was
// renamed: restored, moved, renamed).
const (
	ChangeFolderCreated  ChangeKind = "folder.created"
	ChangeFolderRestored ChangeKind = "folder.restored"
	ChangeFolderMoved    ChangeKind = "folder.moved" // with its subtree
	ChangeFolderRenamed  ChangeKind = "folder.renamed"
	// ChangeFolderUpdated: only the sort order or Vimeo's timestamps differ.
	ChangeFolderUpdated ChangeKind = "folder.updated"
	ChangeFolderDeleted ChangeKind = "folder.deleted" // soft, with its subtree

	ChangeVideoCreated  ChangeKind = "video.created"
	ChangeVideoRestored ChangeKind = "video.restored"
	ChangeVideoMoved    ChangeKind = "video.moved"
	// ChangeVideoReordered: same folder, another position.
	ChangeVideoReordered ChangeKind = "video.reordered"
	// ChangeVideoUpdated: library fields differ (Fields names them).
	ChangeVideoUpdated ChangeKind = "video.updated"
	// ChangeVideoUnavailable: the source answers 403 for the video; it stays in
	// the mirror with StatusUnavailable (not deleted).
	ChangeVideoUnavailable ChangeKind = "video.unavailable"
	ChangeVideoDeleted     ChangeKind = "video.deleted" // soft
)

// ChangeKinds lists every kind, in the order Diff emits them for one object.
var ChangeKinds = []ChangeKind{
	ChangeFolderCreated, ChangeFolderRestored, ChangeFolderMoved, ChangeFolderRenamed, ChangeFolderUpdated,
	ChangeFolderDeleted, ChangeVideoCreated, ChangeVideoRestored, ChangeVideoMoved, ChangeVideoReordered,
	ChangeVideoUpdated, ChangeVideoUnavailable, ChangeVideoDeleted,
}

// IsFolder reports whether the kind concerns a folder.
func (k ChangeKind) IsFolder() bool { return strings.HasPrefix(string(k), "folder.") }

// IsDelete reports whether the kind removes an object from the mirror.
func (k ChangeKind) IsDelete() bool { return k == ChangeFolderDeleted || k == ChangeVideoDeleted }

// Field names used in Change.Fields.
const (
	FieldName         = "name"
	FieldSortOrder    = "sort_order"
	FieldTitle        = "title"
	FieldDescription  = "description"
	FieldThumbnail    = "thumbnail_url"
	FieldPictures     = "pictures"
	FieldTags         = "tags"
	FieldDuration     = "duration_seconds"
	FieldStatus       = "status"
	FieldVisibility   = "visibility"
	FieldEmbedKey     = "embed_key"
	FieldEmbedPrivacy = "embed_privacy"
	FieldCreatedTime  = "created_time"
	FieldModifiedTime = "modified_time"
)

// String renders a change on one line, as the golden files show it.
func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", c.Kind, c.VimeoID)
	switch c.Kind {
	case ChangeFolderMoved, ChangeVideoMoved:
		fmt.Fprintf(&b, " from=%q to=%q", c.From, c.To)
	case ChangeFolderCreated, ChangeFolderRestored, ChangeVideoCreated, ChangeVideoRestored:
		fmt.Fprintf(&b, " in=%q", c.To)
	case ChangeFolderDeleted, ChangeVideoDeleted:
		fmt.Fprintf(&b, " from=%q", c.From)
	}
	if len(c.Fields) > 0 {
		fmt.Fprintf(&b, " fields=%s", strings.Join(c.Fields, ","))
	}
	if c.Kind.IsFolder() && c.Folder != nil && c.Kind != ChangeFolderUpdated {
		fmt.Fprintf(&b, " name=%q", c.Folder.Name)
	}
	if c.Reason != "" {
		fmt.Fprintf(&b, " reason=%s", c.Reason)
	}
	if len(c.KeepDeleted) > 0 {
		fmt.Fprintf(&b, " keep_deleted=%s", strings.Join(c.KeepDeleted, ","))
	}
	return b.String()
}

// Diff compares the mirror (local, normally loaded with IncludeDeleted so
// that restores are seen) with the source (remote) and returns the changes
// that make local equal to remote, in an order that can be applied one after
// the other:
//
//  1. folders that exist at the source, parents before children (remote
//     breadth-first order): created, restored, moved, renamed, updated;
//  2. videos that exist at the source, in remote tree order (folder, then
//     position): created, restored, moved or reordered, updated;
//  3. live local videos missing at the source: deleted (by id);
//  4. live local folders missing at the source: deleted, children before
//     parents.
//
// Moving folders in remote parents-first order never builds a cycle: when a
// folder moves, its new parent already sits where the source has it. A folder
// restore carries its cascade (Change.KeepDeleted): what the store's restore
// would bring back that the source no longer has, so that applying the
// changes once leaves the mirror equal to remote, with no second round. Diff is
// pure: it does not judge whether the remote snapshot may drive deletions
// (Mirror does) and ignores what only the mirror owns (internal ids, Hidden,
// DeletedAt, UpdatedAt). Every change carries the remote record it applies
// (Folder or Video); deletions carry the local one.
func Diff(local, remote *Snapshot) []Change {
	var out []Change
	for _, id := range remote.FolderIDs() {
		cs := folderChanges(local.Folder(id), remote.Folder(id))
		if len(cs) > 0 && cs[0].Kind == ChangeFolderRestored {
			cs[0].KeepDeleted = cascadeGone(local, remote, id)
		}
		out = append(out, cs...)
	}

	// Videos in remote tree order.
	lp, rp := placementsByVideo(local), placementsByVideo(remote)
	folderRank := make(map[string]int)
	for i, id := range remote.FolderIDs() {
		folderRank[id] = i
	}
	vids := remote.VideoIDs()
	first := func(id string) Placement {
		if ps := rp[id]; len(ps) > 0 {
			return ps[0]
		}
		return Placement{}
	}
	slices.SortStableFunc(vids, func(a, b string) int {
		pa, pb := first(a), first(b)
		ra, oka := folderRank[pa.FolderVimeoID]
		rb, okb := folderRank[pb.FolderVimeoID]
		if oka != okb { // unplaced videos last
			if oka {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(pa.SortOrder, pb.SortOrder), cmp.Compare(a, b))
	})
	for _, id := range vids {
		out = append(out, videoChanges(local.Video(id), remote.Video(id), lp[id], rp[id])...)
	}

	for _, id := range local.VideoIDs() {
		if lv := local.Video(id); !lv.Deleted() && remote.Video(id) == nil {
			v := *lv
			out = append(out, Change{Kind: ChangeVideoDeleted, VimeoID: id, From: firstFolder(lp[id]), Video: &v})
		}
	}
	lf := local.FolderIDs()
	for i := len(lf) - 1; i >= 0; i-- {
		id := lf[i]
		if f := local.Folder(id); !f.Deleted() && remote.Folder(id) == nil {
			c := *f
			out = append(out, Change{Kind: ChangeFolderDeleted, VimeoID: id, From: f.ParentVimeoID, Folder: &c})
		}
	}
	return out
}

// cascadeGone returns the tops of the subtrees that a restore of the deleted
// local folder id brings back (descendants deleted at the same instant, as
// Tx.DeleteFolder deletes a subtree) although remote no longer has them.
func cascadeGone(local, remote *Snapshot, id string) []string {
	f := local.Folder(id)
	if f == nil || !f.Deleted() {
		return nil
	}
	var out []string
	gone := map[string]bool{}
	for _, d := range local.Subtree(id)[1:] {
		df := local.Folder(d)
		if !df.DeletedAt.Equal(f.DeletedAt) || remote.Folder(d) != nil {
			continue
		}
		gone[d] = true
		if !gone[df.ParentVimeoID] {
			out = append(out, d) // its descendants go with it
		}
	}
	return out
}

func placementsByVideo(s *Snapshot) map[string][]Placement {
	out := make(map[string][]Placement)
	for _, p := range s.Placements() {
		out[p.VideoVimeoID] = append(out[p.VideoVimeoID], p)
	}
	for _, ps := range out {
		slices.SortFunc(ps, func(a, b Placement) int { return cmp.Compare(a.FolderVimeoID, b.FolderVimeoID) })
	}
	return out
}

func firstFolder(ps []Placement) string {
	if len(ps) == 0 {
		return ""
	}
	return ps[0].FolderVimeoID
}

// sourceFolder is the remote record without what only the mirror owns.
func sourceFolder(f *Folder) *Folder {
	c := *f
	c.ID, c.DeletedAt = 0, time.Time{}
	return &c
}

func sourceVideo(v *Video) *Video {
	c := *v
	c.ID, c.Hidden, c.DeletedAt, c.UpdatedAt = 0, false, time.Time{}, time.Time{}
	return &c
}

// folderChanges says how local (nil if unknown) becomes remote.
func folderChanges(local, remote *Folder) []Change {
	rec := sourceFolder(remote)
	id, to := remote.VimeoID, remote.ParentVimeoID
	if local == nil {
		return []Change{{Kind: ChangeFolderCreated, VimeoID: id, To: to, Folder: rec}}
	}
	var out []Change
	restored := local.Deleted()
	if restored {
		out = append(out, Change{Kind: ChangeFolderRestored, VimeoID: id, To: to, Folder: rec})
	}
	old := sourceFolder(local)
	if local.ParentVimeoID != to {
		out = append(out, Change{Kind: ChangeFolderMoved, VimeoID: id, From: local.ParentVimeoID, To: to, Folder: rec, OldFolder: old})
	}
	if local.Name != remote.Name {
		out = append(out, Change{Kind: ChangeFolderRenamed, VimeoID: id, Fields: []string{FieldName}, Folder: rec, OldFolder: old})
	}
	if len(out) == 0 {
		if fields := FolderFieldsChanged(*local, *remote); len(fields) > 0 {
			out = append(out, Change{Kind: ChangeFolderUpdated, VimeoID: id, Fields: fields, Folder: rec, OldFolder: old})
		}
	}
	return out
}

// FolderFieldsChanged names the source fields in which two folders differ
// (the parent excepted: that is a move).
func FolderFieldsChanged(a, b Folder) []string {
	var out []string
	if a.Name != b.Name {
		out = append(out, FieldName)
	}
	if a.SortOrder != b.SortOrder {
		out = append(out, FieldSortOrder)
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		out = append(out, FieldCreatedTime)
	}
	if !a.ModifiedAt.Equal(b.ModifiedAt) {
		out = append(out, FieldModifiedTime)
	}
	return out
}

// VideoFieldsChanged names the source fields in which two videos differ.
// Hidden, DeletedAt and the internal ids are the mirror's, not compared.
func VideoFieldsChanged(a, b Video) []string {
	var out []string
	add := func(differ bool, name string) {
		if differ {
			out = append(out, name)
		}
	}
	add(a.Title != b.Title, FieldTitle)
	add(a.Description != b.Description, FieldDescription)
	add(a.ThumbnailURL != b.ThumbnailURL, FieldThumbnail)
	add(!slices.Equal(a.Pictures, b.Pictures), FieldPictures)
	add(!slices.Equal(a.Tags, b.Tags), FieldTags)
	add(a.DurationSeconds != b.DurationSeconds, FieldDuration)
	add(a.Status != b.Status, FieldStatus)
	add(a.Visibility != b.Visibility, FieldVisibility)
	add(a.EmbedKey != b.EmbedKey, FieldEmbedKey)
	add(a.EmbedPrivacy != b.EmbedPrivacy, FieldEmbedPrivacy)
	add(!a.CreatedAt.Equal(b.CreatedAt), FieldCreatedTime)
	add(!a.ModifiedAt.Equal(b.ModifiedAt), FieldModifiedTime)
	return out
}

func onlyTimestamps(fields []string) bool {
	for _, f := range fields {
		if f != FieldCreatedTime && f != FieldModifiedTime {
			return false
		}
	}
	return true
}

// videoChanges says how local (nil if unknown) with its placements becomes
// remote with its placements.
func videoChanges(local, remote *Video, lps, rps []Placement) []Change {
	rec := sourceVideo(remote)
	id := remote.VimeoID
	to, order := "", 0
	if len(rps) > 0 {
		to, order = rps[0].FolderVimeoID, rps[0].SortOrder
	}
	if local == nil {
		return []Change{{Kind: ChangeVideoCreated, VimeoID: id, To: to, SortOrder: order, Video: rec}}
	}
	var out []Change
	restored := local.Deleted()
	if restored {
		out = append(out, Change{Kind: ChangeVideoRestored, VimeoID: id, To: to, SortOrder: order, Video: rec})
	}
	moved := !samePlacementFolders(lps, rps)
	old := sourceVideo(local)
	switch {
	case moved:
		out = append(out, Change{Kind: ChangeVideoMoved, VimeoID: id, From: firstFolder(lps), To: to, SortOrder: order, Video: rec, OldVideo: old})
	case len(lps) > 0 && len(rps) > 0 && !samePlacementOrders(lps, rps):
		out = append(out, Change{Kind: ChangeVideoReordered, VimeoID: id, From: to, To: to, SortOrder: order, Video: rec})
	}
	if fields := VideoFieldsChanged(*local, *remote); len(fields) > 0 && (!onlyTimestamps(fields) || (!moved && !restored)) {
		out = append(out, Change{Kind: ChangeVideoUpdated, VimeoID: id, Fields: fields, Video: rec, OldVideo: old})
	}
	return out
}

func samePlacementFolders(a, b []Placement) bool {
	return slices.EqualFunc(a, b, func(x, y Placement) bool { return x.FolderVimeoID == y.FolderVimeoID })
}

func samePlacementOrders(a, b []Placement) bool {
	return slices.EqualFunc(a, b, func(x, y Placement) bool { return x.SortOrder == y.SortOrder })
}
