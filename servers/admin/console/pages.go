package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/tree"
)

// pageSize is the rows per page of every list.
const pageSize = 25

// pageRoutes registers the console's pages and their navigation entries.
func (c *Console) pageRoutes(r chi.Router) {
	c.nav = []navItem{
		{"/", "Overview"},
		{"/sync-runs", "Sync runs"},
		{"/webhooks", "Webhook receipts"},
		{"/dead-letters", "Dead letters"},
		{"/drift", "Drift"},
		{"/videos", "Hidden & deleted videos"},
		{"/reconcile", "Reconcile"},
		{"/caches", "Caches"},
		{"/lag", "Kafka lag"},
		{"/audit", "Audit log"},
		{"/explain", "Explain access"},
		{"/rules", "Rules"},
		{"/users", "Roles & users"},
	}
	r.Get("/sync-runs", c.syncRuns)
	r.Get("/sync-runs/{id}", c.syncRun)
	r.Get("/sync-runs/{id}/{decision:approve|reject}", c.confirmDecide)
	r.Post("/sync-runs/{id}/{decision:approve|reject}", c.decide)
	r.Get("/webhooks", c.webhooks)
	r.Get("/webhooks/{id}", c.webhook)
	r.Get("/dead-letters", c.deadLetters)
	r.Get("/dead-letters/{id}", c.deadLetter)
	r.Get("/dead-letters/{id}/{action:replay|ignore}", c.confirmDeadLetter)
	r.Post("/dead-letters/{id}/replay", c.replay)
	r.Post("/dead-letters/{id}/ignore", c.ignore)
	r.Post("/dead-letters/{id}/note", c.note)
	r.Get("/drift", c.drift)
	r.Post("/drift", c.dryRun)
	r.Get("/videos", c.videos)
	r.Get("/videos/hide", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/videos/"+url.PathEscape(strings.TrimSpace(r.URL.Query().Get("id")))+"/hide", http.StatusSeeOther)
	})
	r.Get("/videos/{id}/{action:hide|show}", c.confirmHide)
	r.Post("/videos/{id}/{action:hide|show}", c.hide)
	r.Get("/reconcile", c.reconcileForm)
	r.Post("/reconcile", c.reconcile)
	r.Get("/caches", show(c, "caches", "Caches", "/caches", c.svc.Instances))
	r.Get("/caches/invalidate", c.confirmInvalidate)
	r.Post("/caches/invalidate", c.invalidate)
	r.Get("/lag", show(c, "lag", "Kafka consumer lag", "/lag", c.svc.ConsumerLag))
	r.Get("/audit", c.audit)
	r.Get("/explain", c.explain)
	r.Get("/rules", c.rules)
	r.Post("/rules/preview", c.previewRule)
	r.Post("/rules", c.addRule)
	r.Get("/rules/{id}/remove", c.confirmRemoveRule)
	r.Post("/rules/{id}/remove", c.removeRule)
	r.Get("/users", c.users)
	r.Post("/users/roles", c.putRole)
	r.Post("/users/grant", c.grant)
	r.Post("/users/revoke", c.revoke)
	r.Post("/users/{action:disable|enable}", c.disable)
}

// actor is the admin behind a request, for the Service's audit records.
func (c *Console) actor(r *http.Request) admin.Actor {
	return admin.ActorOf(principal(r), "console-"+randomString(9))
}

// serviceError answers a Service error with a page: the Service's errors
// are mapped here, in one place. Only unexpected ones are logged.
func (c *Console) serviceError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *admin.FieldError
	if errors.As(err, &fe) {
		c.renderError(w, r, http.StatusBadRequest, "Check the input", fieldLabel(fe.Field)+": "+fe.Message+".")
		return
	}
	switch st, _ := admin.StatusOf(err); st {
	case http.StatusBadRequest:
		msg := err.Error()
		if _, after, ok := strings.Cut(msg, "invalid: "); ok {
			msg = after // "admin: invalid: …", "tree: invalid: …"
		}
		c.renderError(w, r, st, "Check the input", upperFirst(msg)+".")
	case http.StatusNotFound:
		c.renderError(w, r, st, "Not found", "There is no such object. It may have been removed, or the id is mistyped.")
	case http.StatusConflict:
		c.renderError(w, r, st, "Not possible now", "This cannot be done in the object's current state (someone may have changed it meanwhile). Reload it and check.")
	case http.StatusServiceUnavailable:
		c.renderError(w, r, st, "Not available here", "This feature is not configured in this admin process, or not ready yet.")
	case http.StatusForbidden:
		c.renderError(w, r, st, "Not allowed", "You may not do this.")
	default:
		c.fail(w, r, err)
	}
}

