package tree

import (
	"strings"
)

// Describe puts a change into words for people, with names and folder paths:
//
//	created folder 'Sales' in 'Root/Teams'
//	renamed folder 'A' → 'B' in 'Root'
//	moved video 'Q3 review' from 'Root/X' to 'Root/Y'
//	updated video 'Q3 review': privacy changed from 'anybody' to 'nobody'
//	deleted folder 'Old' from 'Root' (not_found)
//
// snaps resolve folder ids to paths of names, the first that knows a folder
// winning: pass the tree after the change and then the one before it (loaded
// with deleted objects, so that a path through a folder deleted since still
// reads); with none, ids are shown. Names of the
// object itself come from the change (Folder, Video, OldFolder, OldVideo),
// so a change read back from a sync run is described without the snapshot
// it was computed from.
func Describe(c Change, snaps ...*Snapshot) string {
	var b strings.Builder
	in := func(prep, folder string) {
		b.WriteString(" " + prep + " " + quote(pathOf(snaps, folder)))
	}
	name := objectName(c, snaps)
	switch c.Kind {
	case ChangeFolderCreated, ChangeFolderRestored:
		b.WriteString(verbOf(c.Kind) + " folder " + quote(name))
		in("in", c.To)
	case ChangeFolderMoved, ChangeVideoMoved:
		b.WriteString("moved " + noun(c.Kind) + " " + quote(name))
		in("from", c.From)
		in("to", c.To)
	case ChangeFolderRenamed:
		old := name
		if c.OldFolder != nil {
			old = c.OldFolder.Name
		}
		b.WriteString("renamed folder " + quote(old) + " → " + quote(name))
		if c.Folder != nil && c.Folder.ParentVimeoID != "" {
			in("in", c.Folder.ParentVimeoID)
		}
	case ChangeFolderUpdated:
		b.WriteString("updated folder " + quote(name) + " (" + strings.Join(c.Fields, ", ") + ")")
	case ChangeFolderDeleted, ChangeVideoDeleted:
		b.WriteString("deleted " + noun(c.Kind) + " " + quote(name))
		if c.From != "" {
			in("from", c.From)
		}
	case ChangeVideoCreated, ChangeVideoRestored:
		b.WriteString(verbOf(c.Kind) + " video " + quote(name))
		if c.To != "" {
			in("in", c.To)
		}
	case ChangeVideoReordered:
		b.WriteString("reordered video " + quote(name))
		in("in", c.To)
	case ChangeVideoUpdated:
		b.WriteString("updated video " + quote(name) + ": " + strings.Join(videoFieldWords(c), "; "))
	case ChangeVideoUnavailable:
		b.WriteString("video " + quote(name) + " became unavailable in Vimeo")
	default:
		b.WriteString(string(c.Kind) + " " + c.VimeoID)
	}
	if c.Reason != "" && c.Kind != ChangeVideoUnavailable {
		b.WriteString(" (" + c.Reason + ")")
	}
	return b.String()
}

// DescribeAll is Describe for each change.
func DescribeAll(changes []Change, snaps ...*Snapshot) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = Describe(c, snaps...)
	}
	return out
}

func verbOf(k ChangeKind) string {
	switch k {
	case ChangeFolderCreated, ChangeVideoCreated:
		return "created"
	}
	return "restored"
}

func noun(k ChangeKind) string {
	if k.IsFolder() {
		return "folder"
	}
	return "video"
}

func quote(s string) string { return "'" + s + "'" }

// objectName is the folder's name or the video's title: from the change's
// record, else the snapshot, else the id.
func objectName(c Change, snaps []*Snapshot) string {
	switch {
	case c.Folder != nil && c.Folder.Name != "":
		return c.Folder.Name
	case c.Video != nil && c.Video.Title != "":
		return c.Video.Title
	}
	for _, snap := range snaps {
		if snap == nil {
			continue
		}
		if f := snap.Folder(c.VimeoID); c.Kind.IsFolder() && f != nil && f.Name != "" {
			return f.Name
		}
		if v := snap.Video(c.VimeoID); !c.Kind.IsFolder() && v != nil && v.Title != "" {
			return v.Title
		}
	}
	return c.VimeoID
}

// pathOf renders a folder as the names from its top-level ancestor down,
// joined by '/'; "(none)" for no folder, the id for one snap does not know.
func pathOf(snaps []*Snapshot, folder string) string {
	if folder == "" {
		return "(none)"
	}
	var snap *Snapshot
	for _, s := range snaps {
		if s != nil && s.Folder(folder) != nil {
			snap = s
			break
		}
	}
	if snap == nil {
		return folder
	}
	path := snap.Path(folder)
	names := make([]string, len(path))
	for i, id := range path {
		names[i] = snap.Folder(id).Name
		if names[i] == "" {
			names[i] = id
		}
	}
	return strings.Join(names, "/")
}

// videoFieldWords says what changed in each field of a video update.
func videoFieldWords(c Change) []string {
	var out []string
	old, cur := c.OldVideo, c.Video
	for _, f := range c.Fields {
		var from, to string
		if old != nil && cur != nil {
			switch f {
			case FieldTitle:
				from, to = old.Title, cur.Title
			case FieldStatus:
				from, to = string(old.Status), string(cur.Status)
			case FieldVisibility:
				from, to = string(old.Visibility), string(cur.Visibility)
			case FieldEmbedPrivacy:
				from, to = string(old.EmbedPrivacy), string(cur.EmbedPrivacy)
			}
		}
		label := f
		switch f {
		case FieldVisibility:
			label = "privacy"
		case FieldThumbnail:
			label = "thumbnail"
		case FieldPictures:
			label = "thumbnail sizes"
		case FieldDuration:
			label = "duration"
		case FieldEmbedKey:
			label = "embed key"
		case FieldEmbedPrivacy:
			label = "embed privacy"
		case FieldCreatedTime:
			label = "created time"
		case FieldModifiedTime:
			label = "modified time"
		}
		if from != "" || to != "" {
			out = append(out, label+" changed from "+quote(from)+" to "+quote(to))
		} else {
			out = append(out, label+" changed")
		}
	}
	return out
}
