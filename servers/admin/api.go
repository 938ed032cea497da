package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/tree"
)

// API is the admin JSON API over a Service: every route under /admin/ needs
// an admin (401 anonymous, 403 non-admin); POST and DELETE accept an
// Idempotency-Key. The web console, which is built on the Service, mounts
// itself at / with Router().Handle("/*", console).
type API struct {
	svc    *Service
	authn  Authenticator
	log    *zap.Logger
	router chi.Router
}

// NewAPI returns the API of svc, authenticating with authn.
func NewAPI(svc *Service, authn Authenticator) (*API, error) {
	if svc == nil || authn == nil {
		return nil, fmt.Errorf("%w: NewAPI needs a service and an authenticator", ErrInvalid)
	}
	a := &API{svc: svc, authn: authn, log: svc.log}
	a.router = a.routes()
	return a, nil
}

// Handler is the API's HTTP handler.
func (a *API) Handler() http.Handler { return a.router }

// Router is the chi router, for mounting more routes (the console).
func (a *API) Router() chi.Router { return a.router }

func (a *API) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(ops.RequestID(a.log), a.recoverer, a.limits)
	r.Route("/admin", func(r chi.Router) {
		r.Use(a.requireAdmin, a.idempotent)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, http.StatusNotFound, "not_found", "no such route", nil)
		})
		// Reconciliations that the admin waits for run up to ReconcileWait.
		r.Group(func(r chi.Router) {
			r.Use(timeout(a.svc.opts.ReconcileWait + 5*time.Second))
			r.Post("/sync-runs/{id}/approve", a.decide(true))
			r.Post("/reconcile/root", a.reconcile(ReconcileRoot))
			r.Post("/reconcile/folders/{id}", a.reconcile(ReconcileFolder))
			r.Post("/reconcile/videos/{id}", a.reconcile(ReconcileVideo))
			r.Post("/drift/dry-run", a.dryRun)
		})
		r.Group(func(r chi.Router) {
			r.Use(timeout(a.svc.opts.HandlerTimeout))
			r.Get("/whoami", a.whoami)
			r.Get("/overview", a.overview)
			r.Get("/sync-runs", listRoute(a, syncRunQuery, a.svc.SyncRuns))
			r.Get("/sync-runs/{id}", idRoute(a, a.svc.SyncRun))
			r.Post("/sync-runs/{id}/reject", a.decide(false))
			r.Get("/provider-events", listRoute(a, providerEventQuery, a.svc.ProviderEvents))
			r.Get("/provider-events/{id}", idRoute(a, a.svc.ProviderEvent))
			r.Get("/dead-letters", listRoute(a, deadLetterQuery, a.svc.DeadLetters))
			r.Get("/dead-letters/{id}", idRoute(a, a.svc.DeadLetter))
			r.Post("/dead-letters/{id}/replay", a.replayDeadLetter)
			r.Post("/dead-letters/{id}/ignore", a.noteAction(true))
			r.Post("/dead-letters/{id}/note", a.noteAction(false))
			r.Post("/replay/{event_id}", a.replayEvent)
			r.Post("/cache/invalidate", bodyRoute(a, a.invalidate))
			r.Get("/cache/instances", a.instances)
			r.Get("/videos", listRoute(a, videoQuery, a.svc.Videos))
			r.Post("/videos/{id}/hide", a.hide(true))
			r.Post("/videos/{id}/show", a.hide(false))
			r.Get("/drift", a.drift)
			r.Get("/lag", a.lag)
			r.Get("/audit", listRoute(a, auditQuery, a.auditPage))
			r.Get("/explain", a.explain)
			r.Get("/rules", a.rules)
			r.Post("/rules", a.addRule)
			r.Post("/rules/preview", bodyRoute(a, a.previewRule))
			r.Delete("/rules/{id}", a.removeRule)
			r.Get("/roles", a.roles)
			r.Post("/roles", a.putRole)
			r.Post("/users/{id}/roles", a.grantRole)
			r.Delete("/users/{id}/roles/{role}", a.revokeRole)
			r.Post("/users/{id}/disable", a.disable(true))
			r.Post("/users/{id}/enable", a.disable(false))
		})
	})
	return r
}

func (a *API) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.Error("panic", zap.Any("panic", v), zap.String("path", r.URL.Path), zap.String("request_id", ops.RequestIDFrom(r)))
				writeError(w, r, http.StatusInternalServerError, "internal", "internal error", nil)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limits refuses oversized bodies (413) and caps what a handler may read.
func (a *API) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > a.svc.opts.MaxBodyBytes {
			writeError(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "request body too large", nil)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, a.svc.opts.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// timeout bounds the request's context.
func timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// reply answers v with 200 or the error.
func (a *API) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func actor(r *http.Request) Actor {
	a, _ := ActorFrom(r.Context())
	return a
}

// decodeBody reads an optional JSON body into v (an empty body leaves v).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return invalid(ute.Field, "has the wrong type")
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return invalid(strings.Trim(f, `"`), "unknown field")
		}
		return invalid("body", "not valid JSON: %v", err)
	}
	return nil
}