// fieldErrors maps a validation error to its form field, for forms that show
// the message next to the field. Other errors return nil.
func fieldErrors(err error) map[string]string {
	var fe *admin.FieldError
	if errors.As(err, &fe) {
		return map[string]string{fe.Field: upperFirst(fe.Message)}
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func fieldLabel(f string) string { return upperFirst(strings.ReplaceAll(f, "_", " ")) }

// pathID parses the {id} of the route; a bad one is a 404.
func (c *Console) pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		c.renderError(w, r, http.StatusNotFound, "Not found", "There is no such object.")
		return 0, false
	}
	return id, true
}

// filters reads list filters from the query and reports problems per field.
type filters struct {
	q      url.Values
	errs   map[string]string
	before int64
}

func newFilters(r *http.Request) *filters {
	f := &filters{q: r.URL.Query(), errs: map[string]string{}}
	if b := f.q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			f.errs["before"] = "Not a page of this list"
		}
		f.before = n
	}
	return f
}

func (f *filters) get(k string) string { return strings.TrimSpace(f.q.Get(k)) }

// time reads a datetime-local field (UTC).
func (f *filters) time(k string) time.Time {
	v := f.get(k)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	f.errs[k] = "Use a date and time like 2026-01-31T14:00"
	return time.Time{}
}

func (f *filters) oneOf(k string, allowed ...string) string {
	v := f.get(k)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	f.errs[k] = "Choose one of the listed values"
	return ""
}

// nextURL is this list's URL for the page after the cursor.
func nextURL(r *http.Request, next string) string {
	if next == "" {
		return ""
	}
	q := r.URL.Query()
	q.Set("before", next)
	return r.URL.Path + "?" + q.Encode()
}

// list is the data of every list page.
type list struct {
	Filters url.Values
	Errors  map[string]string
	Items   any
	Next    string // URL of the next page
	First   string // URL of the first page (set when not on it)
	Extra   any
}

func newList(r *http.Request, f *filters, items any, next string) list {
	l := list{Filters: f.q, Errors: f.errs, Items: items, Next: nextURL(r, next)}
	if f.before != 0 {
		q := r.URL.Query()
		q.Del("before")
		l.First = r.URL.Path + "?" + q.Encode()
	}
	return l
}

// fetch runs a list page's query q when its filters parsed. The service's
// field errors go next to the filters; any other error is answered, and
// fetch returns false.
func fetch[Q, P any](c *Console, w http.ResponseWriter, r *http.Request, f *filters, list func(context.Context, Q) (P, error), q Q) (P, bool) {
	var p P
	if len(f.errs) > 0 {
		return p, true
	}
	p, err := list(r.Context(), q)
	if fe := fieldErrors(err); fe != nil {
		f.errs = fe
	} else if err != nil {
		c.serviceError(w, r, err)
		return p, false
	}
	return p, true
}

// listPage renders a list page of what q selects (see fetch), with its
// filters and cursors.
func listPage[Q, T any](c *Console, w http.ResponseWriter, r *http.Request, f *filters, tmpl, title, section string,
	list func(context.Context, Q) (admin.Page[T], error), q Q) {
	p, ok := fetch(c, w, r, f, list, q)
	if !ok {
		return
	}
	c.page(w, r, tmpl, title, section, newList(r, f, p.Items, p.Next))
}

// byID reads the record of the route's {id} with get; a bad id or an error
// is answered, and byID returns false.
func byID[T any](c *Console, w http.ResponseWriter, r *http.Request, get func(context.Context, int64) (T, error)) (int64, T, bool) {
	var v T
	id, ok := c.pathID(w, r)
	if !ok {
		return 0, v, false
	}
	v, err := get(r.Context(), id)
	if err != nil {
		c.serviceError(w, r, err)
		return 0, v, false
	}
	return id, v, true
}

func (c *Console) page(w http.ResponseWriter, r *http.Request, tmpl, title, section string, data any) {
	c.render(w, r, http.StatusOK, tmpl, view{Title: title, Section: section, Data: data})
}

