package tree

import (
	"cmp"
	"errors"
	"iter"
	"maps"
	"slices"

	"github.com/vidlib/vidlib/internal/vimeoid"
)

// maxProblems caps how many validation problems New reports at once.
const maxProblems = 10

// Snapshot is an immutable, validated view of the mirrored tree: folders with
// adjacency (paths are walked up the parents on use), videos, and the
// placements of videos in folders. Every object is keyed by its Vimeo id. A Snapshot is safe for
// concurrent use and must not be modified after New returns it.
type Snapshot struct {
	version   int64
	folders   map[string]*Folder
	videos    videoIndex
	roots     []string            // top-level folders, in sibling order
	children  map[string][]string // folder -> child folders, in sibling order
	contents  map[string][]slot   // folder -> its placements, in order
	folderIDs []string            // all folders, parents before children
}

// video is a snapshot's record of a video: its row and the folders it is
// placed in. Records are immutable once a snapshot holds them, and shared
// by the snapshots Patch derives.
type video struct {
	Video
	homes []string // the folders it is placed in, sorted; nil when none; shared, never written in place
}

// videoIndex is a snapshot's videos by id: a full map, shared by the
// snapshots Patch derives from one another, and the records changed since
// it was built (nil for a video deleted since). A patch of a few videos
// then copies the changes, not a map of a million videos; once the changes
// outgrow foldShare of the full map, Patch folds them into a new one.
type videoIndex struct {
	base    vimeoid.Map[*video]
	changed map[string]*video // nil when none
	n       int               // videos
}

// foldShare: Patch folds the changes into a new full map once there are
// more than 1/foldShare as many as the map holds (and at least minFold).
const (
	foldShare = 64
	minFold   = 1024
)

// Get returns the video's record.
func (x *videoIndex) Get(id string) (*video, bool) {
	if v, ok := x.changed[id]; ok {
		return v, v != nil
	}
	return x.base.Get(id)
}

// Put sets the video's record.
func (x *videoIndex) Put(id string, v *video) {
	if _, ok := x.Get(id); !ok {
		x.n++
	}
	if x.changed == nil {
		x.changed = make(map[string]*video)
	}
	x.changed[id] = v
}

// Delete removes the video.
func (x *videoIndex) Delete(id string) {
	if _, ok := x.Get(id); !ok {
		return
	}
	x.n--
	if _, inBase := x.base.Get(id); inBase {
		if x.changed == nil {
			x.changed = make(map[string]*video)
		}
		x.changed[id] = nil
	} else {
		delete(x.changed, id)
	}
}

// Len is the number of videos.
func (x *videoIndex) Len() int { return x.n }

// Clone returns a copy that Put and Delete may change without changing x:
// the full map is shared, the changes copied.
func (x *videoIndex) Clone() videoIndex {
	return videoIndex{base: x.base, changed: maps.Clone(x.changed), n: x.n}
}

// Values yields every record, in no particular order.
func (x *videoIndex) Values() iter.Seq[*video] {
	return func(yield func(*video) bool) {
		for v := range x.base.Values() {
			if _, changed := x.changed[v.VimeoID]; changed {
				continue
			}
			if !yield(v) {
				return
			}
		}
		for _, v := range x.changed {
			if v != nil && !yield(v) {
				return
			}
		}
	}
}

// foldIfLarge folds the changes into a new full map once they outgrow
// their share of it.
func (x *videoIndex) foldIfLarge() {
	if len(x.changed) <= max(minFold, x.base.Len()/foldShare) {
		return
	}
	base := vimeoid.New[*video](x.n)
	for v := range x.Values() {
		base.Put(v.VimeoID, v)
	}
	x.base, x.changed = base, nil
}

// slot is one placement in a folder's contents (the folder is the key).
type slot struct {
	video string
	sort  int
}

func (p slot) placement(folder string) Placement {
	return Placement{FolderVimeoID: folder, VideoVimeoID: p.video, SortOrder: p.sort}
}

func compareSlots(a, b slot) int {
	return cmp.Or(cmp.Compare(a.sort, b.sort), cmp.Compare(a.video, b.video))
}

