package library

import (
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
//     listings: only the changed videos get new nodes (content_.patched),
//     and the search index is the first unpatched content's with the
//     postings of the videos patched since made anew (searchIndex.overlay);
//   - any other change builds the listings and the index from the patched
//     snapshot in memory, as a reload would after its store read.
//
// The full reload (LoadSnapshot) remains the fallback: a store without a
// feed, a feed gap (ErrFeedGap), more changes than maxPatchObjects, an error
// reading the feed or a patch that does not validate.

// maxPatchObjects is the most changed folders and videos a patch takes; past
// it a full reload is cheaper than reading them one by one.
const maxPatchObjects = 50_000

// maxPatchedVideos bounds content_.patched: past it the listings are rebuilt
// from the snapshot (the index is still kept when it may be). Each patched
// content's search index re-tokenizes the videos patched since its root
// (searchIndex.overlay), about 9 µs of CPU each (BenchmarkSearchIndexBuild:
// 0.52 s on 2 cores for 110,000 documents), and the map is copied per
// patch: the bound keeps a patch's share to tens of milliseconds, at the
// price of a rebuild of the listings and the search index every 4,096
// distinct edited videos.
const maxPatchedVideos = 1 << 12

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
	var (
		idx     *entitle.Index
		ct      *content_
		patched bool
	)
	if keep {
		// The same compiled index and views, naming things from the
		// patched snapshot (explanations, the ranking pipeline and the
		// admin read titles and the content version through it).
		if idx, err = cur.idx.WithSnapshot(snap); err != nil {
			return fmt.Errorf("library: keep the index: %w", err)
		}
		if ev != cur.ent {
			// The index's snapshot part still holds: derive it for the new
			// rules, keeping the views the rule change cannot affect.
			if idx, err = idx.WithRules(rules, ev); err != nil {
				return fmt.Errorf("library: compile entitlements: %w", err)
			}
		}
	}
	switch {
	case keep && len(cur.patched)+len(ch.Videos) <= maxPatchedVideos:
		ct, patched = cur.patchVideos(snap, ch.Videos), true
	case keep:
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
		zap.Bool("index_kept", keep), zap.Bool("listings_patched", patched), zap.Duration("took", st.buildDur))
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
// metadata of the named videos (indexUnaffected held): it shares c's
// folders and nodes, with new nodes for those videos.
func (c *content_) patchVideos(snap *tree.Snapshot, ids []string) *content_ {
	n := &content_{folders: c.folders, videos: c.videos, roots: c.roots, patched: maps.Clone(c.patched), searchRoot: c.searchRoot}
	if n.searchRoot == nil {
		n.searchRoot = c
	}
	if n.patched == nil {
		n.patched = make(map[*videoNode]*videoNode, len(ids))
	}
	for _, id := range ids {
		base, _ := c.videos.Get(id)
		prev := c.cur(base)
		next := &videoNode{v: snap.Video(id), folders: prev.folders, pos: prev.pos}
		n.patched[base] = next
		base.replaced.Store(true)
		prev.replaced.Store(true)
	}
	// The lists of playable videos hold the nodes the content was built
	// with, as the listings do (read through cur): they are shared, not
	// copied, so a patch costs what it changes, not the library's size.
	n.playable = c.playable
	if c.recentDone.Load() { // else n sorts its own on first use
		recent := c.recent() // creation times did not change: the order holds
		n.recentOnce.Do(func() {
			n.recentList = recent
			n.recentDone.Store(true)
		})
	}
	return n
}