// query reads list parameters.
type query struct {
	v   url.Values
	err error
}

func (q *query) str(name string) string { return q.v.Get(name) }

func (q *query) time(name string) time.Time {
	s := q.v.Get(name)
	if s == "" || q.err != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		q.err = invalid(name, "want an RFC 3339 time, got %q", s)
	}
	return t
}

func (q *query) int(name string) int64 {
	s := q.v.Get(name)
	if s == "" || q.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		q.err = invalid(name, "want a non-negative integer, got %q", s)
	}
	return n
}

// listRoute serves a list: read builds the service's query from the URL's
// parameters (a malformed one is a 400 naming it), and list runs it.
func listRoute[Q, P any](a *API, read func(*query) Q, list func(context.Context, Q) (P, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := query{v: r.URL.Query()}
		f := read(&q)
		if q.err != nil {
			a.fail(w, r, q.err)
			return
		}
		p, err := list(r.Context(), f)
		a.reply(w, r, p, err)
	}
}

// bodyRoute serves a request whose JSON body (a malformed one is a 400
// naming the field) do answers.
func bodyRoute[B, T any](a *API, do func(*http.Request, B) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b B
		if err := decodeBody(r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		v, err := do(r, b)
		a.reply(w, r, v, err)
	}
}

// idRoute serves the one record get reads by the {id} path parameter.
func idRoute[T any](a *API, get func(context.Context, int64) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		v, err := get(r.Context(), id)
		a.reply(w, r, v, err)
	}
}

func pathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || n <= 0 {
		return 0, invalid(name, "want a positive integer")
	}
	return n, nil
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, actor(r))
}

func (a *API) overview(w http.ResponseWriter, r *http.Request) {
	o, err := a.svc.Overview(r.Context())
	a.reply(w, r, o, err)
}

func syncRunQuery(q *query) SyncRunQuery {
	return SyncRunQuery{Trigger: q.str("trigger"), Status: q.str("status"), From: q.time("from"), To: q.time("to"),
		Before: q.int("before"), Limit: int(q.int("limit"))}
}

type noteBody struct {
	Note string `json:"note"`
}

// idAndNote reads the route's {id} and the optional {"note": …} body of an
// action on that record.
func idAndNote(r *http.Request) (int64, string, error) {
	id, err := pathID(r, "id")
	var b noteBody
	if err == nil {
		err = decodeBody(r, &b)
	}
	return id, b.Note, err
}

func (a *API) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, note, err := idAndNote(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		run, err := a.svc.DecideHeld(r.Context(), actor(r), id, approve, note)
		if err == nil && run.CommandID != "" {
			writeJSON(w, http.StatusAccepted, run) // sent to the sync worker
			return
		}
		a.reply(w, r, run, err)
	}
}

func providerEventQuery(q *query) ProviderEventQuery {
	return ProviderEventQuery{Provider: q.str("provider"), Status: events.ProviderEventStatus(q.str("status")),
		EventType: q.str("type"), Text: q.str("q"), From: q.time("from"), To: q.time("to"),
		Before: q.int("before"), Limit: int(q.int("limit"))}
}

func deadLetterQuery(q *query) DeadLetterQuery {
	return DeadLetterQuery{Status: events.DeadLetterStatus(q.str("status")), Topic: q.str("topic"), EventID: q.str("event_id"),
		Text: q.str("q"), From: q.time("from"), To: q.time("to"), Before: q.int("before"), Limit: int(q.int("limit"))}
}

func (a *API) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d, err := a.svc.ReplayDeadLetter(r.Context(), actor(r), id)
	a.reply(w, r, d, err)
}

func (a *API) noteAction(ignore bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, note, err := idAndNote(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var d DeadLetter
		if ignore {
			d, err = a.svc.IgnoreDeadLetter(r.Context(), actor(r), id, note)
		} else {
			d, err = a.svc.AnnotateDeadLetter(r.Context(), actor(r), id, note)
		}
		a.reply(w, r, d, err)
	}
}

func (a *API) replayEvent(w http.ResponseWriter, r *http.Request) {
	ds, err := a.svc.ReplayEvent(r.Context(), actor(r), chi.URLParam(r, "event_id"))
	a.reply(w, r, map[string]any{"replayed": ds}, err)
}

func (a *API) reconcile(scope ReconcileScope) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Wait bool `json:"wait"`
		}
		if err := decodeBody(r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		res, err := a.svc.Reconcile(r.Context(), actor(r), ReconcileRequest{Scope: scope, ID: chi.URLParam(r, "id"), Wait: b.Wait})
		if err == nil && res.Started {
			writeJSON(w, http.StatusAccepted, res)
			return
		}
		a.reply(w, r, res, err)
	}
}

func (a *API) invalidate(r *http.Request, sc Scope) (InvalidateResult, error) {
	return a.svc.InvalidateCache(r.Context(), actor(r), sc)
}

func (a *API) instances(w http.ResponseWriter, r *http.Request) {
	in, err := a.svc.Instances(r.Context())
	a.reply(w, r, map[string]any{"instances": in}, err)
}

