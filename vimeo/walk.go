package vimeo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
)

// WalkOptions tunes a Walk. The zero value (or nil) is valid.
type WalkOptions struct {
	// Concurrency bounds the folders listed at the same time. Default 4.
	Concurrency int
	// Sort and Direction order every /items listing, and so the positions the
	// walk reports. Default "date" and "asc": oldest first, so that items added
	// during a walk land on the last page instead of shifting earlier ones.
	Sort      string
	Direction string
	// CallsPerMinute caps this walk's request rate below the credential's rate
	// limit, so that a reconciliation never starves the recent-changes poll that
	// shares the token. 0 means no cap besides the rate limit.
	CallsPerMinute int
	// MaxRelists bounds the re-listings of one folder whose listing moved while
	// it was paged (count differs from total, total changed between pages, page
	// past the end). Default 3.
	MaxRelists int
	// FolderRetries is how many times a folder that failed with a transient error
	// (after the client's own retries) is queued again. Default 2.
	FolderRetries int
	// VerifyRounds bounds the closing cross-check rounds (see Walk). Default 3.
	VerifyRounds int
	// SkipVerify skips the cross-checks against the flat folder list and the
	// recently modified videos. The walk is cheaper and blind to changes made
	// behind its back.
	SkipVerify bool
	// ChangeMargin widens the "modified during the walk" window backwards, to
	// absorb clock skew between us and Vimeo. Default 5 minutes.
	ChangeMargin time.Duration
	// MaxVerifyFetches bounds the single-video GETs of one cross-check round.
	// Default 200.
	MaxVerifyFetches int
	// FolderLists are the flat folder-list collections tried for the
	// cross-check, relative to /users/{owner}/. Default ["projects", "folders"]:
	// the documented one first, the recorded-flat one second.
	FolderLists []string
}

func (o *WalkOptions) withDefaults() WalkOptions {
	var w WalkOptions
	if o != nil {
		w = *o
	}
	if w.Concurrency <= 0 {
		w.Concurrency = 4
	}
	if w.Sort == "" {
		w.Sort = "date"
	}
	if w.Direction == "" {
		w.Direction = "asc"
	}
	if w.MaxRelists <= 0 {
		w.MaxRelists = 3
	}
	if w.FolderRetries < 0 {
		w.FolderRetries = 0
	} else if w.FolderRetries == 0 {
		w.FolderRetries = 2
	}
	if w.VerifyRounds <= 0 {
		w.VerifyRounds = 3
	}
	if w.ChangeMargin <= 0 {
		w.ChangeMargin = 5 * time.Minute
	}
	if w.MaxVerifyFetches <= 0 {
		w.MaxVerifyFetches = 200
	}
	if len(w.FolderLists) == 0 {
		w.FolderLists = []string{"projects", "folders"}
	}
	return w
}

// WalkFolder is a folder as the walk found it: the Folder as Vimeo returned
// it (shared with the walk's other results, not copied: read it, do not
// modify it), placed where the walk found it. ParentID is the folder whose
// listing contained it ("" for the walk's root); it shadows Folder.ParentID,
// the parent the folder's own metadata names, which /items listings often
// leave out. Position is its index in that listing (folders and videos share
// one numbering). The name and modified time are the latest the walk saw
// (the closing cross-check refreshes them from the flat folder list).
type WalkFolder struct {
	*Folder
	ParentID string
	Position int
	Depth    int // 0 for the root
}

// WalkVideo is a video as the walk found it: the Video as its folder's
// listing returned it (not copied: read it, do not modify it), placed in
// that folder at Position. Status and ThumbnailURL are Vimeo's raw fields;
// Video.State() and Video.ThumbnailURL() derive playability and the widest
// thumbnail.
type WalkVideo struct {
	*Video
	FolderID string
	Position int
}

// FailureReason classifies why a folder could not be listed.
type FailureReason string

// Failure reasons.
const (
	FailNotFound    FailureReason = "not_found" // 404: deleted, or moved out of reach
	FailForbidden   FailureReason = "forbidden" // 403: access revoked or never granted
	FailRateLimited FailureReason = "rate_limited"
	FailError       FailureReason = "error" // 5xx, timeouts, broken bodies, open circuit
)

