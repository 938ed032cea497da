package tree

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Poll applies the source's recent changes since the persisted cursor and
// persists the next cursor with them, in the same transaction. Videos whose
// folder the change list does not give are read one by one (skipping those
// the mirror already has at the same modified time); a video that now sits
// in a folder under the root is created, restored, moved or updated, one that
// left the root is deleted (the read is the confirmation); folders under the
// root are created, restored and renamed, and one that left the root is
// confirmed by a read and deleted with the videos it took along. Folder
// deletions and folder moves inside the root wait for the next
// reconciliation. With an empty mirror, Poll only establishes the cursor.
func (m *Mirror) Poll(ctx context.Context) (*Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	run := m.newRun(TriggerPoll)
	rep := &Report{}
	var cur Cursor
	raw, err := m.store.SyncState(ctx, PollCursorState)
	if err != nil {
		return m.finish(ctx, rep, run, fmt.Errorf("tree: read poll cursor: %w", err))
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &cur); err != nil {
			return m.finish(ctx, rep, run, fmt.Errorf("tree: poll cursor %s: %w", raw, err))
		}
	}
	ch, err := m.src.Changes(ctx, cur)
	if ch != nil {
		run.APICalls += ch.Calls
	}
	if err != nil {
		return m.finish(ctx, rep, run, fmt.Errorf("%w: recent changes: %w", ErrSource, err))
	}
	run.Complete = !ch.Truncated
	rep.NeedsReconcile = ch.Truncated
	local, root, err := m.rooted(ctx)
	if err != nil {
		return m.finish(ctx, rep, run, err)
	}
	if root == "" {
		// Nothing to apply changes to: keep the cursor so that the first
		// reconciliation's changes are not polled twice, and ask for one.
		rep.NeedsReconcile = true
		v, _, err := m.apply(ctx, local, nil, m.saveCursor(ctx, ch.Next))
		rep.Version = v
		return m.finish(ctx, rep, run, err)
	}
	in := m.newIncremental(ctx, local, root, &run)
	if err := in.folders(ch.Folders); err != nil {
		return m.finish(ctx, rep, run, err)
	}
	seen := map[string]bool{}
	for i := range ch.Videos {
		rv := &ch.Videos[i]
		id := rv.Video.VimeoID
		if seen[id] {
			continue
		}
		seen[id] = true
		if lv := local.Video(id); lv != nil && !lv.Deleted() && lv.Status != StatusUnavailable &&
			lv.ModifiedAt.Equal(rv.Video.ModifiedAt) && !rv.Video.ModifiedAt.IsZero() {
			continue // the mirror has this version already (the watermark's own video)
		}
		if in.fetches >= m.opts.MaxPollFetches {
			rep.NeedsReconcile = true
			run.Errors = append(run.Errors, fmt.Sprintf("poll stopped after %d reads; a reconciliation will finish", in.fetches))
			break
		}
		var err error
		if rv.FolderUnknown {
			rv, err = in.fetchVideo(id)
		}
		if err := in.video(id, rv, err); err != nil {
			return m.finish(ctx, rep, run, err)
		}
	}
	next := ch.Next
	quiet := len(in.changes) == 0 && sameCursor(next, cur)
	if quiet {
		if !m.opts.RecordQuietPolls {
			rep.Version = local.Version()
			rep.Run = run
			return rep, nil
		}
		return m.finish(ctx, rep, run, nil)
	}
	v, n, err := m.apply(ctx, local, in.changes, m.saveCursor(ctx, next))
	rep.Applied = in.changes[:n]
	rep.Version = v
	if err != nil {
		rep.NeedsReconcile = true
	}
	if len(rep.Applied) == 0 && err == nil && !m.opts.RecordQuietPolls {
		rep.Run = run
		return rep, nil
	}
	return m.finish(ctx, rep, run, err)
}

func (m *Mirror) saveCursor(ctx context.Context, c Cursor) func(Tx) error {
	return func(tx Tx) error {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return tx.SetSyncState(ctx, PollCursorState, b)
	}
}

