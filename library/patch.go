package library

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// Incremental generations. When the store has a change feed
// (tree.ContentFeed) that reaches back to the loaded content version, a
// content change is patched in rather than reloaded: the changed rows are
// read (LoadObjects), the snapshot is patched (tree.Snapshot.Patch), and then
//
//   - a metadata edit (title, description, thumbnails, tags, … of videos
//     whose playability, Vimeo privacy, creation time, placements and
//     whether they have thumbnails did not change, and no folder changed)
//     keeps the compiled entitle.Index and its cached views (derived with
//     entitle.Index.WithRules when the rules changed too), and the
//     listings: only the changed videos get new nodes (content_.patched);
//   - any other change of videos alone (a video moved, reordered in its
//     folder, deleted, restored, new, made playable or not, its creation
//     time, thumbnails or privacy changed) patches the index
//     (entitle.Index.WithVideos: positions stable, cached views carried
//     over; then WithRules if the rules changed) and the listings: the
//     changed videos get new nodes, the folders whose listing changed are
//     listed anew and they and their ancestors get their covers anew
//     (content_.lists), and the playable lists are copied with the changed
//     videos put in their place (content_.patchVideos);
//   - in both cases the search index is the first unpatched content's with
//     the postings of the videos patched since made anew, and after a move,
//     a delete or a new video its documents renumbered as a content built
//     from scratch numbers them (searchIndex.overlay); a change of text
//     alone after that derives from the index before it, built, instead
//     of renumbering again (searchIndex.retext);
//   - past maxPatchedVideos videos or maxRelistedFolders folders patched
//     since the listings were built from scratch, or after a folder change,
//     the listings are built from the patched snapshot in memory, as a
//     reload would after its store read; the index is still kept or patched
//     when it may be: a folder change the index does not compile (a rename
//     that keeps the siblings' order: entitle.Index.SameFolders) patches it
//     as a change of videos does, and only a change of the folders' shape
//     (a folder added, moved, reordered or deleted), or one past
//     maxIndexPatches video changes patched into the index since it was
//     compiled, compiles it anew (and its views start cold).
//
// The full reload (LoadSnapshot) remains the fallback: a store without a
// feed, a feed gap (ErrFeedGap), more changes than maxPatchObjects, an error
// reading the feed or a patch that does not validate.

// maxPatchObjects is the most changed folders and videos a patch takes; past
// it a full reload is cheaper than reading them one by one.
const maxPatchObjects = 50_000

// maxPatchedVideos bounds content_.patched and content_.added, the videos
// patched since the content was built from scratch: past it the listings
// are rebuilt from the snapshot (the index is still kept or patched when it
// may be: see maxIndexPatches). Each patched
// content's search index re-tokenizes the videos patched since its root
// (searchIndex.overlay), about 9 µs of CPU each (BenchmarkSearchIndexBuild:
// 0.52 s on 2 cores for 110,000 documents), and the map is copied per
// patch: the bound keeps a patch's share to tens of milliseconds, at the
// price of a rebuild of the listings and the search index every 4,096
// distinct edited videos.
const maxPatchedVideos = 1 << 12

// maxIndexPatches bounds the video changes patched into the index
// (entitle.Index.WithVideos) since it was compiled with entitle.New: past
// it the index is compiled anew and the views start cold. Positions drift
// from the folder preorder with each change, so views grow a little; at a
// move a second that is a recompile every four and a half hours.
const maxIndexPatches = 1 << 14

// maxRelistedFolders bounds content_.lists, the folders listed anew since
// the content was built from scratch (copied per patch, as patched is): a
// move lists its old and new folders anew and makes the covers of their
// ancestors.
const maxRelistedFolders = 1 << 14

// errNoPatch means the change cannot be patched in: reload.
var errNoPatch = errors.New("library: change not patchable")