// FolderFailure records a folder of the tree whose contents are unknown.
type FolderFailure struct {
	FolderID   string
	URI        string
	Name       string
	ParentID   string
	Reason     FailureReason
	StatusCode int // 0 when no HTTP answer
	ErrorCode  int
	Err        error
}

// WalkResult is the outcome of a Walk: the tree plus a report on how far it can
// be trusted.
type WalkResult struct {
	RootID  string
	Folders []WalkFolder // the root first, then breadth-first, parents before children
	Videos  []WalkVideo  // breadth-first by folder, listing order within a folder

	// Complete is true when every folder of the tree was listed; false when
	// Failures is not empty.
	Complete bool
	// Consistent is true when no evidence of a change during the walk remains
	// unresolved: every listing matched its total, no item sat in two folders,
	// and the closing cross-checks found nothing to re-list. Problems says what
	// broke it.
	Consistent bool
	// CrossChecked is true when the flat folder list and the recently modified
	// videos were compared against the tree (see WalkOptions.SkipVerify).
	CrossChecked bool

	Failures []FolderFailure // folders of the tree that could not be listed
	Problems []string        // why the result is not Consistent
	Notes    []string        // what was noticed and resolved (moves, deletions, relists)

	Calls        int // HTTP requests sent, retries and 429s included
	Retries      int
	RateLimited  int // 429 answers
	Listings     int // folder listings completed
	Relists      int // listings repeated because the folder changed while paged
	VerifyRounds int

	StartedAt  time.Time
	FinishedAt time.Time
}

// Trustworthy reports whether the result may drive deletions: complete and
// consistent.
func (r *WalkResult) Trustworthy() bool { return r.Complete && r.Consistent }

type childRef struct {
	folder bool
	id     string
}

type listing struct {
	items []childRef
	count int // distinct envelopes, unknown types included
	total int
	ok    bool
}

type listResult struct {
	id      string
	l       *listing
	folders []*Folder
	videos  []*Video
	relists int
	notes   []string
	err     error
}

type walker struct {
	c      *Client
	o      WalkOptions
	cl     *call
	m      *meter
	rootID string
	owner  string
	t0     time.Time

	folders  map[string]*Folder // the latest record of every folder seen
	videos   map[string]*Video
	listings map[string]*listing
	failures map[string]*FolderFailure
	// rechecked marks failed folders already given their second look.
	rechecked map[string]bool

	listCount, relists int
	notes              []string
}