// show serves a page of what get reads; an error is answered instead.
func show[T any](c *Console, tmpl, title, section string, get func(context.Context) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := get(r.Context())
		if err != nil {
			c.serviceError(w, r, err)
			return
		}
		c.page(w, r, tmpl, title, section, v)
	}
}

// --- Sync runs ---

func (c *Console) syncRuns(w http.ResponseWriter, r *http.Request) {
	f := newFilters(r)
	q := admin.SyncRunQuery{Trigger: f.get("trigger"), Status: f.oneOf("status", tree.RunRunning, tree.RunOK, tree.RunHeld, tree.RunFailed),
		From: f.time("from"), To: f.time("to"), Before: f.before, Limit: pageSize}
	listPage(c, w, r, f, "syncruns", "Sync runs", "/sync-runs", c.svc.SyncRuns, q)
}

func (c *Console) syncRun(w http.ResponseWriter, r *http.Request) {
	id, run, ok := byID(c, w, r, c.svc.SyncRun)
	if !ok {
		return
	}
	c.page(w, r, "syncrun", fmt.Sprintf("Sync run %d", id), "/sync-runs", run)
}

// confirmation is the data of the confirmation page of a destructive action.
type confirmation struct {
	Question string
	Details  []string
	Action   string // the form's URL
	Button   string
	Danger   bool
	Note     bool // ask for a note
	NoteHint string
	Cancel   string
	Fields   map[string]string // hidden fields carried to the POST
}

func (c *Console) confirm(w http.ResponseWriter, r *http.Request, title, section string, cf confirmation) {
	c.page(w, r, "confirm", title, section, cf)
}

func (c *Console) confirmDecide(w http.ResponseWriter, r *http.Request) {
	id, run, ok := byID(c, w, r, c.svc.SyncRun)
	if !ok {
		return
	}
	approve := chi.URLParam(r, "decision") == "approve"
	cf := confirmation{Action: r.URL.Path, Cancel: fmt.Sprintf("/sync-runs/%d", id), Note: true,
		NoteHint: "Why (kept with the decision and in the audit log)"}
	dels := run.Counts["held"] // the total; HeldChanges keeps only the first ones
	if approve {
		cf.Question = fmt.Sprintf("Approve held sync run %d and apply its changes?", id)
		cf.Details = []string{"A new reconciliation runs and applies the held deletions.", fmt.Sprintf("Deletions the run held: %d.", dels)}
		cf.Button, cf.Danger = "Approve and apply", true
	} else {
		cf.Question = fmt.Sprintf("Reject held sync run %d?", id)
		cf.Details = []string{"Nothing is deleted; the mirror keeps its current state until the next reconciliation."}
		cf.Button = "Reject"
	}
	c.confirm(w, r, "Confirm", "/sync-runs", cf)
}

func (c *Console) decide(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r)
	if !ok {
		return
	}
	approve := chi.URLParam(r, "decision") == "approve"
	run, err := c.svc.DecideHeld(r.Context(), c.actor(r), id, approve, strings.TrimSpace(r.PostFormValue("note")))
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	msg := "Run %d rejected: nothing was deleted."
	switch {
	case run.CommandID != "":
		// The sync worker runs elsewhere: the decision is carried out there.
		msg = "The decision on run %d was sent to the sync worker (command " + run.CommandID + "); this page shows it once it is carried out."
	case approve:
		msg = "Run %d approved: its changes were applied."
	}
	c.redirect(w, r, fmt.Sprintf("/sync-runs/%d", id), fmt.Sprintf(msg, id))
}

// --- Webhook receipts ---

func (c *Console) webhooks(w http.ResponseWriter, r *http.Request) {
	f := newFilters(r)
	q := admin.ProviderEventQuery{Provider: f.get("provider"), EventType: f.get("type"), Text: f.get("q"),
		Status: events.ProviderEventStatus(f.oneOf("status", "received", "processed", "failed", "ignored")),
		From:   f.time("from"), To: f.time("to"), Before: f.before, Limit: pageSize}
	listPage(c, w, r, f, "webhooks", "Webhook receipts", "/webhooks", c.svc.ProviderEvents, q)
}

func (c *Console) webhook(w http.ResponseWriter, r *http.Request) {
	id, e, ok := byID(c, w, r, c.svc.ProviderEvent)
	if !ok {
		return
	}
	c.page(w, r, "webhook", fmt.Sprintf("Webhook receipt %d", id), "/webhooks", struct {
		E       admin.ProviderEvent
		Payload string
	}{e, pretty(e.Payload)})
}