// patch builds the next generation from cur and the store's change feed. It
// returns errNoPatch (wrapped) when a full reload must be done instead.
func (s *Service) patch(ctx context.Context, cur *state, start time.Time) error {
	feed, ok := s.store.(tree.ContentFeed)
	if !ok {
		return fmt.Errorf("%w: the store has no change feed", errNoPatch)
	}
	ch, err := feed.ContentChangesSince(ctx, cur.content)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoPatch, err)
	}
	if len(ch.Folders)+len(ch.Videos) > maxPatchObjects {
		return fmt.Errorf("%w: %d folders and %d videos changed", errNoPatch, len(ch.Folders), len(ch.Videos))
	}
	objs, err := feed.LoadObjects(ctx, ch.Folders, ch.Videos)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoPatch, err)
	}
	snap, err := cur.snap.Patch(ch.To, objs)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoPatch, err)
	}
	ev, err := s.store.EntitlementVersion(ctx)
	if err != nil {
		return fmt.Errorf("library: entitlement version: %w", err)
	}
	// The rules are copied out of the index only when they are needed: a
	// rule change, or an index compiled anew (20,000 rules are 3 MB).
	var rules []entitle.Rule // when ev != cur.ent: the new ones
	nrules := cur.rules
	if ev != cur.ent {
		if rules, ev, err = s.nextRules(ctx, cur.ent, cur.idx.Rules()); err != nil {
			return err
		}
		nrules = len(rules)
	}
	keep := indexUnaffected(cur.idx, cur.snap, snap, ch)
	// A change of videos alone is patched into the listings while the
	// videos patched and folders listed anew since they were built from
	// scratch stay within their bounds.
	listings := len(ch.Folders) == 0 && len(cur.patched)+len(cur.added)+len(ch.Videos) <= maxPatchedVideos &&
		len(cur.lists) <= maxRelistedFolders
	var (
		idx     *entitle.Index
		ct      *content_
		patched bool // the listings
		indexed bool // the index patched (WithVideos)
	)
	switch {
	case keep:
		// The same compiled index and views, naming things from the
		// patched snapshot (explanations, the ranking pipeline and the
		// admin read titles and the content version through it).
		if idx, err = cur.idx.WithSnapshot(snap); err != nil {
			return fmt.Errorf("library: keep the index: %w", err)
		}
	case cur.idx.PatchedVideos()+len(ch.Videos) <= maxIndexPatches && (len(ch.Folders) == 0 || cur.idx.SameFolders(snap)):
		// Videos changed, and folders at most in what the index does not
		// compile (a rename that keeps the siblings' order): the index
		// patched, its positions stable and its cached views carried over.
		if idx, err = cur.idx.WithVideos(snap, ch.Videos); err != nil {
			return fmt.Errorf("%w: %w", errNoPatch, err)
		}
		indexed = true
	}
	if idx != nil && ev != cur.ent {
		// The index's snapshot part still holds: derive it for the new
		// rules, keeping the views the rule change cannot affect.
		if idx, err = idx.WithRules(rules, ev); err != nil {
			return fmt.Errorf("library: compile entitlements: %w", err)
		}
	}
	switch {
	case listings && idx != nil:
		ct, patched = cur.patchVideos(snap, ch.Videos, idx), true
	case idx != nil:
		ct = buildContent(snap)
		ct.setPositions(idx)
	default:
		if ev == cur.ent {
			rules = cur.idx.Rules()
		}
		var wg sync.WaitGroup
		wg.Go(func() { ct = buildContent(snap) })
		idx, err = entitle.New(snap, rules, ev, s.opts.Index)
		wg.Wait()
		if err != nil {
			return fmt.Errorf("library: compile entitlements: %w", err)
		}
		ct.setPositions(idx)
	}
	if !patched && s.opts.WarmSearch {
		ct.inheritSearch(cur.content_)
	}
	st := &state{
		snap: snap, idx: idx, content: ch.To, ent: ev, version: versionString(ch.To, ev),
		content_: ct, loadedAt: s.opts.Now(), buildDur: time.Since(start), rules: nrules,
	}
	st.cache.Store(newLRU(s.opts.MaxCachedPages, s.opts.MaxCachedBytes))
	s.cur.Store(st)
	s.warmSearch()
	s.log.Info("generation patched", zap.Int64("content_version", ch.To), zap.Int64("entitlement_version", ev),
		zap.Int("folders_changed", len(ch.Folders)), zap.Int("videos_changed", len(ch.Videos)),
		zap.Bool("index_kept", keep), zap.Bool("index_patched", indexed), zap.Bool("listings_patched", patched),
		zap.Duration("took", st.buildDur))
	return nil
}

// indexUnaffected reports whether an Index compiled from old answers for
// next as it does for old, positions included: no folder changed, and no
// changed video became or stopped being a candidate, changed placements,
// or changed what the listings order or pick covers by (creation time,
// having thumbnails).
func indexUnaffected(idx *entitle.Index, old, next *tree.Snapshot, ch tree.ContentChanges) bool {
	if len(ch.Folders) > 0 {
		return false
	}
	for _, id := range ch.Videos {
		a, b := old.Video(id), next.Video(id)
		if a == nil || b == nil || a.Playable() != b.Playable() || idx.EmbedBlock(a) != idx.EmbedBlock(b) ||
			!a.CreatedAt.Equal(b.CreatedAt) || (len(a.Pictures) > 0) != (len(b.Pictures) > 0) {
			return false
		}
		homes := old.FoldersOf(id)
		if !slices.Equal(homes, next.FoldersOf(id)) {
			return false
		}
		for _, f := range homes {
			if sortOrder(old, f, id) != sortOrder(next, f, id) {
				return false
			}
		}
	}
	return true
}