// Walk lists the folder tree under root (a folder id or URI) breadth-first over
// /items, with bounded concurrency, and returns every folder and video with the
// parent taken from the listing folder. The root itself is the first folder of
// the result, with ParentID "".
//
// Offset pagination is not snapshot-consistent, so the walk checks itself: items
// are deduplicated by URI, a listing whose collected count differs from its total
// (or whose total moved between pages, or that hit a page past the end) is listed
// again, and after the breadth-first pass up to VerifyRounds closing rounds
// compare the tree with the flat folder list (membership, parents, item totals)
// and with the videos modified since the walk began, and re-list whatever
// disagrees. 403/404 on a folder below the root is recorded in Failures and does
// not stop the walk.
//
// Walk returns an error only when nothing useful can be said: the root cannot be
// read, the token is rejected (401), or ctx ends. Otherwise check
// Result.Complete and Result.Consistent before trusting absences.
func (c *Client) Walk(ctx context.Context, root string, opts *WalkOptions) (*WalkResult, error) {
	o := opts.withDefaults()
	m := &meter{}
	w := &walker{
		c: c, o: o, m: m,
		cl:       &call{budget: newBudget(c.clock, o.CallsPerMinute), meter: m, waitBreaker: true},
		folders:  map[string]*Folder{},
		videos:   map[string]*Video{},
		listings: map[string]*listing{},
		failures: map[string]*FolderFailure{},

		rechecked: map[string]bool{},
	}
	started := c.clock.Now()
	w.t0 = started.Add(-o.ChangeMargin)

	rootPath, err := c.folderPath(root)
	if err != nil {
		return nil, err
	}
	var rf Folder
	if _, err := c.do(ctx, rootPath+"?fields="+url.QueryEscape(fieldsParam(FolderFields)), w.cl, &rf); err != nil {
		return nil, fmt.Errorf("vimeo: walk root %s: %w", root, err)
	}
	if rf.ID == "" {
		return nil, fmt.Errorf("%w: root folder without a uri", ErrBadResponse)
	}
	w.rootID, w.owner = rf.ID, rf.OwnerID
	w.folders[rf.ID] = &rf

	res := &WalkResult{RootID: rf.ID, StartedAt: started}
	if err := w.runListings(ctx, []string{rf.ID}); err != nil {
		return nil, err
	}

	var problems []string
	settled := false
	for round := 1; round <= o.VerifyRounds; round++ {
		res.VerifyRounds = round
		relist, probs, crossChecked, err := w.verify(ctx)
		if err != nil {
			return nil, err
		}
		res.CrossChecked = crossChecked
		if len(relist) == 0 {
			problems = probs
			settled = true
			break
		}
		problems = probs
		w.note("round %d: re-listing %d folder(s)", round, len(relist))
		if err := w.runListings(ctx, relist); err != nil {
			return nil, err
		}
	}
	if !settled {
		// One last look at the tree as it now stands, without re-listing.
		relist, probs, _, err := w.verify(ctx)
		if err != nil {
			return nil, err
		}
		problems = probs
		if len(relist) > 0 {
			problems = append(problems, fmt.Sprintf("tree still changing after %d verify rounds: folders %s need re-listing",
				o.VerifyRounds, strings.Join(relist, ",")))
		}
	}

	d := w.derive()
	res.Folders, res.Videos = d.folders, d.videos
	for _, id := range d.failed {
		f := *w.failures[id]
		f.ParentID = d.parent[id]
		res.Failures = append(res.Failures, f)
	}
	for _, id := range d.unlisted {
		res.Failures = append(res.Failures, FolderFailure{FolderID: id, URI: w.folders[id].URI,
			Name: w.folders[id].Name, ParentID: d.parent[id], Reason: FailError,
			Err: errors.New("folder was never listed")})
	}
	seen := map[string]bool{}
	for _, p := range append(problems, d.conflicts...) {
		if !seen[p] {
			seen[p] = true
			res.Problems = append(res.Problems, p)
		}
	}
	res.Complete = len(res.Failures) == 0
	res.Consistent = len(res.Problems) == 0
	res.Notes = w.notes
	res.Calls = int(m.requests.Load())
	res.Retries = int(m.retries.Load())
	res.RateLimited = int(m.rateLimited.Load())
	res.Listings = w.listCount
	res.Relists = w.relists
	res.FinishedAt = c.clock.Now()
	c.log.Info("walk finished", zap.String("root", rf.ID), zap.Int("folders", len(res.Folders)),
		zap.Int("videos", len(res.Videos)), zap.Bool("complete", res.Complete),
		zap.Bool("consistent", res.Consistent), zap.Int("calls", res.Calls))
	return res, nil
}

func (w *walker) note(format string, args ...any) {
	w.notes = append(w.notes, fmt.Sprintf(format, args...))
}

func (w *walker) itemsPath(id string) string {
	if fi := w.folders[id]; fi != nil {
		if fi.ItemsURI != "" {
			return fi.ItemsURI
		}
		if fi.URI != "" {
			return strings.TrimSuffix(fi.URI, "/") + "/items"
		}
	}
	if w.owner != "" {
		return "/users/" + w.owner + "/projects/" + id + "/items"
	}
	return "/me/projects/" + id + "/items"
}

