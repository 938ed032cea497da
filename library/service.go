package library

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

// Service is the read side of vidlib: it answers Home, Folder, Video,
// Playback and Me from an immutable in-memory generation (tree, compiled
// entitlement index, per-folder listings) held in an atomic pointer, and
// keeps that generation current (Run). It is safe for concurrent use.
type Service struct {
	store Store
	opts  Options
	log   *zap.Logger

	cur     atomic.Pointer[state]
	buildMu sync.Mutex // one rebuild at a time; readers never take it
	setSem  chan struct{}
	wanted  wanted

	feeds *feedCache // stored feeds, when Options.FeedChanges is set

	warmer searchWarmer // Options.WarmSearch
}

// New returns a Service over the store. It does no I/O: call Refresh (or
// Run) to load the first generation; until then Ready is false and every
// read returns ErrNotReady.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalid)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{store: store, opts: o, log: o.Logger, setSem: make(chan struct{}, 64)}
	if o.Feeds != nil && o.FeedChanges != nil {
		s.feeds = newFeedCache(o.MaxCachedFeeds, o.FeedMaxAge)
	}
	return s, nil
}

// Ready reports whether a generation is loaded.
func (s *Service) Ready() bool { return s.cur.Load() != nil }

// WaitReady blocks until a generation is loaded or ctx is done.
func (s *Service) WaitReady(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !s.Ready() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("library: wait ready: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Status describes the loaded generation.
func (s *Service) Status() Status {
	st := s.cur.Load()
	if st == nil {
		return Status{}
	}
	nf, nv := st.snap.Len()
	return Status{
		Ready: true, ContentVersion: st.content, EntitlementVersion: st.ent,
		Folders: nf, Videos: nv, Rules: st.rules, LoadedAt: st.loadedAt, BuildDuration: st.buildDur,
	}
}

// Refresh reads the store's versions and, if either differs from the loaded
// generation (or nothing is loaded), builds and swaps in a new one: a content
// change is patched in from the store's change feed when it has one that
// reaches back to the loaded version (see Options.NoPatch), else it reloads
// the tree and the rules; an entitlement change reloads only the rules, or
// reads only the rules that changed when the store has a rule change feed
// (entitle.RuleFeed) that reaches back to the loaded version.
// Readers keep using the old generation meanwhile. Concurrent calls are
// serialised.
func (s *Service) Refresh(ctx context.Context) error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	cur := s.cur.Load()
	cv, err := s.store.ContentVersion(ctx)
	if err != nil {
		return fmt.Errorf("library: content version: %w", err)
	}
	ev, err := s.store.EntitlementVersion(ctx)
	if err != nil {
		return fmt.Errorf("library: entitlement version: %w", err)
	}
	if cur != nil && cv == cur.content && ev == cur.ent {
		return nil
	}
	return s.rebuild(ctx, cur, cur == nil || cv != cur.content)
}

// Reload rebuilds the generation from the store unconditionally, reading
// the whole tree (never patching: it is also the check of the patched
// generations).
func (s *Service) Reload(ctx context.Context) error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	return s.rebuild(ctx, nil, true)
}

func (s *Service) rebuild(ctx context.Context, cur *state, content bool) error {
	start := time.Now()
	if content && cur != nil && !s.opts.NoPatch {
		err := s.patch(ctx, cur, start)
		if !errors.Is(err, errNoPatch) {
			return err
		}
		s.log.Info("reloading the tree", zap.String("why", err.Error()))
	}
	var (
		snap *tree.Snapshot
		cv   int64
		ct   *content_
	)
	if content || cur == nil {
		// Read the version before the tree: if a write lands in between, the
		// tree is newer than its version says and the next check reloads.
		v, err := s.store.ContentVersion(ctx)
		if err != nil {
			return fmt.Errorf("library: content version: %w", err)
		}
		snap, err = s.store.LoadSnapshot(ctx, tree.LoadOptions{})
		if err != nil {
			return fmt.Errorf("library: load snapshot: %w", err)
		}
		cv = max(v, snap.Version()) // a tree read after a write is newer than v
	} else {
		snap, cv, ct = cur.snap, cur.content, cur.content_
	}
	var (
		rules []entitle.Rule
		ev    int64
		err   error
	)
	if ct == nil {
		if rules, ev, err = s.store.ListRules(ctx); err != nil {
			return fmt.Errorf("library: list rules: %w", err)
		}
	} else {
		// Only the rules changed: bring the loaded ones up to date, from
		// the rule feed when the store has one that reaches back.
		if rules, ev, err = s.nextRules(ctx, cur.ent, cur.idx.Rules()); err != nil {
			return err
		}
	}
	// The listings and the index both only read the snapshot: build them
	// side by side.
	var wg sync.WaitGroup
	built := ct == nil
	if built {
		wg.Go(func() { ct = buildContent(snap) })
	}
	var idx *entitle.Index
	if built {
		idx, err = entitle.New(snap, rules, ev, s.opts.Index)
	} else {
		// Same snapshot: reuse its compiled part and the views the rule
		// change cannot affect.
		idx, err = cur.idx.WithRules(rules, ev)
	}
	wg.Wait()
	if err != nil {
		return fmt.Errorf("library: compile entitlements: %w", err)
	}
	if built {
		ct.setPositions(idx)
		if cur != nil && s.opts.WarmSearch {
			ct.inheritSearch(cur.content_)
		}
	}
	st := &state{
		snap: snap, idx: idx, content: cv, ent: ev, version: versionString(cv, ev),
		content_: ct, loadedAt: s.opts.Now(), buildDur: time.Since(start), rules: len(rules),
	}
	st.cache.Store(newLRU(s.opts.MaxCachedPages, s.opts.MaxCachedBytes))
	s.cur.Store(st)
	if built {
		s.warmSearch() // readers that search meanwhile build it or wait for this build
	}
	nf, nv := snap.Len()
	s.log.Info("generation loaded", zap.Int64("content_version", cv), zap.Int64("entitlement_version", ev),
		zap.Int("folders", nf), zap.Int("videos", nv), zap.Int("rules", len(rules)),
		zap.Bool("tree_reloaded", ct != nil && (cur == nil || ct != cur.content_)), zap.Duration("took", st.buildDur))
	return nil
}