// pretty indents a JSON payload for reading.
func pretty(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// --- Dead letters ---

func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request) {
	f := newFilters(r)
	q := admin.DeadLetterQuery{Topic: f.get("topic"), EventID: f.get("event"), Text: f.get("q"),
		Status: events.DeadLetterStatus(f.oneOf("status", "open", "replayed", "ignored")),
		From:   f.time("from"), To: f.time("to"), Before: f.before, Limit: pageSize}
	listPage(c, w, r, f, "deadletters", "Dead letters", "/dead-letters", c.svc.DeadLetters, q)
}

type deadLetterData struct {
	D       admin.DeadLetter
	Payload string
	Errors  map[string]string
	Note    string
}

func (c *Console) deadLetter(w http.ResponseWriter, r *http.Request) {
	id, d, ok := byID(c, w, r, c.svc.DeadLetter)
	if !ok {
		return
	}
	c.page(w, r, "deadletter", fmt.Sprintf("Dead letter %d", id), "/dead-letters", deadLetterData{D: d, Payload: pretty(d.Payload)})
}

func (c *Console) confirmDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, d, ok := byID(c, w, r, c.svc.DeadLetter)
	if !ok {
		return
	}
	cf := confirmation{Action: r.URL.Path, Cancel: fmt.Sprintf("/dead-letters/%d", id),
		Details: []string{"Event " + d.EventID + " on " + d.Topic + ", failed " + strconv.Itoa(d.Attempts) + " times.", "Last error: " + d.Error}}
	if chi.URLParam(r, "action") == "replay" {
		cf.Question = fmt.Sprintf("Replay dead letter %d to %s?", id, d.Topic)
		cf.Details = append(cf.Details, "The message is published again and processed like a new one.")
		cf.Button, cf.Danger = "Replay", true
	} else {
		cf.Question = fmt.Sprintf("Mark dead letter %d as ignored?", id)
		cf.Details = append(cf.Details, "It stays in the list, marked ignored, and is never replayed automatically.")
		cf.Button, cf.Danger, cf.Note, cf.NoteHint = "Mark ignored", true, true, "Why it can be ignored (kept in its history)"
	}
	c.confirm(w, r, "Confirm", "/dead-letters", cf)
}

func (c *Console) replay(w http.ResponseWriter, r *http.Request) {
	c.deadLetterAction(w, r, "Dead letter %d was replayed.", func(ctx context.Context, a admin.Actor, id int64) error {
		_, err := c.svc.ReplayDeadLetter(ctx, a, id)
		return err
	})
}

func (c *Console) ignore(w http.ResponseWriter, r *http.Request) {
	note := strings.TrimSpace(r.PostFormValue("note"))
	c.deadLetterAction(w, r, "Dead letter %d is marked ignored.", func(ctx context.Context, a admin.Actor, id int64) error {
		_, err := c.svc.IgnoreDeadLetter(ctx, a, id, note)
		return err
	})
}

// deadLetterAction runs act on the route's dead letter and goes back to its
// page with done (%d: its id); an error is answered instead.
func (c *Console) deadLetterAction(w http.ResponseWriter, r *http.Request, done string, act func(context.Context, admin.Actor, int64) error) {
	id, ok := c.pathID(w, r)
	if !ok {
		return
	}
	if err := act(r.Context(), c.actor(r), id); err != nil {
		c.serviceError(w, r, err)
		return
	}
	c.redirect(w, r, fmt.Sprintf("/dead-letters/%d", id), fmt.Sprintf(done, id))
}

func (c *Console) note(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r)
	if !ok {
		return
	}
	text := strings.TrimSpace(r.PostFormValue("note"))
	var err error
	if text == "" {
		err = &admin.FieldError{Field: "note", Message: "write a note first"}
	} else {
		_, err = c.svc.AnnotateDeadLetter(r.Context(), c.actor(r), id, text)
	}
	if fe := fieldErrors(err); fe != nil {
		d, derr := c.svc.DeadLetter(r.Context(), id)
		if derr != nil {
			c.serviceError(w, r, derr)
			return
		}
		c.render(w, r, http.StatusBadRequest, "deadletter", view{Title: fmt.Sprintf("Dead letter %d", id), Section: "/dead-letters",
			Data: deadLetterData{D: d, Payload: pretty(d.Payload), Errors: fe, Note: text}})
		return
	}
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	c.redirect(w, r, fmt.Sprintf("/dead-letters/%d", id), "Note added.")
}