// RefreshVideo re-reads one video from the source and applies what it finds
// (the webhook applier): edited → updated; in another folder under the root →
// moved (folders it needs are created); outside the root → deleted if the
// mirror had it, nothing otherwise; 404 → deleted; 403 → unavailable; back
// after a deletion → restored. Re-reading is the truth, so duplicates and
// reordered deliveries are harmless. A video outside the mirrored root that
// the mirror does not know changes nothing.
func (m *Mirror) RefreshVideo(ctx context.Context, vimeoID, trigger string) (*Report, error) {
	if trigger == "" {
		trigger = TriggerWebhook
	}
	return m.incrementally(ctx, trigger, func(in *incremental, _ *Report) ([]Change, error) {
		rv, err := in.fetchVideo(vimeoID)
		if err := in.video(vimeoID, rv, err); err != nil {
			return nil, err
		}
		return in.changes, nil
	})
}

// incrementally runs one incremental operation (RefreshVideo,
// ReconcileFolder) under m.mu: it loads the mirror and its root (without a
// root: ErrNoRoot, and rep.NeedsReconcile), lets decide find the changes
// (it may hold some in rep.Held and return the others), applies what it
// returns and records the run.
func (m *Mirror) incrementally(ctx context.Context, trigger string, decide func(in *incremental, rep *Report) ([]Change, error)) (*Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	run := m.newRun(trigger)
	rep := &Report{}
	local, root, err := m.rooted(ctx)
	if err != nil {
		return m.finish(ctx, rep, run, err)
	}
	if root == "" {
		rep.NeedsReconcile = true
		return m.finish(ctx, rep, run, ErrNoRoot)
	}
	changes, err := decide(m.newIncremental(ctx, local, root, &run), rep)
	if err != nil {
		return m.finish(ctx, rep, run, err)
	}
	if len(changes) == 0 {
		rep.Version = local.Version()
		return m.finish(ctx, rep, run, nil)
	}
	v, n, err := m.apply(ctx, local, changes, nil)
	rep.Applied = changes[:n]
	rep.Version = v
	return m.finish(ctx, rep, run, err)
}

// rooted loads the mirror and its root: root is "" when the mirror has no
// live root folder yet (before the first reconciliation). m.mu is held.
func (m *Mirror) rooted(ctx context.Context) (local *Snapshot, root string, err error) {
	local, err = m.snapshot(ctx)
	if err != nil {
		return nil, "", err
	}
	root = m.rootOf(local)
	if root == "" || local.Folder(root) == nil {
		return local, "", nil
	}
	return local, root, nil
}

// incremental decides the changes of a poll or a refresh: objects one by one
// against the mirror, without a full remote snapshot.
type incremental struct {
	m       *Mirror
	ctx     context.Context
	local   *Snapshot
	root    string
	run     *SyncRun
	fetches int

	changes []Change
	live    map[string]bool // folders made live (or kept) by this run's changes
	gone    map[string]bool // folders this run deletes
	under   map[string]bool // folders read from the source: under the root?
	next    map[string]int  // folder → next free sort order
	placed  map[string]bool // videos this run has decided already
}

func (m *Mirror) newIncremental(ctx context.Context, local *Snapshot, root string, run *SyncRun) *incremental {
	return &incremental{m: m, ctx: ctx, local: local, root: root, run: run,
		live: map[string]bool{}, gone: map[string]bool{}, under: map[string]bool{},
		next: map[string]int{}, placed: map[string]bool{}}
}

// liveFolder reports whether the folder will be live in the mirror after
// this run's changes.
func (in *incremental) liveFolder(id string) bool {
	if id == "" || in.gone[id] {
		return false
	}
	if in.live[id] {
		return true
	}
	f := in.local.Folder(id)
	if f == nil || f.Deleted() {
		return false
	}
	// Live, unless an ancestor is being deleted by this run.
	for _, a := range in.local.Ancestors(id) {
		if in.gone[a] {
			return false
		}
	}
	return true
}

func (in *incremental) fetchVideo(id string) (*RemoteVideo, error) {
	in.fetches++
	rv, err := in.m.src.Video(in.ctx, id)
	if rv != nil && rv.Calls > 0 {
		in.run.APICalls += rv.Calls
	} else {
		in.run.APICalls++
	}
	return rv, err
}