// Run keeps the generation current until ctx is done: it loads the first
// generation (retrying with backoff), then rebuilds when Options.Versions
// announces a version newer than the loaded one, and checks the store's
// versions every Options.PollInterval as a fallback; it applies
// Options.FeedChanges to the cached feeds. It returns ctx's error.
func (s *Service) Run(ctx context.Context) error {
	defer s.followFeedChanges(ctx)()
	var changes <-chan VersionChange
	if s.opts.Versions != nil {
		ch, stop := s.opts.Versions.Subscribe(ctx)
		defer stop()
		changes = ch
	}
	backoff := 100 * time.Millisecond
	for s.cur.Load() == nil {
		err := s.Refresh(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("first load failed; retrying", zap.Error(err), zap.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	var tick <-chan time.Time
	if s.opts.PollInterval > 0 {
		t := time.NewTicker(s.opts.PollInterval)
		defer t.Stop()
		tick = t.C
	}
	// retry fires when an announced version was not yet in the store.
	var retry <-chan time.Time
	retries := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("version check failed", zap.Error(err))
			}
		case <-retry:
			retry = nil
			if s.behind() {
				s.refreshLogged(ctx)
			}
			if s.behind() && retries < 20 {
				retries++
				retry = time.After(time.Duration(retries) * 25 * time.Millisecond)
			}
		case c, ok := <-changes:
			if !ok {
				changes = nil // the subscription ended: polling carries on
				s.log.Warn("version subscription closed; polling only")
				continue
			}
			pending := map[string]int64{c.Name: c.Version}
		drain:
			for {
				select {
				case c2, ok2 := <-changes:
					if !ok2 {
						break drain
					}
					pending[c2.Name] = max(pending[c2.Name], c2.Version)
				default:
					break drain
				}
			}
			s.wanted.merge(pending)
			if !s.behind() {
				continue
			}
			s.refreshLogged(ctx)
			if s.behind() {
				retries = 0
				retry = time.After(25 * time.Millisecond)
			}
		}
	}
}

func (s *Service) refreshLogged(ctx context.Context) {
	if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("refresh failed", zap.Error(err))
	}
}

// behind reports whether the loaded generation is older than the versions
// announced so far.
func (s *Service) behind() bool {
	st := s.cur.Load()
	if st == nil {
		return true
	}
	c, e := s.wanted.get()
	return c > st.content || e > st.ent
}

// wanted is the highest versions announced by Options.Versions.
type wanted struct {
	mu         sync.Mutex
	content, e int64
}

func (w *wanted) merge(m map[string]int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.content = max(w.content, m[VersionContent])
	w.e = max(w.e, m[VersionEntitlement])
}

func (w *wanted) get() (content, ent int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.content, w.e
}

// InvalidateFolder drops cached answers after an admin's subtree
// invalidation: every in-process cached answer of the current generation
// (they are cheap to recompute) and, in the shared cache, the entries of the
// folder's subtree and of the library root. An unknown folder is ErrNotFound.
func (s *Service) InvalidateFolder(ctx context.Context, folderID string) error {
	st := s.cur.Load()
	if st == nil {
		return ErrNotReady
	}
	sub := st.snap.Subtree(folderID)
	if sub == nil {
		return fmt.Errorf("%w: folder %s", ErrNotFound, folderID)
	}
	st.cache.Store(newLRU(s.opts.MaxCachedPages, s.opts.MaxCachedBytes))
	if s.opts.Cache != nil {
		if err := s.opts.Cache.InvalidateFolders(ctx, sub...); err != nil {
			return fmt.Errorf("library: invalidate shared cache: %w", err)
		}
	}
	return nil
}