// list reads one folder's listing, re-listing while it moves under us.
func (w *walker) list(ctx context.Context, id, itemsPath string) listResult {
	first, err := w.c.listURL(itemsPath, ItemFields, &ListOptions{Sort: w.o.Sort, Direction: w.o.Direction})
	if err != nil {
		return listResult{id: id, err: err}
	}
	r := listResult{id: id}
	for attempt := 0; ; attempt++ {
		var (
			items              []childRef
			folders            []*Folder
			videos             []*Video
			seen               = map[string]bool{}
			totalFirst, totalN = -1, -1
			count              int
			dup                bool
		)
		err := paginate(ctx, w.c, first, w.cl, func(p *Page[Item]) error {
			if totalFirst < 0 {
				totalFirst = p.Total
			}
			totalN = p.Total
			for i := range p.Data {
				it := &p.Data[i]
				key := it.Type + " " + it.URI
				if it.URI == "" {
					key = fmt.Sprintf("%s #%d/%d", it.Type, p.Page, i)
				}
				if it.Folder != nil && it.Folder.ID != "" {
					key = "folder " + it.Folder.ID
				} else if it.Video != nil && it.Video.ID != "" {
					key = "video " + it.Video.ID
				}
				if seen[key] {
					dup = true
					continue
				}
				seen[key] = true
				count++
				switch {
				case it.Folder != nil && it.Folder.ID != "":
					items = append(items, childRef{folder: true, id: it.Folder.ID})
					folders = append(folders, it.Folder)
				case it.Video != nil && it.Video.ID != "":
					items = append(items, childRef{id: it.Video.ID})
					videos = append(videos, it.Video)
				}
			}
			return nil
		})
		if err != nil {
			if errors.Is(err, ErrPagePastEnd) && attempt < w.o.MaxRelists {
				r.relists++
				r.notes = append(r.notes, fmt.Sprintf("folder %s: page past the end, listing restarted", id))
				continue
			}
			r.err = err
			return r
		}
		ok := !dup && totalFirst == totalN && count == totalN
		if ok || attempt >= w.o.MaxRelists {
			r.l = &listing{items: items, count: count, total: totalN, ok: ok}
			r.folders, r.videos = folders, videos
			return r
		}
		r.relists++
		r.notes = append(r.notes, fmt.Sprintf("folder %s: listing moved while paged (collected %d, total %d→%d, duplicates %v), re-listed",
			id, count, totalFirst, totalN, dup))
	}
}

func classify(err error) (reason FailureReason, status, code int) {
	var ae *APIError
	if errors.As(err, &ae) {
		status, code = ae.StatusCode, ae.ErrorCode
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return FailNotFound, status, code
	case errors.Is(err, ErrForbidden):
		return FailForbidden, status, code
	case errors.Is(err, ErrRateLimited):
		return FailRateLimited, status, code
	}
	return FailError, status, code
}

// runListings lists the given folders and, breadth-first, every folder they
// reveal that has no listing yet.
func (w *walker) runListings(ctx context.Context, ids []string) error {
	type job struct{ id, path string }
	queue := make([]job, 0, len(ids))
	scheduled := map[string]bool{}
	for _, id := range ids {
		if !scheduled[id] {
			scheduled[id] = true
			queue = append(queue, job{id, w.itemsPath(id)})
		}
	}
	tries := map[string]int{}
	results := make(chan listResult)
	active := 0
	var fatal error
	for len(queue) > 0 || active > 0 {
		for fatal == nil && len(queue) > 0 && active < w.o.Concurrency {
			j := queue[0]
			queue = queue[1:]
			active++
			go func() { results <- w.list(ctx, j.id, j.path) }()
		}
		if active == 0 {
			break
		}
		r := <-results
		active--
		if fatal != nil {
			continue
		}
		w.relists += r.relists
		w.notes = append(w.notes, r.notes...)
		if r.err != nil {
			switch {
			case ctx.Err() != nil:
				fatal = ctx.Err()
				continue
			case errors.Is(r.err, ErrUnauthorized):
				fatal = fmt.Errorf("vimeo: walk: %w", r.err)
				continue
			}
			reason, status, code := classify(r.err)
			if reason == FailError || reason == FailRateLimited {
				if tries[r.id] < w.o.FolderRetries {
					tries[r.id]++
					queue = append(queue, job{r.id, w.itemsPath(r.id)})
					continue
				}
			}
			fi := w.folders[r.id]
			w.failures[r.id] = &FolderFailure{FolderID: r.id, URI: fi.URI, Name: fi.Name,
				Reason: reason, StatusCode: status, ErrorCode: code, Err: r.err}
			delete(w.listings, r.id)
			continue
		}
		w.listCount++
		delete(w.failures, r.id)
		w.listings[r.id] = r.l
		for _, f := range r.folders {
			if old := w.folders[f.ID]; old != nil && f.ItemsURI == "" {
				f.ItemsURI = old.ItemsURI
			}
			w.folders[f.ID] = f
			if !scheduled[f.ID] && w.listings[f.ID] == nil {
				scheduled[f.ID] = true
				queue = append(queue, job{f.ID, w.itemsPath(f.ID)})
			}
		}
		for _, v := range r.videos {
			w.videos[v.ID] = v
		}
	}
	return fatal
}