// --- Drift, videos, reconcile ---

func (c *Console) drift(w http.ResponseWriter, r *http.Request) {
	d, err := c.svc.Drift(r.Context())
	if err != nil && !errors.Is(err, admin.ErrNotFound) {
		c.serviceError(w, r, err)
		return
	}
	c.page(w, r, "drift", "Drift", "/drift", struct {
		D    admin.Drift
		None bool
	}{d, err != nil})
}

func (c *Console) dryRun(w http.ResponseWriter, r *http.Request) {
	d, err := c.svc.DryRun(r.Context(), c.actor(r))
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	c.page(w, r, "drift", "Drift (dry run)", "/drift", struct {
		D    admin.Drift
		None bool
	}{d, false})
}

func (c *Console) videos(w http.ResponseWriter, r *http.Request) {
	f := newFilters(r)
	q := admin.VideoQuery{State: tree.VideoState(f.oneOf("state", "deleted", "unavailable", "hidden")), Text: f.get("q"),
		After: f.get("after"), Limit: pageSize}
	p, ok := fetch(c, w, r, f, c.svc.Videos, q)
	if !ok {
		return
	}
	l := newList(r, f, p.Items, "")
	if p.Next != "" {
		q := r.URL.Query()
		q.Set("after", p.Next)
		l.Next = r.URL.Path + "?" + q.Encode()
	}
	if f.get("after") != "" {
		q := r.URL.Query()
		q.Del("after")
		l.First = r.URL.Path + "?" + q.Encode()
	}
	c.page(w, r, "videos", "Hidden & deleted videos", "/videos", l)
}

func (c *Console) confirmHide(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	hide := chi.URLParam(r, "action") == "hide"
	cf := confirmation{Action: r.URL.Path, Cancel: "/videos"}
	if hide {
		cf.Question = "Hide video " + id + " from every user?"
		cf.Details = []string{"It disappears from every library at once, whatever the rules say, until it is shown again.", "Vimeo is not changed."}
		cf.Button, cf.Danger = "Hide video", true
	} else {
		cf.Question = "Show video " + id + " again?"
		cf.Details = []string{"Users the rules allow will see it again."}
		cf.Button = "Show video"
	}
	c.confirm(w, r, "Confirm", "/videos", cf)
}

func (c *Console) hide(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	hide := chi.URLParam(r, "action") == "hide"
	if _, err := c.svc.SetVideoHidden(r.Context(), c.actor(r), id, hide); err != nil {
		c.serviceError(w, r, err)
		return
	}
	msg := "Video " + id + " is hidden from users."
	if !hide {
		msg = "Video " + id + " is shown again."
	}
	c.redirect(w, r, "/videos", msg)
}

type reconcileData struct {
	Scope  string
	ID     string
	Errors map[string]string
	Result *admin.ReconcileResult
}

func (c *Console) reconcileForm(w http.ResponseWriter, r *http.Request) {
	d := reconcileData{Scope: r.URL.Query().Get("scope"), ID: r.URL.Query().Get("id")}
	if d.Scope == "" {
		d.Scope = "root"
	}
	c.page(w, r, "reconcile", "Reconcile", "/reconcile", d)
}

func (c *Console) reconcile(w http.ResponseWriter, r *http.Request) {
	d := reconcileData{Scope: r.PostFormValue("scope"), ID: strings.TrimSpace(r.PostFormValue("id"))}
	res, err := c.svc.Reconcile(r.Context(), c.actor(r), admin.ReconcileRequest{Scope: admin.ReconcileScope(d.Scope), ID: d.ID, Wait: true})
	if fe := fieldErrors(err); fe != nil {
		d.Errors = fe
		c.render(w, r, http.StatusBadRequest, "reconcile", view{Title: "Reconcile", Section: "/reconcile", Data: d})
		return
	}
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	d.Result = &res
	text := "Reconciliation finished."
	if res.Queued {
		text = "Reconciliation requested from the sync worker (command " + res.CommandID + "); its run appears under Sync runs."
	}
	c.render(w, r, http.StatusOK, "reconcile", view{Title: "Reconcile", Section: "/reconcile", Data: d,
		Flash: &flash{Kind: "ok", Text: text}})
}