func (in *incremental) fetchFolder(id string) (*RemoteFolder, error) {
	in.fetches++
	rf, err := in.m.src.Folder(in.ctx, id)
	if rf != nil && rf.Calls > 0 {
		in.run.APICalls += rf.Calls
	} else {
		in.run.APICalls++
	}
	return rf, err
}

func (in *incremental) isUnder(rf *RemoteFolder) bool {
	return rf.Folder.VimeoID == in.root || slices.Contains(rf.Ancestors, in.root)
}

// folderUnderRoot reports whether a video's folder lies under the root,
// making it (and its missing ancestors) live in the mirror if it does.
func (in *incremental) folderUnderRoot(id string) (bool, error) {
	if id == "" || in.gone[id] {
		return false, nil
	}
	if in.liveFolder(id) {
		return true, nil
	}
	if u, ok := in.under[id]; ok {
		return u, nil
	}
	rf, err := in.fetchFolder(id)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrForbidden):
		in.under[id] = false
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: folder %s: %w", ErrSource, id, err)
	}
	u := in.isUnder(rf)
	in.under[id] = u
	if u {
		return true, in.ensureFolder(rf, 0)
	}
	return false, nil
}

// ensureFolder makes a folder under the root live in the mirror with its
// current name and parent, creating or restoring missing ancestors first.
func (in *incremental) ensureFolder(rf *RemoteFolder, depth int) error {
	if depth > 16 {
		return fmt.Errorf("%w: folder %s: ancestor chain too deep", ErrSource, rf.Folder.VimeoID)
	}
	rec := rf.Folder
	if rec.VimeoID == in.root {
		rec.ParentVimeoID = ""
	}
	if p := rec.ParentVimeoID; p != "" && !in.liveFolder(p) {
		prf, err := in.fetchFolder(p)
		if err != nil {
			return fmt.Errorf("%w: ancestor %s of folder %s: %w", ErrSource, p, rec.VimeoID, err)
		}
		if !in.isUnder(prf) {
			return fmt.Errorf("%w: ancestor %s of folder %s is outside the root", ErrSource, p, rec.VimeoID)
		}
		if err := in.ensureFolder(prf, depth+1); err != nil {
			return err
		}
	}
	lf := in.local.Folder(rec.VimeoID)
	if lf != nil {
		rec.SortOrder = lf.SortOrder // a single read does not know the position
	} else if rec.ParentVimeoID != "" {
		rec.SortOrder = in.nextOrder(rec.ParentVimeoID)
	}
	in.changes = append(in.changes, folderChanges(lf, &rec)...)
	in.live[rec.VimeoID] = true
	delete(in.gone, rec.VimeoID)
	return nil
}

// nextOrder returns a position after everything in the folder.
func (in *incremental) nextOrder(folder string) int {
	n, ok := in.next[folder]
	if !ok {
		for _, p := range in.local.Contents(folder) {
			n = max(n, p.SortOrder+1)
		}
		for _, c := range in.local.Children(folder) {
			n = max(n, in.local.Folder(c).SortOrder+1)
		}
	}
	in.next[folder] = n + 1
	return n
}

// folders applies the polled folders, shallowest first.
func (in *incremental) folders(rfs []RemoteFolder) error {
	rfs = slices.Clone(rfs)
	slices.SortStableFunc(rfs, func(a, b RemoteFolder) int { return cmp.Compare(len(a.Ancestors), len(b.Ancestors)) })
	for i := range rfs {
		rf := &rfs[i]
		id := rf.Folder.VimeoID
		if in.isUnder(rf) {
			if err := in.ensureFolder(rf, 0); err != nil {
				return err
			}
			in.under[id] = true
			continue
		}
		in.under[id] = false
		lf := in.local.Folder(id)
		if lf == nil || lf.Deleted() || in.gone[id] {
			continue
		}
		if err := in.leftRoot(id); err != nil {
			return err
		}
	}
	return nil
}

