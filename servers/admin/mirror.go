package admin

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/tree"
)

// Videos lists the videos users cannot see: deleted, unavailable or hidden.
func (s *Service) Videos(ctx context.Context, q VideoQuery) (Page[Video], error) {
	if q.State != "" && !q.State.Valid() {
		return Page[Video]{}, invalid("state", "want deleted, unavailable or hidden, got %q", q.State)
	}
	if q.After != "" && !library.ValidID(q.After) {
		return Page[Video]{}, invalid("after", "must be a cursor from a previous page")
	}
	if len(q.Text) > 256 {
		return Page[Video]{}, invalid("q", "at most 256 bytes")
	}
	if err := checkPage(0, &q.Limit); err != nil {
		return Page[Video]{}, err
	}
	vs, err := s.store.SearchVideos(ctx, q)
	if err != nil {
		return Page[Video]{}, err
	}
	p := Page[Video]{Items: make([]Video, 0, len(vs))}
	for _, v := range vs {
		p.Items = append(p.Items, Video{ID: v.VimeoID, Title: v.Title, Status: string(v.Status), Hidden: v.Hidden,
			Deleted: v.Deleted(), DeletedAt: v.DeletedAt, UpdatedAt: v.UpdatedAt})
	}
	if len(vs) == q.Limit {
		p.Next = vs[len(vs)-1].VimeoID
	}
	return p, nil
}

// SetVideoHidden hides a video from users (or shows it again): an admin
// decision a reconciliation never overrides. Unknown video: ErrNotFound.
// It returns the content version after the change.
func (s *Service) SetVideoHidden(ctx context.Context, a Actor, videoID string, hidden bool) (int64, error) {
	action := audit.ActionVideoShow
	if hidden {
		action = audit.ActionVideoHide
	}
	var v int64
	var err error
	if !library.ValidID(videoID) {
		err = invalid("id", "a video id is 1 to 20 digits")
	} else {
		v, err = s.store.Update(ctx, func(tx tree.Tx) error { return tx.SetVideoHidden(ctx, videoID, hidden) })
	}
	if err == nil {
		s.announce(ctx, library.VersionContent, v)
	}
	return v, s.done(ctx, a, action, "video", videoID, err, map[string]string{"version": strconv.FormatInt(v, 10)})
}

// Reconcile reconciles the root, one folder's subtree or one video. Without
// Wait it runs in the background (ReconcileResult.Started) and shows up in
// the sync run history. Without a Mirror it is sent to the sync worker as a
// command (Started and Queued, with CommandID; Wait has no effect).
func (s *Service) Reconcile(ctx context.Context, a Actor, req ReconcileRequest) (ReconcileResult, error) {
	obj := string(req.Scope)
	var err error
	switch req.Scope {
	case ReconcileRoot:
		req.ID = ""
	case ReconcileFolder, ReconcileVideo:
		if !library.ValidID(req.ID) {
			err = invalid("id", "a %s id is 1 to 20 digits", req.Scope)
		}
		obj += ":" + req.ID
	default:
		err = invalid("scope", "want root, folder or video, got %q", req.Scope)
	}
	if err == nil && s.opts.Mirror == nil {
		if s.opts.Publisher == nil {
			err = unavailable("reconciliation (no mirror, and no publisher to ask the sync worker)")
		} else {
			return s.queueReconcile(ctx, a, req, obj)
		}
	}
	if err != nil {
		return ReconcileResult{}, s.done(ctx, a, audit.ActionReconcile, "tree", obj, err, nil)
	}
	run := func(ctx context.Context) (ReconcileResult, error) {
		var rep *tree.Report
		var err error
		opts := tree.ReconcileOptions{Trigger: tree.TriggerAdmin}
		switch req.Scope {
		case ReconcileVideo:
			rep, err = s.opts.Mirror.RefreshVideo(ctx, req.ID, tree.TriggerAdmin)
		case ReconcileFolder:
			rep, err = s.opts.Mirror.ReconcileFolder(ctx, req.ID, opts)
		default:
			rep, err = s.opts.Mirror.Reconcile(ctx, opts)
		}
		res := s.resultOf(req, rep)
		if rep != nil && len(rep.Applied) > 0 {
			s.announce(ctx, library.VersionContent, rep.Version)
		}
		return res, s.done(ctx, a, audit.ActionReconcile, "tree", obj, err, map[string]string{"applied": strconv.Itoa(res.Applied), "held": strconv.Itoa(res.Held)})
	}
	if req.Wait {
		ctx, cancel := context.WithTimeout(ctx, s.opts.ReconcileWait)
		defer cancel()
		return run(ctx)
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ReconcileWait)
		defer cancel()
		if _, err := run(ctx); err != nil {
			s.log.Warn("background reconciliation failed")
		}
	}()
	return ReconcileResult{Scope: req.Scope, ID: req.ID, Started: true}, nil
}