// --- Caches, lag, audit ---

func (c *Console) confirmInvalidate(w http.ResponseWriter, r *http.Request) {
	sc := scopeOf(r.URL.Query())
	what := "every cached page"
	if sc.Kind != admin.ScopeAll {
		what = "the cached pages of " + string(sc.Kind) + " " + sc.ID
	}
	c.confirm(w, r, "Confirm", "/caches", confirmation{Question: "Invalidate " + what + " on every API instance?",
		Details: []string{"Each instance rebuilds what it drops on the next request: expect slower answers for a moment."},
		Action:  "/caches/invalidate", Button: "Invalidate", Danger: true, Cancel: "/caches",
		Fields: map[string]string{"scope": string(sc.Kind), "id": sc.ID}})
}

func scopeOf(v url.Values) admin.Scope {
	sc := admin.Scope{Kind: admin.ScopeKind(v.Get("scope")), ID: strings.TrimSpace(v.Get("id"))}
	if sc.Kind == "" {
		sc.Kind = admin.ScopeAll
	}
	return sc
}

func (c *Console) invalidate(w http.ResponseWriter, r *http.Request) {
	res, err := c.svc.InvalidateCache(r.Context(), c.actor(r), scopeOf(r.PostForm))
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	c.redirect(w, r, "/caches", fmt.Sprintf("Invalidation %s sent to %d live instances.", res.Invalidation.ID, res.Instances))
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request) {
	f := newFilters(r)
	q := audit.Query{ActorID: f.get("actor"), Action: audit.Action(f.get("action")), ObjectKind: f.get("kind"), ObjectID: f.get("object"),
		From: f.time("from"), To: f.time("to"), Before: f.before, Limit: pageSize}
	if q.Action != "" && !slices.Contains(audit.Actions, q.Action) {
		f.errs["action"] = "Choose an action from the list"
	}
	p, ok := fetch(c, w, r, f, c.svc.Audit, q)
	if !ok {
		return
	}
	next := ""
	if p.Next != 0 {
		next = strconv.FormatInt(p.Next, 10)
	}
	l := newList(r, f, p.Items, next)
	l.Extra = audit.Actions
	c.page(w, r, "audit", "Audit log", "/audit", l)
}

// --- Explain ---

type explainData struct {
	Who      string // "user", "audience" or "anonymous"
	UserID   string
	Roles    string
	Segments string
	VideoID  string
	FolderID string
	Errors   map[string]string
	Result   *admin.Explanation
}

