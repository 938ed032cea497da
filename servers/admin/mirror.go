package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	if err == nil && s.opts.Announcer != nil {
		if perr := s.opts.Announcer.Publish(ctx, library.VersionContent, v); perr != nil {
			s.log.Warn("content version not announced; readers will poll")
		}
	}
	return v, s.done(ctx, a, action, "video", videoID, err, map[string]string{"version": strconv.FormatInt(v, 10)})
}

// Reconcile reconciles the root, a folder subtree or one video. A folder
// reconciliation walks the whole tree (the walk is the only complete view
// of a subtree) and reports the changes under the folder. Without Wait it
// runs in the background (ReconcileResult.Started).
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
		err = unavailable("reconciliation (no mirror)")
	}
	if err != nil {
		return ReconcileResult{}, s.done(ctx, a, audit.ActionReconcile, "tree", obj, err, nil)
	}
	run := func(ctx context.Context) (ReconcileResult, error) {
		var rep *tree.Report
		var err error
		if req.Scope == ReconcileVideo {
			rep, err = s.opts.Mirror.RefreshVideo(ctx, req.ID, tree.TriggerAdmin)
		} else {
			rep, err = s.opts.Mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
		}
		res := resultOf(req, rep)
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

func resultOf(req ReconcileRequest, rep *tree.Report) ReconcileResult {
	res := ReconcileResult{Scope: req.Scope, ID: req.ID}
	if rep == nil {
		return res
	}
	if rep.Run.ID != 0 {
		r := runOf(rep.Run)
		res.Run = &r
	}
	res.Applied, res.Held, res.Skipped, res.Version = len(rep.Applied), len(rep.Held), len(rep.Skipped), rep.Version
	for _, c := range rep.Applied {
		if len(res.Changes) == 200 {
			break
		}
		res.Changes = append(res.Changes, c.String())
	}
	return res
}

// DecideHeld approves a held reconciliation (it runs again with the mass
// deletion allowed) or rejects it (recorded; nothing is deleted). A run that
// is not held, or was decided already, is ErrConflict.
func (s *Service) DecideHeld(ctx context.Context, a Actor, runID int64, approve bool, note string) (SyncRun, error) {
	action := audit.ActionReconcileReject
	decision := "rejected"
	if approve {
		action, decision = audit.ActionReconcileApprove, "approved"
	}
	oid := strconv.FormatInt(runID, 10)
	r, err := s.store.SyncRun(ctx, runID)
	switch {
	case err != nil:
	case !r.Held:
		err = fmt.Errorf("%w: sync run %d is not held", ErrConflict, runID)
	case len(note) > 4096:
		err = invalid("note", "at most 4096 bytes")
	case approve && s.opts.Mirror == nil:
		err = unavailable("reconciliation (no mirror)")
	}
	if err == nil {
		if _, derr := s.store.HeldDecision(ctx, runID); derr == nil {
			err = fmt.Errorf("%w: sync run %d was decided already", ErrConflict, runID)
		} else if !errors.Is(derr, tree.ErrNotFound) {
			err = derr
		}
	}
	d := tree.HeldDecision{RunID: runID, Decision: decision, Actor: a.ID, Note: note, DecidedAt: s.opts.Now().UTC()}
	if err == nil && approve {
		wctx, cancel := context.WithTimeout(ctx, s.opts.ReconcileWait)
		rep, rerr := s.opts.Mirror.Reconcile(wctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin, AllowMassDelete: true})
		cancel()
		err = rerr
		if rep != nil {
			d.ResultRunID = rep.Run.ID
		}
	}
	if err == nil {
		err = s.store.RecordHeldDecision(ctx, d)
	}
	if err := s.done(ctx, a, action, "sync_run", oid, err, map[string]string{"note": note}); err != nil {
		return SyncRun{}, err
	}
	return s.SyncRun(ctx, runID)
}

// Drift is the last finished reconciliation's changes in words.
func (s *Service) Drift(ctx context.Context) (Drift, error) {
	runs, err := s.store.SearchSyncRuns(ctx, tree.SyncRunQuery{Trigger: "", Limit: 50})
	if err != nil {
		return Drift{}, err
	}
	for _, r := range runs {
		if r.FinishedAt.IsZero() || r.Trigger == tree.TriggerPoll || r.Trigger == tree.TriggerWebhook {
			continue
		}
		run := runOf(r)
		d := Drift{At: r.FinishedAt, Run: &run, Complete: r.Complete, Counts: run.Counts, Changes: []string{}}
		for k, n := range r.Counts {
			d.Total += n
			_ = k
		}
		d.Summary = countsInWords(run.Counts)
		return d, nil
	}
	return Drift{At: s.opts.Now().UTC(), Counts: map[string]int{}, Changes: []string{}, Summary: "no reconciliation has finished yet"}, nil
}

// DryRun walks Vimeo now and compares with the mirror without applying
// anything: the drift an admin would see applied by a reconciliation.
func (s *Service) DryRun(ctx context.Context, a Actor) (Drift, error) {
	if s.opts.Source == nil {
		return Drift{}, unavailable("dry run (no Vimeo source)")
	}
	w, err := s.opts.Source.Walk(ctx)
	if err != nil {
		return Drift{}, err
	}
	local, err := s.store.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
	if err != nil {
		return Drift{}, err
	}
	remote, err := tree.New(0, w.Folders, w.Videos, w.Placements)
	if err != nil {
		return Drift{}, err
	}
	changes := tree.Diff(local, remote)
	d := Drift{DryRun: true, At: s.opts.Now().UTC(), Complete: w.Complete, Counts: map[string]int{}, Changes: []string{}, Total: len(changes)}
	for _, c := range changes {
		d.Counts[string(c.Kind)]++
		if len(d.Changes) < 500 {
			d.Changes = append(d.Changes, c.String())
		}
	}
	d.Summary = countsInWords(d.Counts)
	return d, nil
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

var _ = time.Second
