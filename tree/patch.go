package tree

import (
	"errors"
	"maps"
	"slices"
)

// ErrFeedGap means a change feed no longer reaches back to the asked version
// (its retention dropped the entries, or they were never recorded): the
// caller must read the whole tree instead (Store.LoadSnapshot).
var ErrFeedGap = errors.New("tree: change feed does not reach back that far")

// FeedRetention is how many content versions a store's change feed keeps:
// ContentChangesSince answers for a version at most this far behind the
// current one, and ErrFeedGap further back.
const FeedRetention = 10000

// ContentChanges is what changed in the mirror between two content versions:
// the Vimeo ids of the folders and videos whose rows or placements the
// transactions of versions From+1 … To wrote, each once, sorted. A folder
// move names the moved folder (its descendants' rows do not change); a
// folder delete or restore names every folder of the subtree it changed; a
// placement change names the video.
type ContentChanges struct {
	From, To int64
	Folders  []string
	Videos   []string
}

// Empty reports whether nothing changed.
func (c ContentChanges) Empty() bool { return len(c.Folders) == 0 && len(c.Videos) == 0 }

// Objects are the current rows of some folders and videos, soft-deleted ones
// included, and every placement of those videos and in those folders
// (whether or not the other side is live): what a ContentFeed's LoadObjects
// returns, and what Snapshot.Patch applies.
type Objects struct {
	Folders    []Folder
	Videos     []Video
	Placements []Placement
}