func (c *Console) explain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := explainData{Who: q.Get("who"), UserID: strings.TrimSpace(q.Get("user")), Roles: q.Get("roles"), Segments: q.Get("segments"),
		VideoID: strings.TrimSpace(q.Get("video")), FolderID: strings.TrimSpace(q.Get("folder")), Errors: map[string]string{}}
	if d.Who == "" {
		d.Who = "user"
	}
	if q.Get("go") == "" {
		c.page(w, r, "explain", "Explain access", "/explain", d)
		return
	}
	req := admin.ExplainRequest{VideoID: d.VideoID, FolderID: d.FolderID}
	switch d.Who {
	case "anonymous":
		req.Anonymous = true
	case "user":
		if d.UserID == "" {
			d.Errors["user"] = "Enter a user id, or choose roles and segments"
		}
		req.UserID = d.UserID
	default:
		req.Roles = splitList(d.Roles)
		req.Segments = map[string]string{}
		for _, kv := range splitList(d.Segments) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				d.Errors["segments"] = "Write segments as key=value, separated by commas"
				break
			}
			req.Segments[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	status := http.StatusOK
	if len(d.Errors) == 0 {
		res, err := c.svc.Explain(r.Context(), req)
		switch fe := fieldErrors(err); {
		case fe != nil:
			d.Errors = map[string]string{}
			for k, v := range fe {
				d.Errors[strings.TrimSuffix(strings.TrimSuffix(k, "_id"), "s")] = v
			}
			status = http.StatusBadRequest
		case errors.Is(err, admin.ErrNotFound) || errors.Is(err, auth.ErrNotFound):
			d.Errors["video"] = "No such user, video or folder"
			status = http.StatusNotFound
		case err != nil:
			c.serviceError(w, r, err)
			return
		default:
			d.Result = &res
		}
	} else {
		status = http.StatusBadRequest
	}
	c.render(w, r, status, "explain", view{Title: "Explain access", Section: "/explain", Data: d})
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// --- Rules ---

type rulesData struct {
	Set     admin.RuleSet
	Form    admin.Rule
	Errors  map[string]string
	Preview *admin.Preview
}

func (c *Console) rulesPage(w http.ResponseWriter, r *http.Request, status int, d rulesData) {
	set, err := c.svc.Rules(r.Context())
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	d.Set = set
	if d.Form.Effect == "" {
		d.Form.Effect = "allow"
	}
	c.render(w, r, status, "rules", view{Title: "Rules", Section: "/rules", Data: d})
}

func (c *Console) rules(w http.ResponseWriter, r *http.Request) {
	c.rulesPage(w, r, http.StatusOK, rulesData{})
}

func ruleForm(r *http.Request) admin.Rule {
	return admin.Rule{Subject: strings.TrimSpace(r.PostFormValue("subject")), Target: strings.TrimSpace(r.PostFormValue("target")),
		Effect: r.PostFormValue("effect"), LockReason: r.PostFormValue("lock_reason"), Note: strings.TrimSpace(r.PostFormValue("note"))}
}

// previewRule shows what adding the rule would change, with the button to
// apply it.
func (c *Console) previewRule(w http.ResponseWriter, r *http.Request) {
	rule := ruleForm(r)
	p, err := c.svc.PreviewRule(r.Context(), admin.RuleChange{Add: &rule})
	if fe := fieldErrors(err); fe != nil {
		c.rulesPage(w, r, http.StatusBadRequest, rulesData{Form: rule, Errors: fe})
		return
	}
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	c.rulesPage(w, r, http.StatusOK, rulesData{Form: rule, Preview: &p})
}

func (c *Console) addRule(w http.ResponseWriter, r *http.Request) {
	rule := ruleForm(r)
	added, err := c.svc.AddRule(r.Context(), c.actor(r), rule)
	if fe := fieldErrors(err); fe != nil {
		c.rulesPage(w, r, http.StatusBadRequest, rulesData{Form: rule, Errors: fe})
		return
	}
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	eff := added.Effect
	if added.LockReason != "" {
		eff += " (" + added.LockReason + ")"
	}
	c.redirect(w, r, "/rules", fmt.Sprintf("Rule %d added: %s %s %s.", added.ID, eff, added.Subject, added.Target))
}

func (c *Console) confirmRemoveRule(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r)
	if !ok {
		return
	}
	p, err := c.svc.PreviewRule(r.Context(), admin.RuleChange{Remove: id})
	if st, _ := admin.StatusOf(err); st == http.StatusNotFound {
		// A rule added a moment ago is stored but not yet in the loaded
		// library the preview runs on: confirm without the preview.
		c.confirmRemoveUnloaded(w, r, id, err)
		return
	}
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	details := []string{"Effect: " + p.Words}
	for _, e := range p.Effects {
		if e.Delta != 0 {
			details = append(details, fmt.Sprintf("%s: %s → %s videos (%s)", e.Subject, formatInt(e.Before), formatInt(e.After), signedInt(e.Delta)))
		}
	}
	c.confirm(w, r, "Confirm", "/rules", confirmation{Question: fmt.Sprintf("Remove rule %d?", id), Details: details,
		Action: r.URL.Path, Button: "Remove rule", Danger: true, Cancel: "/rules"})
}

// confirmRemoveUnloaded confirms removing a stored rule the loaded library
// does not have yet; notFound is the preview's error, answered when the
// rule is not stored either.
func (c *Console) confirmRemoveUnloaded(w http.ResponseWriter, r *http.Request, id int64, notFound error) {
	set, err := c.svc.Rules(r.Context())
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	for _, rule := range set.Rules {
		if rule.ID == id {
			c.confirm(w, r, "Confirm", "/rules", confirmation{Question: fmt.Sprintf("Remove rule %d?", id),
				Details: []string{"Rule: " + rule.Effect + " " + rule.Subject + " " + rule.Target + ".",
					"Its effect cannot be previewed yet: the loaded library does not include it. Reload this page in a few seconds to see the preview."},
				Action: r.URL.Path, Button: "Remove rule", Danger: true, Cancel: "/rules"})
			return
		}
	}
	c.serviceError(w, r, notFound)
}

func signedInt(n int) string {
	if n > 0 {
		return "+" + formatInt(n)
	}
	return formatInt(n)
}

