package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/vidlib/vidlib/tree"
)

var _ tree.ContentFeed = (*Store)(nil)

// feedEntry is what one content version changed.
type feedEntry struct {
	version         int64
	folders, videos []string
}

// recordChanges appends the changes of a committed version to the feed and
// drops the entries past tree.FeedRetention. The caller holds treeMu.
func (s *Store) recordChanges(version int64, folders, videos map[string]bool) {
	s.feed = append(s.feed, feedEntry{
		version: version,
		folders: slices.Sorted(maps.Keys(folders)),
		videos:  slices.Sorted(maps.Keys(videos)),
	})
	if drop := len(s.feed) - tree.FeedRetention; drop > 0 {
		s.feed = slices.Delete(s.feed, 0, drop)
	}
}

// ContentChangesSince implements tree.ContentFeed.
func (s *Store) ContentChangesSince(ctx context.Context, version int64) (tree.ContentChanges, error) {
	if err := ctx.Err(); err != nil {
		return tree.ContentChanges{}, err
	}
	if version < 0 {
		return tree.ContentChanges{}, fmt.Errorf("%w: negative content version %d", tree.ErrInvalid, version)
	}
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	cur := s.tree.version
	out := tree.ContentChanges{From: version, To: cur}
	switch {
	case version > cur:
		return tree.ContentChanges{}, fmt.Errorf("%w: version %d is ahead of the store's %d", tree.ErrFeedGap, version, cur)
	case version == cur:
		return out, nil
	}
	// Entries are consecutive versions ending at cur.
	i := len(s.feed) - int(cur-version)
	if i < 0 || s.feed[i].version != version+1 {
		return tree.ContentChanges{}, fmt.Errorf("%w: version %d", tree.ErrFeedGap, version)
	}
	fs, vs := map[string]bool{}, map[string]bool{}
	for _, e := range s.feed[i:] {
		for _, id := range e.folders {
			fs[id] = true
		}
		for _, id := range e.videos {
			vs[id] = true
		}
	}
	out.Folders, out.Videos = slices.Sorted(maps.Keys(fs)), slices.Sorted(maps.Keys(vs))
	return out, nil
}

// LoadObjects implements tree.ContentFeed. The placements in the named
// folders are found by a scan of every placement (the store keeps no index
// by folder): O(placements) when folders are named, O(named) otherwise.
func (s *Store) LoadObjects(ctx context.Context, folderIDs, videoIDs []string) (tree.Objects, error) {
	if err := ctx.Err(); err != nil {
		return tree.Objects{}, err
	}
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	st := s.tree
	var out tree.Objects
	fs := make(map[string]bool, len(folderIDs))
	for _, id := range folderIDs {
		if f, ok := st.folders[id]; ok && !fs[id] {
			fs[id] = true
			out.Folders = append(out.Folders, f)
		}
	}
	vs := make(map[string]bool, len(videoIDs))
	for _, id := range videoIDs {
		if v, ok := st.videos[id]; ok && !vs[id] {
			vs[id] = true
			out.Videos = append(out.Videos, v)
		}
	}
	add := func(vid string) {
		for fid, order := range st.placements[vid] {
			out.Placements = append(out.Placements, tree.Placement{FolderVimeoID: fid, VideoVimeoID: vid, SortOrder: order})
		}
	}
	for vid := range vs {
		add(vid)
	}
	if len(fs) > 0 {
		for vid, m := range st.placements {
			if vs[vid] {
				continue
			}
			for fid, order := range m {
				if fs[fid] {
					out.Placements = append(out.Placements, tree.Placement{FolderVimeoID: fid, VideoVimeoID: vid, SortOrder: order})
				}
			}
		}
	}
	return out, nil
}