func (s *Service) resultOf(req ReconcileRequest, rep *tree.Report) ReconcileResult {
	res := ReconcileResult{Scope: req.Scope, ID: req.ID}
	if rep == nil {
		return res
	}
	if rep.Run.ID != 0 {
		r := runOf(rep.Run)
		res.Run = &r
	}
	res.Applied, res.Held, res.Skipped, res.Version = len(rep.Applied), len(rep.Held), len(rep.Skipped), rep.Version
	res.Changes = tree.DescribeAll(rep.Applied[:min(len(rep.Applied), 200)], s.snapshot()...)
	return res
}

// DecideHeld approves a held reconciliation (a new reconciliation runs with
// the mass deletion allowed, every deletion confirmed again) or rejects it
// (nothing is deleted). A run that is not a pending held run is ErrConflict
// (an unknown run ErrNotFound). The note goes to the audit record. Without a
// Mirror the decision is sent to the sync worker as a command: the run is
// returned still pending, with CommandID.
func (s *Service) DecideHeld(ctx context.Context, a Actor, runID int64, approve bool, note string) (SyncRun, error) {
	action := audit.ActionReconcileReject
	if approve {
		action = audit.ActionReconcileApprove
	}
	oid := strconv.FormatInt(runID, 10)
	details := map[string]string{"note": note}
	r, err := s.store.SyncRun(ctx, runID)
	switch {
	case err != nil:
	case r.HeldStatus != tree.HeldPending:
		err = fmt.Errorf("%w: sync run %d is not a pending held run", ErrConflict, runID)
	case len(note) > 4096:
		err = invalid("note", "at most 4096 bytes")
	case s.opts.Mirror == nil && s.opts.Publisher == nil:
		err = unavailable("held decisions (no mirror, and no publisher to ask the sync worker)")
	case s.opts.Mirror == nil:
		return s.queueDecision(ctx, a, runID, approve, note, action, oid)
	}
	if err == nil && approve {
		wctx, cancel := context.WithTimeout(ctx, s.opts.ReconcileWait)
		var rep *tree.Report
		rep, err = s.opts.Mirror.ApproveHeld(wctx, runID, a.ID)
		cancel()
		if rep != nil {
			details["result_run"] = strconv.FormatInt(rep.Run.ID, 10)
			details["applied"] = strconv.Itoa(len(rep.Applied))
			if len(rep.Applied) > 0 {
				s.announce(ctx, library.VersionContent, rep.Version)
			}
		}
	} else if err == nil {
		err = s.opts.Mirror.RejectHeld(ctx, runID, a.ID)
	}
	if err := s.done(ctx, a, action, "sync_run", oid, err, details); err != nil {
		return SyncRun{}, err
	}
	return s.SyncRun(ctx, runID)
}

// Drift is the last finished reconciliation's changes in words, applied and
// held.
func (s *Service) Drift(ctx context.Context) (Drift, error) {
	runs, err := s.store.SearchSyncRuns(ctx, tree.SyncRunQuery{Limit: 100})
	if err != nil {
		return Drift{}, err
	}
	for _, r := range runs {
		if r.FinishedAt.IsZero() || r.Trigger == tree.TriggerPoll || r.Trigger == tree.TriggerWebhook {
			continue
		}
		run, err := s.SyncRun(ctx, r.ID)
		if err != nil {
			return Drift{}, err
		}
		d := Drift{At: r.FinishedAt, Complete: r.Complete, Counts: run.Counts, Changes: run.Changes, Held: run.HeldChanges, Total: r.ChangesTotal, APICalls: r.APICalls}
		if d.Changes == nil {
			d.Changes = []string{}
		}
		d.Summary = countsInWords(run.Counts)
		run.Changes, run.HeldChanges = nil, nil
		d.Run = &run
		d.NotPlayable = s.notPlayable()
		return d, nil
	}
	return Drift{At: s.opts.Now().UTC(), Counts: map[string]int{}, Changes: []string{}, Summary: "no reconciliation has finished yet",
		NotPlayable: s.notPlayable()}, nil
}