type derived struct {
	folders   []WalkFolder
	videos    []WalkVideo
	parent    map[string]string // reachable folder → parent ("" for root)
	depth     map[string]int
	videoIn   map[string]string // video → folder
	failed    []string          // reachable folders with a failure
	unlisted  []string          // reachable folders with neither listing nor failure
	conflicts []string
	relist    []string // folders to re-list because of conflicts
}

// derive builds the tree from the current listings, starting at the root.
func (w *walker) derive() *derived {
	d := &derived{parent: map[string]string{w.rootID: ""}, depth: map[string]int{w.rootID: 0}, videoIn: map[string]string{}}
	d.folders = append(d.folders, WalkFolder{Folder: w.folders[w.rootID]})
	queue := []string{w.rootID}
	for len(queue) > 0 {
		fid := queue[0]
		queue = queue[1:]
		l := w.listings[fid]
		if l == nil {
			if w.failures[fid] != nil {
				d.failed = append(d.failed, fid)
			} else {
				d.unlisted = append(d.unlisted, fid)
			}
			continue
		}
		if !l.ok {
			d.conflicts = append(d.conflicts, fmt.Sprintf("folder %s: listing never matched its total (collected %d, total %d)",
				fid, l.count, l.total))
			d.relist = append(d.relist, fid)
		}
		for pos, ch := range l.items {
			if ch.folder {
				if p, seen := d.parent[ch.id]; seen {
					d.conflicts = append(d.conflicts, fmt.Sprintf("folder %s listed under both %s and %s", ch.id, p, fid))
					d.relist = append(d.relist, p, fid)
					continue
				}
				d.parent[ch.id] = fid
				d.depth[ch.id] = d.depth[fid] + 1
				d.folders = append(d.folders, WalkFolder{Folder: w.folders[ch.id], ParentID: fid,
					Position: pos, Depth: d.depth[ch.id]})
				queue = append(queue, ch.id)
				continue
			}
			if p, seen := d.videoIn[ch.id]; seen {
				d.conflicts = append(d.conflicts, fmt.Sprintf("video %s listed in both folder %s and folder %s", ch.id, p, fid))
				d.relist = append(d.relist, p, fid)
				continue
			}
			d.videoIn[ch.id] = fid
			d.videos = append(d.videos, WalkVideo{Video: w.videos[ch.id], FolderID: fid, Position: pos})
		}
	}
	return d
}

// verify runs one closing round: it derives the tree, compares it with the flat
// folder list and the recently modified videos, and returns the folders to
// re-list (sorted, distinct) and the problems that remain if nothing is
// re-listed.
func (w *walker) verify(ctx context.Context) (relist []string, problems []string, crossChecked bool, err error) {
	d := w.derive()
	set := map[string]bool{}
	add := func(ids ...string) {
		for _, id := range ids {
			if id != "" {
				set[id] = true
			}
		}
	}
	add(d.relist...)
	add(d.unlisted...)
	problems = append(problems, d.conflicts...)
	for _, id := range d.failed {
		// Each failed folder gets one more look in the verify phase: its
		// parent is re-listed (was it deleted or moved away?) and, when the
		// failure may pass, the folder itself is tried again. A failure that
		// stays is reported, not chased round after round.
		if w.rechecked[id] {
			continue
		}
		w.rechecked[id] = true
		add(d.parent[id])
		if r := w.failures[id].Reason; r == FailError || r == FailRateLimited {
			add(id)
		}
	}
	// Forget listings of folders no longer in the tree: should one come back,
	// it is listed afresh.
	for id := range w.listings {
		if _, ok := d.parent[id]; !ok {
			delete(w.listings, id)
		}
	}
	for id, f := range w.failures {
		if _, ok := d.parent[id]; !ok {
			w.note("folder %s (%s) left the tree during the walk (%s)", id, f.Name, f.Reason)
			delete(w.failures, id)
		}
	}

	if !w.o.SkipVerify {
		flatOK, probs, err := w.crossCheckFolders(ctx, d, add)
		if err != nil {
			return nil, nil, false, err
		}
		problems = append(problems, probs...)
		vidOK, probs, err := w.crossCheckVideos(ctx, d, add)
		if err != nil {
			return nil, nil, false, err
		}
		problems = append(problems, probs...)
		crossChecked = flatOK && vidOK
	}
	for id := range set {
		relist = append(relist, id)
	}
	sort.Strings(relist)
	return relist, problems, crossChecked, nil
}