// leftRoot handles a mirrored folder that the folder list shows outside the
// root: a read confirms it, then the folder is deleted with its subtree and
// the videos it took along (each confirmed by its own read).
func (in *incremental) leftRoot(id string) error {
	rf, err := in.fetchFolder(id)
	switch {
	case errors.Is(err, ErrNotFound):
	case errors.Is(err, ErrForbidden):
		in.run.Errors = append(in.run.Errors, fmt.Sprintf("folder %s answers 403: kept", id))
		return nil
	case err != nil:
		return fmt.Errorf("%w: confirm folder %s: %w", ErrSource, id, err)
	case in.isUnder(rf):
		return in.ensureFolder(rf, 0)
	}
	lf := in.local.Folder(id)
	reason := ReasonLeftRoot
	if err != nil {
		reason = ReasonNotFound
	}
	// Videos first (children before parents), then the folder.
	for _, sub := range in.local.Subtree(id) {
		in.gone[sub] = true
	}
	for _, vid := range in.local.SubtreeVideos(id) {
		if lv := in.local.Video(vid); lv == nil || lv.Deleted() || in.placed[vid] {
			continue
		}
		rv, err := in.fetchVideo(vid)
		if err := in.video(vid, rv, err); err != nil {
			return err
		}
	}
	c := *lf
	in.changes = append(in.changes, Change{Kind: ChangeFolderDeleted, VimeoID: id, From: lf.ParentVimeoID, Folder: &c, Reason: reason})
	return nil
}

// video decides one video from its fresh read (rv, or the read's error).
func (in *incremental) video(id string, rv *RemoteVideo, rerr error) error {
	in.placed[id] = true
	lv := in.local.Video(id)
	known := lv != nil && !lv.Deleted()
	switch {
	case errors.Is(rerr, ErrNotFound):
		if known {
			v := *lv
			in.changes = append(in.changes, Change{Kind: ChangeVideoDeleted, VimeoID: id, From: firstFolder(placementsOf(in.local, id)), Video: &v, Reason: ReasonNotFound})
		}
		return nil
	case errors.Is(rerr, ErrForbidden):
		if known && lv.Status != StatusUnavailable {
			v := *sourceVideo(lv)
			v.Status = StatusUnavailable
			in.changes = append(in.changes, Change{Kind: ChangeVideoUnavailable, VimeoID: id, Fields: []string{FieldStatus}, Video: &v, Reason: ReasonForbidden})
		}
		return nil
	case rerr != nil:
		return fmt.Errorf("%w: video %s: %w", ErrSource, id, rerr)
	}
	under, err := in.folderUnderRoot(rv.FolderVimeoID)
	if err != nil {
		return err
	}
	if !under {
		if known {
			v := *lv
			in.changes = append(in.changes, Change{Kind: ChangeVideoDeleted, VimeoID: id, From: firstFolder(placementsOf(in.local, id)), Video: &v, Reason: ReasonLeftRoot})
		}
		return nil
	}
	rec := rv.Video
	rec.VimeoID = id
	lps := placementsOf(in.local, id)
	order := 0
	if len(lps) == 1 && lps[0].FolderVimeoID == rv.FolderVimeoID {
		order = lps[0].SortOrder // a single read does not know the position
	} else {
		order = in.nextOrder(rv.FolderVimeoID)
	}
	rps := []Placement{{FolderVimeoID: rv.FolderVimeoID, VideoVimeoID: id, SortOrder: order}}
	in.changes = append(in.changes, videoChanges(lv, &rec, lps, rps)...)
	return nil
}

func placementsOf(s *Snapshot, videoID string) []Placement {
	var out []Placement
	for _, f := range s.FoldersOf(videoID) {
		for _, p := range s.Contents(f) {
			if p.VideoVimeoID == videoID {
				out = append(out, p)
			}
		}
	}
	return out
}

func sameCursor(a, b Cursor) bool {
	return a.VideosSince.Equal(b.VideosSince) && a.LastModified == b.LastModified &&
		a.FoldersSince.Equal(b.FoldersSince) && a.FoldersPolledAt.Equal(b.FoldersPolledAt)
}