// maxNotPlayable bounds Drift.NotPlayable.
const maxNotPlayable = 1000

// notPlayable lists the live, available, unhidden videos of the loaded
// library that Vimeo's privacy keeps from playing in the app.
func (s *Service) notPlayable() []NotPlayable {
	out := []NotPlayable{}
	idx, err := s.index()
	if err != nil {
		return out
	}
	for v := range idx.Snapshot().AllVideos() {
		if !v.Playable() {
			continue // deleted, hidden or not available: listed elsewhere
		}
		if why := idx.EmbedBlock(v); why != "" {
			out = append(out, NotPlayable{VideoID: v.VimeoID, Title: v.Title, Reason: why})
			if len(out) == maxNotPlayable {
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b NotPlayable) int { return strings.Compare(a.VideoID, b.VideoID) })
	return out
}

// DryRun walks Vimeo now and compares with the mirror without applying
// anything: what a reconciliation would do. It costs a walk's API calls, so
// it is audited.
func (s *Service) DryRun(ctx context.Context, a Actor) (Drift, error) {
	var rep *tree.DryRunReport
	var err error
	switch {
	case s.opts.Mirror != nil:
		rep, err = s.opts.Mirror.DryRun(ctx)
	case s.opts.Source != nil:
		rep, err = s.walkDiff(ctx)
	default:
		err = unavailable("dry run (no mirror or Vimeo source: set the Vimeo token and root folder id, the vimeo section, on the admin service)")
	}
	if err != nil {
		return Drift{}, s.done(ctx, a, audit.ActionReconcile, "tree", "dry_run", err, nil)
	}
	d := Drift{DryRun: true, At: s.opts.Now().UTC(), Complete: rep.Complete, Counts: map[string]int{}, Changes: rep.Words,
		Total: len(rep.Changes), WouldHold: rep.WouldHold, APICalls: rep.APICalls}
	for _, c := range rep.Changes {
		d.Counts[string(c.Kind)]++
	}
	if d.Changes == nil {
		d.Changes = []string{}
	}
	d.Summary = countsInWords(d.Counts)
	d.NotPlayable = s.notPlayable()
	if rep.WouldHold {
		d.Summary += "; a reconciliation would hold the deletions for an admin"
	}
	return d, s.done(ctx, a, audit.ActionReconcile, "tree", "dry_run", nil, map[string]string{"changes": strconv.Itoa(d.Total), "dry_run": "true"})
}

func countsInWords(m map[string]int) string {
	if len(m) == 0 {
		return "no changes"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], strings.ReplaceAll(k, ".", " ")))
	}
	return strings.Join(parts, ", ")
}

// walkDiff is a dry run without a Mirror: walk the Source and diff with the
// store's tree (deleted objects included).
func (s *Service) walkDiff(ctx context.Context) (*tree.DryRunReport, error) {
	w, err := s.opts.Source.Walk(ctx)
	if err != nil {
		return nil, err
	}
	local, err := s.store.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
	if err != nil {
		return nil, err
	}
	remote, err := tree.New(0, w.Folders, w.Videos, w.Placements)
	if err != nil {
		return nil, fmt.Errorf("%w: the walk does not form a tree: %v", tree.ErrSource, err)
	}
	rep := &tree.DryRunReport{Changes: tree.Diff(local, remote), Complete: w.Complete, APICalls: w.Calls, Problems: w.Problems}
	rep.Words = tree.DescribeAll(rep.Changes, remote, local)
	for _, c := range rep.Changes {
		if c.Kind.IsDelete() {
			rep.Deletes++
		}
	}
	return rep, nil
}