// fatalErr reports errors that end the whole walk.
func fatalErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, ErrUnauthorized) {
		return fmt.Errorf("vimeo: walk: %w", err)
	}
	return nil
}

// crossCheckFolders compares the tree with the account's flat folder list.
func (w *walker) crossCheckFolders(ctx context.Context, d *derived, add func(...string)) (bool, []string, error) {
	if w.owner == "" {
		return false, nil, nil
	}
	var flat map[string]*Folder
	var lastErr error
	for _, coll := range w.o.FolderLists {
		f, complete, err := w.flatList(ctx, "/users/"+w.owner+"/"+strings.Trim(coll, "/"))
		if err != nil {
			if fe := fatalErr(ctx, err); fe != nil {
				return false, nil, fe
			}
			lastErr = err
			continue
		}
		if !complete {
			lastErr = fmt.Errorf("flat list %s moved while paged", coll)
			continue
		}
		if len(d.parent) > 1 && !hasNested(f) {
			lastErr = fmt.Errorf("flat list %s holds top-level folders only", coll)
			continue
		}
		flat = f
		break
	}
	if flat == nil {
		w.note("folder cross-check skipped: %v", lastErr)
		return false, nil, nil
	}
	inSub := func(f *Folder) bool {
		if f.ID == w.rootID {
			return true
		}
		for _, a := range f.Ancestors {
			if a.ID == w.rootID {
				return true
			}
		}
		return false
	}
	// Folders Vimeo has in the subtree.
	for id, f := range flat {
		if !inSub(f) {
			// Only the folder that moved needs its old parent re-listed; its
			// descendants left with it.
			if p, ok := d.parent[id]; ok && id != w.rootID && (!f.ParentKnown || f.ParentID != p) {
				w.note("folder %s moved out of the tree (now under %q)", id, f.ParentID)
				add(p)
			}
			continue
		}
		if id == w.rootID {
			if fi := w.folders[id]; fi != nil {
				fi.Name, fi.ModifiedTime = f.Name, f.ModifiedTime
			}
			if l := w.listings[id]; l != nil && f.ItemsTotal != TotalUnknown && f.ItemsTotal != l.count {
				w.note("root %s holds %d items, listed %d", id, f.ItemsTotal, l.count)
				add(id)
			}
			continue
		}
		p, ok := d.parent[id]
		if !ok {
			if w.failures[id] != nil {
				continue
			}
			// New, or moved in: list the nearest ancestor we have.
			anc := ""
			for _, a := range f.Ancestors {
				if _, have := d.parent[a.ID]; have {
					anc = a.ID
					break
				}
			}
			if anc != "" && w.failures[anc] == nil {
				w.note("folder %s appeared under %s during the walk", id, f.ParentID)
				add(anc)
			}
			continue
		}
		if f.ParentKnown && f.ParentID != p {
			w.note("folder %s moved from %s to %s during the walk", id, p, f.ParentID)
			add(p, f.ParentID)
		}
		if fi := w.folders[id]; fi != nil && fi.Name != f.Name {
			if w.o.Sort == "alphabetical" {
				add(p)
			}
			fi.Name = f.Name
			fi.ModifiedTime = f.ModifiedTime
		}
		if l := w.listings[id]; l != nil && f.ItemsTotal != TotalUnknown && f.ItemsTotal != l.count {
			w.note("folder %s holds %d items, listed %d", id, f.ItemsTotal, l.count)
			add(id)
		}
	}
	// Folders we have that Vimeo no longer lists.
	for id, p := range d.parent {
		if id == w.rootID || flat[id] != nil || w.failures[id] != nil {
			continue
		}
		w.note("folder %s no longer in the folder list (deleted, moved away or access revoked)", id)
		add(id, p)
	}
	return true, nil, nil
}

