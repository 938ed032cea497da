package tree

// ValidateFolders checks a batch of folders for an upsert, as every Store does
// before writing: non-empty ids, no folder its own parent, no id twice. Parents
// are the store's to check (they may already be stored).
func ValidateFolders(folders []Folder) error {
	seen := make(map[string]bool, len(folders))
	for _, f := range folders {
		switch {
		case f.VimeoID == "":
			return Errorf(ErrInvalid, "folder", "", "empty Vimeo id (named %q)", f.Name)
		case f.VimeoID == f.ParentVimeoID:
			return Errorf(ErrCycle, "folder", f.VimeoID, "folder is its own parent")
		case seen[f.VimeoID]:
			return Errorf(ErrDuplicate, "folder", f.VimeoID, "listed twice in one upsert")
		}
		seen[f.VimeoID] = true
	}
	return nil
}

// ValidateVideos checks a batch of videos for an upsert: non-empty ids, known
// statuses and visibilities, no negative duration, no id twice.
func ValidateVideos(videos []Video) error {
	seen := make(map[string]bool, len(videos))
	for _, v := range videos {
		switch {
		case v.VimeoID == "":
			return Errorf(ErrInvalid, "video", "", "empty Vimeo id (titled %q)", v.Title)
		case !v.Status.Valid():
			return Errorf(ErrInvalid, "video", v.VimeoID, "unknown status %q", v.Status)
		case v.Visibility != "" && !v.Visibility.Valid():
			return Errorf(ErrInvalid, "video", v.VimeoID, "unknown visibility %q", v.Visibility)
		case v.EmbedPrivacy != "" && !v.EmbedPrivacy.Valid():
			return Errorf(ErrInvalid, "video", v.VimeoID, "unknown embed privacy %q", v.EmbedPrivacy)
		case v.DurationSeconds < 0:
			return Errorf(ErrInvalid, "video", v.VimeoID, "negative duration %d", v.DurationSeconds)
		case seen[v.VimeoID]:
			return Errorf(ErrDuplicate, "video", v.VimeoID, "listed twice in one upsert")
		}
		seen[v.VimeoID] = true
	}
	return nil
}