// New validates the flat lists and builds a Snapshot. It never panics on bad
// input: duplicate ids (ErrDuplicate), empty ids or unknown statuses
// (ErrInvalid), parents or placement targets that do not exist (ErrOrphan) and
// parent cycles (ErrCycle) are returned as *Error values joined together (at
// most ten). The slices are copied; the caller may reuse them.
func New(version int64, folders []Folder, videos []Video, placements []Placement) (*Snapshot, error) {
	s := &Snapshot{
		version:  version,
		folders:  make(map[string]*Folder, len(folders)),
		contents: make(map[string][]slot, len(folders)),
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
	vs := make([]video, len(videos))
	s.videos.base = vimeoid.New[*video](len(videos))
	for i := range vs {
		v := &vs[i]
		v.Video = videos[i]
		_, dup := s.videos.Get(v.VimeoID)
		if bad := checkVideo(&v.Video, dup); bad != nil {
			if report(bad) {
				return nil, errors.Join(problems...)
			}
			continue
		}
		v.intern()
		s.videos.base.Put(v.VimeoID, v)
		s.videos.n++
	}

	if s.link(report) {
		return nil, errors.Join(problems...)
	}

	// Most videos have one home: their homes are then the folder's own
	// one-element slice, shared by every video placed only there (a second
	// home appends to a copy: the capacity is 1). The contents are windows
	// on one slab of slots, sized by a count per folder.
	only := make(map[string][]string, len(s.folders))
	count := make(map[string]int, len(s.folders))
	ok := make([]bool, len(placements))
	for i, p := range placements {
		var bad *Error
		v, _ := s.videos.Get(p.VideoVimeoID)
		switch {
		case s.folders[p.FolderVimeoID] == nil:
			bad = Errorf(ErrOrphan, "placement", p.VideoVimeoID, "folder %q is not in the snapshot", p.FolderVimeoID)
		case v == nil:
			bad = Errorf(ErrOrphan, "placement", p.VideoVimeoID, "video is not in the snapshot (folder %q)", p.FolderVimeoID)
		case slices.Contains(v.homes, p.FolderVimeoID):
			bad = Errorf(ErrDuplicate, "placement", p.VideoVimeoID, "placed twice in folder %q", p.FolderVimeoID)
		}
		if bad != nil {
			if report(bad) {
				break
			}
			continue
		}
		ok[i] = true
		count[p.FolderVimeoID]++
		if v.homes == nil {
			h := only[p.FolderVimeoID]
			if h == nil {
				h = []string{p.FolderVimeoID}
				only[p.FolderVimeoID] = h
			}
			v.homes = h
		} else {
			v.homes = append(v.homes, p.FolderVimeoID)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	slab := make([]slot, 0, len(placements))
	for f, n := range count {
		s.contents[f] = slab[len(slab) : len(slab) : len(slab)+n]
		slab = slab[:len(slab)+n]
	}
	for i, p := range placements {
		if ok[i] {
			s.contents[p.FolderVimeoID] = append(s.contents[p.FolderVimeoID], slot{video: p.VideoVimeoID, sort: p.SortOrder})
		}
	}
	for _, ps := range s.contents {
		slices.SortFunc(ps, compareSlots)
	}
	for v := range s.videos.Values() {
		if len(v.homes) > 1 {
			slices.Sort(v.homes)
		}
	}
	return s, nil
}

// intern points the video's status, visibility and embed privacy at the
// package's constants, so that a snapshot does not keep a copy of each per
// video (a store's driver allocates one per row).
func (v *video) intern() {
	for _, c := range [...]VideoStatus{StatusAvailable, StatusTranscoding, StatusTranscodeError, StatusUnavailable} {
		if v.Status == c {
			v.Status = c
			break
		}
	}
	for _, c := range [...]Visibility{VisibilityAnybody, VisibilityUnlisted, VisibilityNobody, VisibilityPassword,
		VisibilityDisable, VisibilityUsers, VisibilityContacts} {
		if v.Visibility == c {
			v.Visibility = c
			break
		}
	}
	for _, c := range [...]EmbedPrivacy{EmbedPublic, EmbedPrivate, EmbedWhitelist} {
		if v.EmbedPrivacy == c {
			v.EmbedPrivacy = c
			break
		}
	}
}

// link derives the folder structure (roots, children, folderIDs) from
// s.folders, reporting orphans and cycles. It returns true when report asked
// to stop. Paths are not kept: Path and its kin walk up the parents (at
// 100,000 folders ten levels deep a path per folder took 25 MB).
func (s *Snapshot) link(report func(*Error) bool) bool {
	s.roots, s.children = nil, make(map[string][]string)
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

	// Breadth first from the roots: whatever is not reached sits on a cycle
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
	s.folderIDs = append(s.folderIDs, s.roots...)
	for i := 0; i < len(s.folderIDs); i++ {
		s.folderIDs = append(s.folderIDs, s.children[s.folderIDs[i]]...)
	}
	if len(s.folderIDs) < len(s.folders) {
		reached := make(map[string]bool, len(s.folderIDs))
		for _, id := range s.folderIDs {
			reached[id] = true
		}
		var unreached []string
		for id, f := range s.folders {
			if !reached[id] && (f.ParentVimeoID == "" || s.folders[f.ParentVimeoID] != nil) {
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
func (s *Snapshot) Len() (folders, videos int) { return len(s.folders), s.videos.Len() }

// Folder returns the folder with the Vimeo id, or nil.
func (s *Snapshot) Folder(vimeoID string) *Folder { return s.folders[vimeoID] }

// Video returns the video with the Vimeo id, or nil.
func (s *Snapshot) Video(vimeoID string) *Video {
	if v, ok := s.videos.Get(vimeoID); ok {
		return &v.Video
	}
	return nil
}

// Roots returns the top-level folders' ids in sibling order.
func (s *Snapshot) Roots() []string { return slices.Clone(s.roots) }

// Children returns the ids of the folder's direct subfolders in sibling order.
func (s *Snapshot) Children(folderVimeoID string) []string {
	return slices.Clone(s.children[folderVimeoID])
}

// Contents returns the placements of videos directly in the folder, in order.
func (s *Snapshot) Contents(folderVimeoID string) []Placement {
	ps := s.contents[folderVimeoID]
	if ps == nil {
		return nil
	}
	out := make([]Placement, len(ps))
	for i, p := range ps {
		out[i] = p.placement(folderVimeoID)
	}
	return out
}

// FoldersOf returns the folders a video is placed in (usually one), sorted.
func (s *Snapshot) FoldersOf(videoVimeoID string) []string {
	if v, ok := s.videos.Get(videoVimeoID); ok {
		return slices.Clone(v.homes)
	}
	return nil
}

// Path returns the materialised path of a folder: the ids from its top-level
// ancestor down to itself. Nil for an unknown folder.
func (s *Snapshot) Path(folderVimeoID string) []string {
	p := s.Ancestors(folderVimeoID)
	if p == nil && s.folders[folderVimeoID] == nil {
		return nil
	}
	slices.Reverse(p)
	return append(p, folderVimeoID)
}

// Ancestors returns the folder's ancestors, nearest first (parent, grandparent…).
func (s *Snapshot) Ancestors(folderVimeoID string) []string {
	var out []string
	for f := s.folders[folderVimeoID]; f != nil && f.ParentVimeoID != ""; f = s.folders[f.ParentVimeoID] {
		out = append(out, f.ParentVimeoID)
	}
	return out
}

// Depth is the folder's distance from its top-level ancestor (0 for a top-level
// folder), or -1 for an unknown folder.
func (s *Snapshot) Depth(folderVimeoID string) int {
	if s.folders[folderVimeoID] == nil {
		return -1
	}
	d := 0
	for f := s.folders[folderVimeoID]; f != nil && f.ParentVimeoID != ""; f = s.folders[f.ParentVimeoID] {
		d++
	}
	return d
}

// IsAncestor reports whether ancestor is a proper ancestor of folder.
func (s *Snapshot) IsAncestor(ancestor, folder string) bool {
	for f := s.folders[folder]; f != nil && f.ParentVimeoID != ""; f = s.folders[f.ParentVimeoID] {
		if f.ParentVimeoID == ancestor {
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
			if !seen[p.video] {
				seen[p.video] = true
				out = append(out, p.video)
			}
		}
	}
	return out
}

// FolderIDs returns every folder id, parents before children (breadth first).
func (s *Snapshot) FolderIDs() []string { return slices.Clone(s.folderIDs) }

// VideoIDs returns every video id, sorted.
func (s *Snapshot) VideoIDs() []string {
	out := make([]string, 0, s.videos.Len())
	for v := range s.videos.Values() {
		out = append(out, v.VimeoID)
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
	out := make([]Video, 0, s.videos.Len())
	for _, id := range s.VideoIDs() {
		out = append(out, *s.Video(id))
	}
	return out
}

// Placements returns every placement, folder by folder in tree order.
func (s *Snapshot) Placements() []Placement {
	var out []Placement
	for _, f := range s.folderIDs {
		for _, p := range s.contents[f] {
			out = append(out, p.placement(f))
		}
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
		for v := range s.videos.Values() {
			if !yield(&v.Video) {
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
	return func(yield func(Placement) bool) {
		for _, p := range s.contents[folderVimeoID] {
			if !yield(p.placement(folderVimeoID)) {
				return
			}
		}
	}
}

// AllRoots yields the top-level folders' ids in sibling order, as Roots does,
// without copying.
func (s *Snapshot) AllRoots() iter.Seq[string] { return slices.Values(s.roots) }

// ContentsLen is the number of videos placed directly in the folder.
func (s *Snapshot) ContentsLen(folderVimeoID string) int { return len(s.contents[folderVimeoID]) }