func hasNested(flat map[string]*Folder) bool {
	for _, f := range flat {
		if f.ParentID != "" {
			return true
		}
	}
	return false
}

var flatFields = []string{"uri", "name", "modified_time", "metadata.connections.items.total",
	"metadata.connections.parent_folder.uri", "metadata.connections.ancestor_path.uri"}

// flatList reads a whole flat folder collection. complete is false when the
// collection moved while paged.
func (w *walker) flatList(ctx context.Context, path string) (map[string]*Folder, bool, error) {
	for attempt := 0; attempt <= w.o.MaxRelists; attempt++ {
		first, err := w.c.listURL(path, flatFields, &ListOptions{Sort: "date", Direction: "asc"})
		if err != nil {
			return nil, false, err
		}
		out := map[string]*Folder{}
		totalFirst, totalN, dup := -1, -1, false
		err = paginate(ctx, w.c, first, w.cl, func(p *Page[Folder]) error {
			if totalFirst < 0 {
				totalFirst = p.Total
			}
			totalN = p.Total
			for i := range p.Data {
				f := &p.Data[i]
				if f.ID == "" {
					continue
				}
				if out[f.ID] != nil {
					dup = true
				}
				out[f.ID] = f
			}
			return nil
		})
		if err != nil {
			if errors.Is(err, ErrPagePastEnd) {
				continue
			}
			return nil, false, err
		}
		if !dup && totalFirst == totalN && len(out) == totalN {
			return out, true, nil
		}
	}
	return nil, false, nil
}

// crossCheckVideos reads every video modified since the walk began (less the
// margin), takes its data from that fresh answer, and re-lists the folders it
// moved between. Timestamps have one-second resolution, so an equal
// modified_time proves nothing: every changed video is looked at in every round.
func (w *walker) crossCheckVideos(ctx context.Context, d *derived, add func(...string)) (bool, []string, error) {
	if w.owner == "" {
		return false, nil, nil
	}
	first, err := w.c.listURL("/users/"+w.owner+"/videos", VideoFields,
		&ListOptions{Sort: "modified_time", Direction: "desc"})
	if err != nil {
		return false, nil, err
	}
	var changed []*Video
	err = paginate(ctx, w.c, first, w.cl, func(p *Page[Video]) error {
		for i := range p.Data {
			v := &p.Data[i]
			if v.ModifiedTime.Before(w.t0) {
				return StopPaging
			}
			changed = append(changed, v)
		}
		return nil
	})
	if err != nil {
		if fe := fatalErr(ctx, err); fe != nil {
			return false, nil, fe
		}
		w.note("video cross-check skipped: %v", err)
		return false, nil, nil
	}
	var problems []string
	fetches := 0
	for _, v := range changed {
		if v.ID == "" {
			continue
		}
		held, have := d.videoIn[v.ID]
		parentKnown, parent := v.ParentKnown, v.ParentID
		if !parentKnown {
			// The list does not say where the video is: ask the video.
			if fetches >= w.o.MaxVerifyFetches {
				problems = append(problems, fmt.Sprintf("more than %d videos changed during the walk; not all verified", w.o.MaxVerifyFetches))
				break
			}
			fetches++
			fresh, err := w.c.video(ctx, v.ID, w.cl)
			switch {
			case err == nil:
				v = fresh
				parentKnown, parent = fresh.ParentKnown, fresh.ParentID
			case errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden):
				if have {
					w.note("video %s vanished during the walk (%v)", v.ID, err)
					add(held)
				}
				continue
			default:
				if fe := fatalErr(ctx, err); fe != nil {
					return false, nil, fe
				}
				problems = append(problems, fmt.Sprintf("video %s changed during the walk and could not be read: %v", v.ID, err))
				continue
			}
		}
		if have {
			w.videos[v.ID] = v // the freshest data we have
		}
		if !parentKnown {
			// Vimeo does not say where it is: re-list where we hold it.
			if have {
				add(held)
			}
			continue
		}
		if have && held == parent {
			continue
		}
		if _, inTree := d.parent[parent]; inTree {
			add(parent)
		}
		if have {
			w.note("video %s moved from folder %s to %q during the walk", v.ID, held, parent)
			add(held)
		}
	}
	return true, problems, nil
}
