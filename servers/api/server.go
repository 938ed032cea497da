package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/ops"
)

// Authenticator authenticates every request of the protected routes and puts
// the principal in the context for auth.PrincipalFrom: *auth.Service.
type Authenticator interface {
	Middleware(next http.Handler) http.Handler
}

var _ Authenticator = (*auth.Service)(nil)

// Server is the public read API over a library.Service.
type Server struct {
	lib     *library.Service
	authn   Authenticator
	opts    Options
	log     *zap.Logger
	limiter *userLimiter
	// eventLimiter limits analytics events per user (nil: no limit).
	eventLimiter *userLimiter
	// progress keeps users' unfinished videos by version (nil: every
	// request reads the ProgressStore).
	progress *progressCache
	router   chi.Router
	handler  http.Handler
}

// New builds the API. lib and authn are required. It does no I/O; Handler
// serves it (an ops.HTTPServer listens: Module, or servers/compose).
func New(lib *library.Service, authn Authenticator, opts *Options) (*Server, error) {
	if lib == nil || authn == nil {
		return nil, fmt.Errorf("%w: library and authenticator are required", ErrInvalid)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{lib: lib, authn: authn, opts: o, log: o.Logger}
	if o.RateLimit > 0 {
		s.limiter = &userLimiter{max: o.MaxLimitedUsers, rate: rate.Limit(o.RateLimit), burst: o.RateBurst, m: map[string]*rate.Limiter{}}
	}
	if a := o.Analytics; a.enabled() && a.Progress != nil && a.ProgressVersions != nil && a.ProgressCacheRows > 0 {
		s.progress = newProgressCache(a.ProgressCacheRows)
	}
	if a := o.Analytics; a.enabled() && a.EventRate > 0 {
		s.eventLimiter = &userLimiter{max: o.MaxLimitedUsers, rate: rate.Limit(a.EventRate), burst: a.EventBurst, m: map[string]*rate.Limiter{}}
	}
	s.router = s.routes()
	s.handler = s.router
	return s, nil
}

// Handler is the API as an http.Handler (for httptest, or another server).
func (s *Server) Handler() http.Handler { return s.handler }

// Routes is the router, for inspection (chi.Walk).
func (s *Server) Routes() chi.Routes { return s.router }

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	// The request id: an ops.HTTPServer's, or a new one when the handler is
	// served some other way. HEAD wherever GET is served.
	r.Use(ops.RequestID(s.log), s.recoverer, s.limits, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "not_found", "no such route")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
	})
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/openapi.json", s.openapi)
	// Browsing answers anonymous requests too once a rule names the public
	// subject (public content only); everything else needs a signed-in user.
	r.Group(func(r chi.Router) {
		r.Use(s.publicOrAuthn, s.requireViewer, s.rateLimit)
		r.Get("/library/home", s.home)
		r.Get("/folders/{id}", s.folder)
		r.Get("/videos/{id}", s.video)
		if s.opts.Analytics.enabled() {
			r.Get("/videos/{id}/playback", s.playbackSession)
		} else {
			r.Get("/videos/{id}/playback", s.playback)
		}
	})
	r.Group(func(r chi.Router) {
		r.Use(s.authn.Middleware, s.requireViewer, s.rateLimit)
		if s.opts.Analytics.enabled() {
			r.Post("/analytics/events", s.ingest)
			if s.opts.Analytics.Progress != nil {
				r.Get("/me/continue-watching", s.getContinueWatching)
				r.Delete("/me/continue-watching/{video_id}", s.dismissContinueWatching)
				r.Get("/me/history", s.history)
			}
		}
		if s.lib.ChatEnabled() {
			r.Get("/videos/{id}/chat-context", s.chatContext)
		}
		r.Get("/me", s.me)
		r.Get("/feed", s.feed)
		r.Get("/search", s.search)
	})
	return r
}

type viewerKey struct{}