func (c *Console) removeRule(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r)
	if !ok {
		return
	}
	if err := c.svc.RemoveRule(r.Context(), c.actor(r), id); err != nil {
		c.serviceError(w, r, err)
		return
	}
	c.redirect(w, r, "/rules", fmt.Sprintf("Rule %d removed.", id))
}

// --- Roles and users ---

type usersData struct {
	Roles  []auth.Role
	Errors map[string]string
	Form   map[string]string
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, status int, d usersData) {
	roles, err := c.svc.RoleList(r.Context())
	if err != nil {
		c.serviceError(w, r, err)
		return
	}
	d.Roles = roles
	c.render(w, r, status, "users", view{Title: "Roles & users", Section: "/users", Data: d})
}

func (c *Console) users(w http.ResponseWriter, r *http.Request) {
	c.usersPage(w, r, http.StatusOK, usersData{})
}

// userAction runs one roles-and-users form and shows the page again with
// the message, or with the field errors.
func (c *Console) userAction(w http.ResponseWriter, r *http.Request, form string, err error, msg string) {
	if err == nil {
		c.redirect(w, r, "/users", msg)
		return
	}
	fe := fieldErrors(err)
	switch {
	case fe != nil:
	case errors.Is(err, auth.ErrNotFound) || errors.Is(err, admin.ErrNotFound):
		fe = map[string]string{"user": "No such user (or role)"}
	case errors.Is(err, auth.ErrInvalid):
		fe = map[string]string{"role": "Lower-case letters, digits, '_', '.', '-'; at most 63"}
	default:
		c.serviceError(w, r, err)
		return
	}
	errs := map[string]string{}
	for k, v := range fe {
		errs[form+"."+strings.TrimSuffix(k, "_id")] = v
	}
	vals := map[string]string{}
	for k, v := range r.PostForm {
		vals[form+"."+k] = v[0]
	}
	c.usersPage(w, r, http.StatusBadRequest, usersData{Errors: errs, Form: vals})
}

func required(field, v string) error {
	if v == "" {
		return &admin.FieldError{Field: field, Message: "required"}
	}
	return nil
}

func (c *Console) putRole(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("role"))
	err := required("role", name)
	if err == nil {
		err = c.svc.PutRole(r.Context(), c.actor(r), auth.Role{Name: name, Description: strings.TrimSpace(r.PostFormValue("description"))})
	}
	c.userAction(w, r, "role", err, "Role "+name+" saved.")
}

func (c *Console) grant(w http.ResponseWriter, r *http.Request) {
	c.userRole(w, r, "grant", c.svc.GrantRole, "Role %s granted to user %s.")
}

func (c *Console) revoke(w http.ResponseWriter, r *http.Request) {
	c.userRole(w, r, "revoke", c.svc.RevokeRole, "Role %s revoked from user %s.")
}

// userRole runs the form's change of a user's role (both fields required)
// and answers it; msg gets the role and the user.
func (c *Console) userRole(w http.ResponseWriter, r *http.Request, form string,
	change func(ctx context.Context, a admin.Actor, user, role string) error, msg string) {
	user, role := strings.TrimSpace(r.PostFormValue("user")), strings.TrimSpace(r.PostFormValue("role"))
	err := required("user", user)
	if err == nil {
		err = required("role", role)
	}
	if err == nil {
		err = change(r.Context(), c.actor(r), user, role)
	}
	c.userAction(w, r, form, err, fmt.Sprintf(msg, role, user))
}

func (c *Console) disable(w http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.PostFormValue("user"))
	disable := chi.URLParam(r, "action") == "disable"
	err := required("user", user)
	if err == nil && disable && r.PostFormValue("confirmed") == "" {
		c.confirm(w, r, "Confirm", "/users", confirmation{Question: "Disable user " + user + "?",
			Details: []string{"They are signed out of the app and the console within a minute, and cannot sign in until enabled again."},
			Action:  "/users/disable", Button: "Disable user", Danger: true, Cancel: "/users",
			Fields: map[string]string{"user": user, "confirmed": "1"}})
		return
	}
	if err == nil {
		err = c.svc.SetUserDisabled(r.Context(), c.actor(r), user, disable)
	}
	msg := "User " + user + " is disabled."
	if !disable {
		msg = "User " + user + " is enabled."
	}
	c.userAction(w, r, "disable", err, msg)
}