func sortOrder(s *tree.Snapshot, folder, video string) int {
	for p := range s.AllContents(folder) {
		if p.VideoVimeoID == video {
			return p.SortOrder
		}
	}
	return -1
}

// patchVideos returns the content of snap, which differs from c only in the
// named videos (added, removed, moved, reordered, edited: no folder changed),
// with idx the positions of an Index for snap, which are c's for every
// other video (entitle.Index.WithVideos keeps them).
// It shares c's nodes and overlays what changed (see content_.patched): the
// named videos get new nodes (positions from idx); the folders whose
// listing changed (the old and new folders of a video whose placements,
// playability, thumbnails, creation time or position changed, a folder
// whose order changed) are listed anew, and they and their ancestors get
// their covers anew; the playable lists are copied with those videos taken
// out and put back where they now belong. A change of the videos' text
// alone shares every list.
func (c *content_) patchVideos(snap *tree.Snapshot, ids []string, idx positions) *content_ {
	n := &content_{folders: c.folders, videos: c.videos, roots: c.roots, searchRoot: c.searchRoot,
		patched: maps.Clone(c.patched), added: maps.Clone(c.added), lists: c.lists, docsMoved: c.docsMoved}
	if n.searchRoot == nil {
		n.searchRoot = c
	}
	if n.patched == nil {
		n.patched = make(map[*videoNode]*videoNode, len(ids))
	}
	relist := map[*folderNode]bool{}
	var moved []*videoNode // key nodes of the videos whose place in the playable lists may have changed
	for _, id := range ids {
		key, prev := c.key(id), c.video(id)
		v := snap.Video(id)
		var next *videoNode
		if v != nil {
			next = &videoNode{v: v, pos: idx.VideoPos(id)}
			next.folders = next.home[:0:1]
			for f := range slices.Values(snap.FoldersOf(id)) {
				if fn := c.folders[f]; fn != nil {
					next.folders = append(next.folders, fn)
				}
			}
		}
		switch {
		case key == nil && next == nil:
			continue // neither had it
		case key == nil: // new: its first node is its key
			if n.added == nil {
				n.added = map[string]*videoNode{}
			}
			n.added[id], key = next, next
		default: // nil: gone (an added video is then no longer found by id)
			if next == nil && n.added[id] == key {
				delete(n.added, id)
			}
			n.patched[key] = next
			key.replaced.Store(true)
		}
		if prev != nil && next != nil && prev.pos == next.pos && slices.Equal(prev.folders, next.folders) &&
			prev.v.Playable() == v.Playable() && prev.v.CreatedAt.Equal(v.CreatedAt) &&
			(len(prev.v.Pictures) > 0) == (len(v.Pictures) > 0) {
			// Its text changed, maybe its place in a folder.
			for _, f := range next.folders {
				if !relist[f] && !sameListing(n.list(f).videos, snap, f.ref.ID) {
					relist[f] = true
				}
			}
			continue
		}
		moved = append(moved, key)
		for _, vn := range [2]*videoNode{prev, next} {
			if vn != nil {
				for _, f := range vn.folders {
					relist[f] = true
				}
			}
		}
	}
	if len(relist) > 0 {
		n.relist(snap, relist)
	}
	if len(moved) == 0 {
		// The lists of playable videos hold key nodes, as the listings do
		// (read through cur): they are shared, not copied, so a change of
		// text costs what it changes, not the library's size.
		n.playable = c.playable
		if c.recentDone.Load() { // else n sorts its own on first use
			recent := c.recent() // no creation time changed: the order holds
			n.recentOnce.Do(func() {
				n.recentList = recent
				n.recentDone.Store(true)
			})
		}
		if c.docsMoved && len(relist) == 0 && c.searchBuilt.Load() {
			// Only text changed since c, whose search index is renumbered:
			// n's is c's with these videos tokenized anew (retext), not
			// renumbered again from the root's.
			n.searchPrev = c
			for _, id := range ids {
				if k := n.key(id); k != nil {
					n.retexted = append(n.retexted, k)
				}
			}
		}
		return n
	}
	n.docsMoved = true
	n.replay(c, moved)
	return n
}

// sameListing reports whether the key nodes l are the videos placed in the
// folder in snap, in order.
func sameListing(l []*videoNode, snap *tree.Snapshot, folder string) bool {
	i := 0
	for p := range snap.AllContents(folder) {
		if i == len(l) || l[i].v.VimeoID != p.VideoVimeoID {
			return false
		}
		i++
	}
	return i == len(l)
}