// publicOrAuthn lets a request without an Authorization header through as
// an anonymous viewer when the library has a public rule; every other
// request (a token, even a bad one, or no public rule) goes through the
// Authenticator, so anonymous requests stay 401 unless public content
// exists.
func (s *Server) publicOrAuthn(next http.Handler) http.Handler {
	authed := s.authn.Middleware(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, sent := r.Header["Authorization"]; !sent && s.lib.PublicEnabled() {
			anon := library.Viewer{Anonymous: true}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, anon)))
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// requireViewer turns the principal into a library.Viewer; a request
// without one (a misconfigured Authenticator) is refused. An anonymous
// viewer put there by publicOrAuthn passes.
func (s *Server) requireViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := viewerFrom(r); ok && v.Anonymous {
			next.ServeHTTP(w, r)
			return
		}
		p, ok := auth.PrincipalFrom(r.Context())
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vidlib"`)
			writeError(w, r, http.StatusUnauthorized, "unauthenticated", "a bearer token is required")
			return
		}
		v := ViewerOf(p)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	})
}

// ViewerOf converts an authenticated principal into the library's Viewer.
func ViewerOf(p *auth.Principal) library.Viewer {
	return library.Viewer{
		UserID: p.User.ID, Email: p.User.Email, Name: p.User.DisplayName,
		Roles: p.Roles, Segments: p.Segments,
	}
}

func viewerFrom(r *http.Request) (library.Viewer, bool) {
	v, ok := r.Context().Value(viewerKey{}).(library.Viewer)
	return v, ok
}

// Cache-Control of user answers: private, and revalidated every time (the
// ETag makes that cheap); playback links are not stored at all. Anonymous
// answers are the same for every visitor: shared caches may keep them,
// revalidating each time (a rule change must show at once).
const (
	cachePrivate = "private, no-cache"
	cachePublic  = "public, no-cache"
	cacheNone    = "no-store"
)

// cacheFor is the Cache-Control of a browsing answer to v.
func cacheFor(v library.Viewer) string {
	if v.Anonymous {
		return cachePublic
	}
	return cachePrivate
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheNone)
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", cacheNone)
	st := s.lib.Status()
	if !st.Ready {
		w.Header().Set("Retry-After", "1")
		writeError(w, r, http.StatusServiceUnavailable, "not_ready", "the library is loading")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":"ready","content_version":%d,"entitlement_version":%d}`+"\n", st.ContentVersion, st.EntitlementVersion)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	b, err := s.lib.HomeJSON(r.Context(), v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Anonymous { // no personal rows
		s.writeBody(w, r, b, cachePublic)
		return
	}
	// The per-user rows, spliced in front of the shared ones in one copy:
	// continue watching, then ranked for you.
	var rows []byte
	for _, row := range [][]byte{s.continueRow(r, v), s.rankedRow(r, v)} {
		if len(row) > 0 {
			if len(rows) > 0 {
				rows = append(rows, ',')
			}
			rows = append(rows, row...)
		}
	}
	b = withPersonal(b, nil, rows)
	s.writeBody(w, r, b, cachePrivate)
}

func (s *Server) folder(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	q := r.URL.Query()
	limit, ok := pageLimit(w, r)
	if !ok {
		return
	}
	b, err := s.lib.FolderJSON(r.Context(), v, idParam(r), q.Get("cursor"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeBody(w, r, b, cacheFor(v))
}

func (s *Server) video(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	b, err := s.lib.VideoJSON(r.Context(), v, idParam(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !v.Anonymous {
		b = s.personalVideo(r, v, chi.URLParam(r, "id"), b)
	}
	s.writeBody(w, r, b, cacheFor(v))
}

func (s *Server) playback(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	b, err := s.lib.PlaybackJSON(r.Context(), v, idParam(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeBody(w, r, b, cacheNone)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	v, _ := viewerFrom(r)
	b, err := s.lib.MeJSON(r.Context(), v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeBody(w, r, b, cachePrivate)
}