func videoQuery(q *query) VideoQuery {
	return VideoQuery{State: tree.VideoState(q.str("state")), Text: q.str("q"), After: q.str("after"), Limit: int(q.int("limit"))}
}

func (a *API) hide(hidden bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		v, err := a.svc.SetVideoHidden(r.Context(), actor(r), id, hidden)
		a.reply(w, r, map[string]any{"video_id": id, "hidden": hidden, "version": v}, err)
	}
}

func (a *API) drift(w http.ResponseWriter, r *http.Request) {
	d, err := a.svc.Drift(r.Context())
	a.reply(w, r, d, err)
}

func (a *API) dryRun(w http.ResponseWriter, r *http.Request) {
	d, err := a.svc.DryRun(r.Context(), actor(r))
	a.reply(w, r, d, err)
}

func (a *API) lag(w http.ResponseWriter, r *http.Request) {
	l, err := a.svc.ConsumerLag(r.Context())
	a.reply(w, r, map[string]any{"lag": l}, err)
}

func auditQuery(q *query) audit.Query {
	return audit.Query{ActorKind: audit.ActorKind(q.str("actor_kind")), ActorID: q.str("actor"), Action: audit.Action(q.str("action")),
		ObjectKind: q.str("object_kind"), ObjectID: q.str("object_id"), From: q.time("from"), To: q.time("to"),
		Before: q.int("before"), Limit: int(q.int("limit"))}
}

// auditPage is the audit log's page with its cursor as a string, like every
// other list's.
func (a *API) auditPage(ctx context.Context, q audit.Query) (Page[audit.Record], error) {
	p, err := a.svc.Audit(ctx, q)
	if err != nil {
		return Page[audit.Record]{}, err
	}
	out := Page[audit.Record]{Items: p.Items}
	if p.Next > 0 {
		out.Next = strconv.FormatInt(p.Next, 10)
	}
	return out, nil
}

func (a *API) explain(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	req := ExplainRequest{UserID: v.Get("user_id"), VideoID: v.Get("video_id"), FolderID: v.Get("folder_id")}
	switch v.Get("anonymous") {
	case "", "false":
	case "true":
		req.Anonymous = true
	default:
		a.fail(w, r, invalid("anonymous", "want true or false"))
		return
	}
	req.Roles = append(req.Roles, v["role"]...)
	for _, s := range v["segment"] {
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			a.fail(w, r, invalid("segment", "want key=value, got %q", s))
			return
		}
		if req.Segments == nil {
			req.Segments = map[string]string{}
		}
		req.Segments[k] = val
	}
	x, err := a.svc.Explain(r.Context(), req)
	a.reply(w, r, x, err)
}

func (a *API) rules(w http.ResponseWriter, r *http.Request) {
	rs, err := a.svc.Rules(r.Context())
	a.reply(w, r, rs, err)
}

func (a *API) addRule(w http.ResponseWriter, r *http.Request) {
	var in Rule
	if err := decodeBody(r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	out, err := a.svc.AddRule(r.Context(), actor(r), in)
	if err == nil {
		writeJSON(w, http.StatusCreated, out)
		return
	}
	a.fail(w, r, err)
}

func (a *API) previewRule(r *http.Request, ch RuleChange) (Preview, error) {
	return a.svc.PreviewRule(r.Context(), ch)
}

func (a *API) removeRule(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = a.svc.RemoveRule(r.Context(), actor(r), id)
	}
	a.reply(w, r, map[string]any{"removed": id}, err)
}

func (a *API) roles(w http.ResponseWriter, r *http.Request) {
	rs, err := a.svc.RoleList(r.Context())
	out := make([]map[string]any, 0, len(rs))
	for _, x := range rs {
		out = append(out, map[string]any{"name": x.Name, "description": x.Description, "created_at": x.CreatedAt})
	}
	a.reply(w, r, map[string]any{"roles": out}, err)
}

func (a *API) putRole(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	err := decodeBody(r, &b)
	if err == nil {
		err = a.svc.PutRole(r.Context(), actor(r), auth.Role{Name: b.Name, Description: b.Description})
	}
	a.reply(w, r, b, err)
}

func (a *API) grantRole(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Role string `json:"role"`
	}
	err := decodeBody(r, &b)
	if err == nil {
		err = a.svc.GrantRole(r.Context(), actor(r), chi.URLParam(r, "id"), b.Role)
	}
	a.reply(w, r, map[string]any{"user_id": chi.URLParam(r, "id"), "role": b.Role}, err)
}

func (a *API) revokeRole(w http.ResponseWriter, r *http.Request) {
	err := a.svc.RevokeRole(r.Context(), actor(r), chi.URLParam(r, "id"), chi.URLParam(r, "role"))
	a.reply(w, r, map[string]any{"user_id": chi.URLParam(r, "id"), "revoked": chi.URLParam(r, "role")}, err)
}

func (a *API) disable(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := a.svc.SetUserDisabled(r.Context(), actor(r), chi.URLParam(r, "id"), disabled)
		a.reply(w, r, map[string]any{"user_id": chi.URLParam(r, "id"), "disabled": disabled}, err)
	}
}