// relist lists the folders anew from snap and makes the covers of them and
// of their ancestors anew, children before parents, as buildContent does.
// n.patched and n.added are final.
func (n *content_) relist(snap *tree.Snapshot, relist map[*folderNode]bool) {
	lists := make(map[*folderNode]*folderList, len(n.lists)+len(relist))
	maps.Copy(lists, n.lists)
	n.lists = lists
	depth := map[*folderNode]int{}
	for f := range relist {
		for a := f; a != nil; a = a.parent {
			if _, ok := depth[a]; ok {
				break
			}
			depth[a] = 0
		}
	}
	order := make([]*folderNode, 0, len(depth))
	for f := range depth {
		d := 0
		for a := f.parent; a != nil; a = a.parent {
			d++
		}
		depth[f] = d
		order = append(order, f)
	}
	slices.SortFunc(order, func(a, b *folderNode) int { return cmp.Compare(depth[b], depth[a]) })
	for _, f := range order {
		l := &folderList{videos: n.list(f).videos}
		if relist[f] {
			l.videos = nil
			for p := range snap.AllContents(f.ref.ID) {
				if k := n.key(p.VideoVimeoID); k != nil && n.cur(k) != nil {
					l.videos = append(l.videos, k)
				}
			}
		}
		for _, k := range l.videos {
			if len(l.covers) == CoverCandidates {
				break
			}
			if vn := n.cur(k); vn.v.Playable() && len(vn.v.Pictures) > 0 {
				l.covers = append(l.covers, k)
			}
		}
		for _, ch := range f.children {
			cs := n.list(ch).covers
			l.covers = append(l.covers, cs[:min(len(cs), CoverCandidates-len(l.covers))]...)
		}
		if len(l.covers) > 0 {
			l.coverPos = make([]int32, len(l.covers))
			for i, k := range l.covers {
				l.coverPos[i] = n.cur(k).pos
			}
		}
		lists[f] = l
		f.relisted.Store(true)
	}
}

// replay makes n's playable lists from c's: the moved videos (key nodes)
// taken out, and put back, in their newest-first place, those that are
// playable and placed in n. It copies c's lists once, in runs between the
// changes (O(videos) pointers copied, no node read, no map and no sort of
// the library): at a million videos, reading every node was a cache miss
// each, 30 ms a move.
func (n *content_) replay(c *content_, moved []*videoNode) {
	var drop, ins []*videoNode
	for _, k := range moved {
		if c.cur(k) != nil {
			drop = append(drop, k)
		}
		if vn := n.cur(k); vn != nil && vn.v.Playable() && len(vn.folders) > 0 {
			ins = append(ins, k)
		}
	}
	if !c.recentDone.Load() {
		n.playable = make([]*videoNode, 0, len(c.playable)+len(ins))
		n.playable = appendWithout(n.playable, c.playable, drop)
		n.playable = append(n.playable, ins...)
		return
	}
	// Where each dropped one is, and where each inserted one comes, in c's
	// newest-first order (compared as c has it: the order is sorted by
	// c's nodes).
	old := c.recent()
	in := func(vn *videoNode) int {
		i, _ := slices.BinarySearchFunc(old, vn, func(e, t *videoNode) int { return newestFirst(c.cur(e), t) })
		return i
	}
	var dropAt []int
	for _, k := range drop {
		if i := in(c.cur(k)); i < len(old) && old[i] == k {
			dropAt = append(dropAt, i)
		}
	}
	slices.Sort(dropAt)
	slices.SortFunc(ins, n.newestFirst)
	r := make([]*videoNode, 0, len(old)+len(ins))
	from := 0                // old[from:] is still to copy
	copyTo := func(to int) { // old[from:to], less the dropped ones
		for len(dropAt) > 0 && dropAt[0] < to {
			r = append(r, old[from:dropAt[0]]...)
			from, dropAt = dropAt[0]+1, dropAt[1:]
		}
		r = append(r, old[from:to]...)
		from = to
	}
	for _, k := range ins {
		copyTo(max(from, in(n.cur(k))))
		r = append(r, k)
	}
	copyTo(len(old))
	n.playable = r // the same videos, in an order (playable is unordered)
	n.recentOnce.Do(func() {
		n.recentList = r
		n.recentDone.Store(true)
	})
}

// appendWithout appends to dst the nodes of src that are not in drop (a
// few): pointers compared, no node read.
func appendWithout(dst, src, drop []*videoNode) []*videoNode {
	if len(drop) > 16 {
		set := make(map[*videoNode]bool, len(drop))
		for _, k := range drop {
			set[k] = true
		}
		for _, k := range src {
			if !set[k] {
				dst = append(dst, k)
			}
		}
		return dst
	}
	from := 0
	for i, k := range src {
		if slices.Contains(drop, k) {
			dst = append(dst, src[from:i]...)
			from = i + 1
		}
	}
	return append(dst, src[from:]...)
}