// Patch returns a new snapshot at version: s with the objects' current rows
// in place of their old ones. s must be a snapshot of live objects (as
// LoadSnapshot returns it without IncludeDeleted): a soft-deleted folder or
// video in objs leaves the result, with its placements. Every placement of a
// video in objs.Videos and every placement in a folder of objs.Folders is
// replaced by the ones in objs.Placements; placements whose folder or video is
// not live are left out, as LoadSnapshot leaves them out. The result equals
// the snapshot New would build from the patched flat lists.
//
// Patch validates like New: a bad object (empty id, unknown status, a folder
// that is its own parent, an id listed twice), a live folder whose parent is
// not live (ErrOrphan), a parent cycle (ErrCycle) or a placement that names
// neither a changed folder nor a changed video (ErrInvalid) is returned as
// *Error values joined together, and nothing is built. s is never modified.
//
// The unchanged parts are shared with s, the records of unchanged videos
// included: a change of videos alone copies the records changed since the
// map of videos it shares was built (past 1/64 of the map they are folded
// into a new one) and, when placements changed, the map of folder
// contents, not a rebuild; a change of folders also relinks the folder
// structure, O(folders).
func (s *Snapshot) Patch(version int64, objs Objects) (*Snapshot, error) {
	n := *s
	n.version = version
	var problems []error
	report := func(e *Error) bool {
		problems = append(problems, e)
		return len(problems) >= maxProblems
	}
	stop := func() (*Snapshot, error) { return nil, errors.Join(problems...) }

	changedF := make(map[string]bool, len(objs.Folders))
	if len(objs.Folders) > 0 {
		n.folders = maps.Clone(s.folders)
	}
	for i := range objs.Folders {
		f := objs.Folders[i]
		var bad *Error
		switch {
		case f.VimeoID == "":
			bad = Errorf(ErrInvalid, "folder", "", "empty Vimeo id (named %q)", f.Name)
		case f.VimeoID == f.ParentVimeoID:
			bad = Errorf(ErrCycle, "folder", f.VimeoID, "folder is its own parent")
		case changedF[f.VimeoID]:
			bad = Errorf(ErrDuplicate, "folder", f.VimeoID, "listed twice")
		}
		if bad != nil {
			if report(bad) {
				return stop()
			}
			continue
		}
		changedF[f.VimeoID] = true
		if f.Deleted() {
			delete(n.folders, f.VimeoID)
		} else {
			n.folders[f.VimeoID] = &f
		}
	}
	changedV := make(map[string]bool, len(objs.Videos))
	cloned := false // n.videos is n's own
	if len(objs.Videos) > 0 {
		n.videos, cloned = s.videos.Clone(), true
	}
	for i := range objs.Videos {
		v := &video{Video: objs.Videos[i]}
		if bad := checkVideo(&v.Video, changedV[v.VimeoID]); bad != nil {
			if report(bad) {
				return stop()
			}
			continue
		}
		changedV[v.VimeoID] = true
		if v.Deleted() {
			n.videos.Delete(v.VimeoID)
			continue
		}
		v.intern()
		if old, ok := s.videos.Get(v.VimeoID); ok {
			v.homes = old.homes // until the placements say otherwise (below)
		}
		n.videos.Put(v.VimeoID, v)
	}
	if len(problems) > 0 {
		return stop()
	}
	if len(objs.Folders) > 0 && n.link(report) {
		return stop()
	}

	// The new placements, by folder and by video; those of objects that are
	// not live are dropped.
	seen := make(map[[2]string]bool, len(objs.Placements))
	added := make(map[string][]slot)
	addedHomes := make(map[string][]string)
	for _, p := range objs.Placements {
		var bad *Error
		k := [2]string{p.FolderVimeoID, p.VideoVimeoID}
		switch {
		case !changedF[p.FolderVimeoID] && !changedV[p.VideoVimeoID]:
			bad = Errorf(ErrInvalid, "placement", p.VideoVimeoID, "names neither a changed folder nor a changed video (folder %q)", p.FolderVimeoID)
		case seen[k]:
			bad = Errorf(ErrDuplicate, "placement", p.VideoVimeoID, "placed twice in folder %q", p.FolderVimeoID)
		}
		if bad != nil {
			if report(bad) {
				return stop()
			}
			continue
		}
		seen[k] = true
		if _, live := n.videos.Get(p.VideoVimeoID); n.folders[p.FolderVimeoID] == nil || !live {
			continue
		}
		added[p.FolderVimeoID] = append(added[p.FolderVimeoID], slot{video: p.VideoVimeoID, sort: p.SortOrder})
		addedHomes[p.VideoVimeoID] = append(addedHomes[p.VideoVimeoID], p.FolderVimeoID)
	}
	if len(problems) > 0 {
		return stop()
	}
	if len(changedF) == 0 && s.samePlacements(changedV, added) {
		n.videos.foldIfLarge()
		return &n, nil // a metadata edit: contents and homes are shared
	}

	// A placement is replaced when its video or its folder changed.
	touchedF := make(map[string]bool)
	touchedV := make(map[string]bool)
	for v := range changedV {
		touchedV[v] = true
		for _, f := range s.homes(v) {
			touchedF[f] = true
		}
	}
	for f := range changedF {
		touchedF[f] = true
		for _, p := range s.contents[f] {
			touchedV[p.video] = true
		}
	}
	for f, ps := range added {
		touchedF[f] = true
		for _, p := range ps {
			touchedV[p.video] = true
		}
	}
	n.contents = maps.Clone(s.contents)
	for f := range touchedF {
		var ps []slot
		if !changedF[f] {
			for _, p := range s.contents[f] {
				if !changedV[p.video] {
					ps = append(ps, p)
				}
			}
		}
		ps = append(ps, added[f]...)
		if n.folders[f] == nil || len(ps) == 0 {
			delete(n.contents, f)
			continue
		}
		slices.SortFunc(ps, compareSlots)
		n.contents[f] = ps
	}
	if !cloned && len(touchedV) > 0 {
		n.videos = s.videos.Clone()
	}
	for id := range touchedV {
		var homes []string
		if !changedV[id] {
			for _, f := range s.homes(id) {
				if !changedF[f] {
					homes = append(homes, f)
				}
			}
		}
		homes = append(homes, addedHomes[id]...)
		v, ok := n.videos.Get(id)
		if !ok {
			continue
		}
		if len(homes) == 0 {
			homes = nil
		}
		slices.Sort(homes)
		if !changedV[id] { // s's record: n gets a copy
			c := *v
			v = &c
			n.videos.Put(id, v)
		}
		v.homes = homes
	}
	n.videos.foldIfLarge()
	return &n, nil
}

// homes is the folders the video is placed in, sorted (not a copy).
func (s *Snapshot) homes(videoVimeoID string) []string {
	if v, ok := s.videos.Get(videoVimeoID); ok {
		return v.homes
	}
	return nil
}

// samePlacements reports whether the live placements of the changed videos
// are exactly the ones s has for them (no folder changed).
func (s *Snapshot) samePlacements(changedV map[string]bool, added map[string][]slot) bool {
	n := 0
	for f, ps := range added {
		for _, p := range ps {
			if !slices.Contains(s.contents[f], p) {
				return false
			}
			n++
		}
	}
	old := 0
	for v := range changedV {
		old += len(s.homes(v))
	}
	return n == old
}
