package tree

import (
	"cmp"
	"errors"
	"iter"
	"slices"
)

// maxProblems caps how many validation problems New reports at once.
const maxProblems = 10

// Snapshot is an immutable, validated view of the mirrored tree: folders with
// adjacency and materialised paths, videos, and the placements of videos in
// folders. Every object is keyed by its Vimeo id. A Snapshot is safe for
// concurrent use and must not be modified after New returns it.
type Snapshot struct {
	version    int64
	folders    map[string]*Folder
	videos     map[string]*Video
	roots      []string            // top-level folders, in sibling order
	children   map[string][]string // folder -> child folders, in sibling order
	contents   map[string][]Placement
	videoHomes map[string][]string // video -> folders it is placed in
	paths      map[string][]string // folder -> ids from its top-level ancestor to itself
	folderIDs  []string            // all folders, parents before children
}

// New validates the flat lists and builds a Snapshot. It never panics on bad
// input: duplicate ids (ErrDuplicate), empty ids or unknown statuses
// (ErrInvalid), parents or placement targets that do not exist (ErrOrphan) and
// parent cycles (ErrCycle) are returned as *Error values joined together (at
// most ten). The slices are copied; the caller may reuse them.
func New(version int64, folders []Folder, videos []Video, placements []Placement) (*Snapshot, error) {
	s := &Snapshot{
		version:    version,
		folders:    make(map[string]*Folder, len(folders)),
		videos:     make(map[string]*Video, len(videos)),
		contents:   make(map[string][]Placement, len(folders)),
		videoHomes: make(map[string][]string, len(videos)),
	}
	var problems []error
	report := func(e *Error) bool {
		problems = append(problems, e)
		return len(problems) >= maxProblems
	}
	fs := make([]Folder, len(folders))
	copy(fs, folders)
	for i := range fs {
		f := &fs[i]
		var bad *Error
		switch f.VimeoID {
		case "":
			bad = Errorf(ErrInvalid, "folder", "", "empty Vimeo id (named %q)", f.Name)
		case f.ParentVimeoID:
			bad = Errorf(ErrCycle, "folder", f.VimeoID, "folder is its own parent")
		}
		if bad != nil {
			if report(bad) {
				return nil, errors.Join(problems...)
			}
			continue
		}
		if _, dup := s.folders[f.VimeoID]; dup {
			if report(Errorf(ErrDuplicate, "folder", f.VimeoID, "listed twice")) {
				return nil, errors.Join(problems...)
			}
			continue
		}
		s.folders[f.VimeoID] = f
	}
	vs := make([]Video, len(videos))
	copy(vs, videos)
	for i := range vs {
		v := &vs[i]
		if bad := checkVideo(v, s.videos[v.VimeoID] != nil); bad != nil {
			if report(bad) {
				return nil, errors.Join(problems...)
			}
			continue
		}
		s.videos[v.VimeoID] = v
	}

	if s.link(report) {
		return nil, errors.Join(problems...)
	}

	// Most videos have one home: their first is a cap-1 window on one slab.
	homeSlab := make([]string, len(placements))
	for i, p := range placements {
		var bad *Error
		homes, placed := s.videoHomes[p.VideoVimeoID]
		switch {
		case s.folders[p.FolderVimeoID] == nil:
			bad = Errorf(ErrOrphan, "placement", p.VideoVimeoID, "folder %q is not in the snapshot", p.FolderVimeoID)
		case !placed && s.videos[p.VideoVimeoID] == nil:
			bad = Errorf(ErrOrphan, "placement", p.VideoVimeoID, "video is not in the snapshot (folder %q)", p.FolderVimeoID)
		case slices.Contains(homes, p.FolderVimeoID):
			bad = Errorf(ErrDuplicate, "placement", p.VideoVimeoID, "placed twice in folder %q", p.FolderVimeoID)
		}
		if bad != nil {
			if report(bad) {
				break
			}
			continue
		}
		s.contents[p.FolderVimeoID] = append(s.contents[p.FolderVimeoID], p)
		if !placed {
			homeSlab[i] = p.FolderVimeoID
			s.videoHomes[p.VideoVimeoID] = homeSlab[i : i+1 : i+1]
		} else {
			s.videoHomes[p.VideoVimeoID] = append(homes, p.FolderVimeoID)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	for _, ps := range s.contents {
		slices.SortFunc(ps, func(a, b Placement) int {
			return cmp.Or(cmp.Compare(a.SortOrder, b.SortOrder), cmp.Compare(a.VideoVimeoID, b.VideoVimeoID))
		})
	}
	for _, homes := range s.videoHomes {
		slices.Sort(homes)
	}
	return s, nil
}

// link derives the folder structure (roots, children, paths, folderIDs) from
// s.folders, reporting orphans and cycles. It returns true when report asked
// to stop.
func (s *Snapshot) link(report func(*Error) bool) bool {
	s.roots, s.children = nil, make(map[string][]string)
	s.paths = make(map[string][]string, len(s.folders))
	// Adjacency; orphans are reported and left out.
	for id, f := range s.folders {
		if f.ParentVimeoID == "" {
			s.roots = append(s.roots, id)
			continue
		}
		if _, ok := s.folders[f.ParentVimeoID]; !ok {
			if report(Errorf(ErrOrphan, "folder", id, "parent %q is not in the snapshot", f.ParentVimeoID)) {
				return true
			}
			continue
		}
		s.children[f.ParentVimeoID] = append(s.children[f.ParentVimeoID], id)
	}

	// Paths, breadth first from the roots: whatever is not reached sits on a cycle
	// (or under one).
	byOrder := func(a, b string) int {
		fa, fb := s.folders[a], s.folders[b]
		return cmp.Or(cmp.Compare(fa.SortOrder, fb.SortOrder), cmp.Compare(fa.Name, fb.Name), cmp.Compare(a, b))
	}
	slices.SortFunc(s.roots, byOrder)
	for _, kids := range s.children {
		slices.SortFunc(kids, byOrder)
	}
	s.folderIDs = make([]string, 0, len(s.folders))
	for _, r := range s.roots {
		s.paths[r] = []string{r}
		s.folderIDs = append(s.folderIDs, r)
	}
	for i := 0; i < len(s.folderIDs); i++ {
		id := s.folderIDs[i]
		parent := s.paths[id]
		for _, c := range s.children[id] {
			p := make([]string, len(parent)+1)
			copy(p, parent)
			p[len(parent)] = c
			s.paths[c] = p
			s.folderIDs = append(s.folderIDs, c)
		}
	}
	if len(s.folderIDs) < len(s.folders) {
		var unreached []string
		for id, f := range s.folders {
			if _, ok := s.paths[id]; !ok && (f.ParentVimeoID == "" || s.folders[f.ParentVimeoID] != nil) {
				unreached = append(unreached, id)
			}
		}
		slices.Sort(unreached)
		for _, id := range unreached {
			if report(Errorf(ErrCycle, "folder", id, "its parent chain never reaches a top-level folder")) {
				break
			}
		}
	}
	return false
}

// checkVideo is the validation of one video row that New and Patch share;
// dup says the row's id was already taken by another row of the same input.
func checkVideo(v *Video, dup bool) *Error {
	switch {
	case v.VimeoID == "":
		return Errorf(ErrInvalid, "video", "", "empty Vimeo id (titled %q)", v.Title)
	case !v.Status.Valid():
		return Errorf(ErrInvalid, "video", v.VimeoID, "unknown status %q", v.Status)
	case v.Visibility != "" && !v.Visibility.Valid():
		return Errorf(ErrInvalid, "video", v.VimeoID, "unknown visibility %q", v.Visibility)
	case v.EmbedPrivacy != "" && !v.EmbedPrivacy.Valid():
		return Errorf(ErrInvalid, "video", v.VimeoID, "unknown embed privacy %q", v.EmbedPrivacy)
	case dup:
		return Errorf(ErrDuplicate, "video", v.VimeoID, "listed twice")
	}
	return nil
}

// Version is the content version the snapshot was read at (0 if unknown).
func (s *Snapshot) Version() int64 { return s.version }

// Len returns the number of folders and videos.
func (s *Snapshot) Len() (folders, videos int) { return len(s.folders), len(s.videos) }

// Folder returns the folder with the Vimeo id, or nil.
func (s *Snapshot) Folder(vimeoID string) *Folder { return s.folders[vimeoID] }

// Video returns the video with the Vimeo id, or nil.
func (s *Snapshot) Video(vimeoID string) *Video { return s.videos[vimeoID] }

// Roots returns the top-level folders' ids in sibling order.
func (s *Snapshot) Roots() []string { return slices.Clone(s.roots) }

// Children returns the ids of the folder's direct subfolders in sibling order.
func (s *Snapshot) Children(folderVimeoID string) []string {
	return slices.Clone(s.children[folderVimeoID])
}

// Contents returns the placements of videos directly in the folder, in order.
func (s *Snapshot) Contents(folderVimeoID string) []Placement {
	return slices.Clone(s.contents[folderVimeoID])
}

// FoldersOf returns the folders a video is placed in (usually one), sorted.
func (s *Snapshot) FoldersOf(videoVimeoID string) []string {
	return slices.Clone(s.videoHomes[videoVimeoID])
}

// Path returns the materialised path of a folder: the ids from its top-level
// ancestor down to itself. Nil for an unknown folder.
func (s *Snapshot) Path(folderVimeoID string) []string {
	return slices.Clone(s.paths[folderVimeoID])
}

// Ancestors returns the folder's ancestors, nearest first (parent, grandparent…).
func (s *Snapshot) Ancestors(folderVimeoID string) []string {
	p := s.paths[folderVimeoID]
	if len(p) == 0 {
		return nil
	}
	out := make([]string, 0, len(p)-1)
	for i := len(p) - 2; i >= 0; i-- {
		out = append(out, p[i])
	}
	return out
}

// Depth is the folder's distance from its top-level ancestor (0 for a top-level
// folder), or -1 for an unknown folder.
func (s *Snapshot) Depth(folderVimeoID string) int { return len(s.paths[folderVimeoID]) - 1 }

// IsAncestor reports whether ancestor is a proper ancestor of folder.
func (s *Snapshot) IsAncestor(ancestor, folder string) bool {
	p := s.paths[folder]
	for _, id := range p[:max(len(p)-1, 0)] {
		if id == ancestor {
			return true
		}
	}
	return false
}

// Subtree returns the folder and all its descendants, parents before children,
// or nil for an unknown folder.
func (s *Snapshot) Subtree(folderVimeoID string) []string {
	if s.folders[folderVimeoID] == nil {
		return nil
	}
	out := []string{folderVimeoID}
	for i := 0; i < len(out); i++ {
		out = append(out, s.children[out[i]]...)
	}
	return out
}

// SubtreeVideos returns the ids of the videos placed anywhere in the folder's
// subtree, each once: folders breadth first, videos in folder order.
func (s *Snapshot) SubtreeVideos(folderVimeoID string) []string {
	var out []string
	seen := make(map[string]bool)
	for _, f := range s.Subtree(folderVimeoID) {
		for _, p := range s.contents[f] {
			if !seen[p.VideoVimeoID] {
				seen[p.VideoVimeoID] = true
				out = append(out, p.VideoVimeoID)
			}
		}
	}
	return out
}

// FolderIDs returns every folder id, parents before children (breadth first).
func (s *Snapshot) FolderIDs() []string { return slices.Clone(s.folderIDs) }

// VideoIDs returns every video id, sorted.
func (s *Snapshot) VideoIDs() []string {
	out := make([]string, 0, len(s.videos))
	for id := range s.videos {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Folders returns copies of every folder, parents before children.
func (s *Snapshot) Folders() []Folder {
	out := make([]Folder, 0, len(s.folderIDs))
	for _, id := range s.folderIDs {
		out = append(out, *s.folders[id])
	}
	return out
}

// Videos returns copies of every video, sorted by Vimeo id.
func (s *Snapshot) Videos() []Video {
	out := make([]Video, 0, len(s.videos))
	for _, id := range s.VideoIDs() {
		out = append(out, *s.videos[id])
	}
	return out
}

// Placements returns every placement, folder by folder in tree order.
func (s *Snapshot) Placements() []Placement {
	var out []Placement
	for _, f := range s.folderIDs {
		out = append(out, s.contents[f]...)
	}
	return out
}

// The All… iterators below read the snapshot without copying its slices (the
// methods above return copies). They are for hot paths such as building a
// read model of 100,000 videos; callers must not keep what they yield beyond
// the snapshot's life or modify it.

// AllVideos yields every video, in no particular order. The *Video points
// into the snapshot: read it, never modify it.
func (s *Snapshot) AllVideos() iter.Seq[*Video] {
	return func(yield func(*Video) bool) {
		for _, v := range s.videos {
			if !yield(v) {
				return
			}
		}
	}
}

// AllFolders yields every folder, parents before children (breadth first, as
// FolderIDs). The *Folder points into the snapshot: read it, never modify it.
func (s *Snapshot) AllFolders() iter.Seq[*Folder] {
	return func(yield func(*Folder) bool) {
		for _, id := range s.folderIDs {
			if !yield(s.folders[id]) {
				return
			}
		}
	}
}

// AllChildren yields the ids of the folder's direct subfolders in sibling
// order, as Children does, without copying.
func (s *Snapshot) AllChildren(folderVimeoID string) iter.Seq[string] {
	return slices.Values(s.children[folderVimeoID])
}

// AllContents yields the placements of videos directly in the folder, in
// order, as Contents does, without copying.
func (s *Snapshot) AllContents(folderVimeoID string) iter.Seq[Placement] {
	return slices.Values(s.contents[folderVimeoID])
}

// AllRoots yields the top-level folders' ids in sibling order, as Roots does,
// without copying.
func (s *Snapshot) AllRoots() iter.Seq[string] { return slices.Values(s.roots) }

// ContentsLen is the number of videos placed directly in the folder.
func (s *Snapshot) ContentsLen(folderVimeoID string) int { return len(s.contents[folderVimeoID]) }
