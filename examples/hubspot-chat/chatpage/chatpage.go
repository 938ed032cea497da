// Package chatpage is the web side of the hubspot-chat example: a page that
// signs in as a user, opens a video and boots the HubSpot chat widget with
// the identification token and context from GET /videos/{id}/chat-context.
// The page talks to its own server, which calls the vidlib API with the
// user's bearer token (tokens never reach the browser's JavaScript).
package chatpage

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed index.html
var page []byte

// User is someone the page may sign in as.
type User struct {
	Label string
	// Token returns a bearer token the vidlib API accepts for the user.
	Token func() (string, error)
}

// Options configure Handler.
type Options struct {
	// API is the vidlib API's base URL, e.g. http://127.0.0.1:8080.
	API string
	// Users the page offers to sign in as (at least one).
	Users []User
	// LoadWidget loads the HubSpot widget script of the portal the chat
	// context names. Off against a fake HubSpot: the page then shows what
	// it would hand the widget.
	LoadWidget bool
	// Client calls the API (default: a client with a 10 s timeout).
	Client *http.Client
}

// allowed are the API paths the page may read.
var allowed = []string{"/library/home", "/feed", "/me", "/folders/", "/videos/"}

// Handler serves the page (GET /), the users (GET /users) and the API
// reads it needs (GET /api/<path>?as=<user index>).
func Handler(o Options) (http.Handler, error) {
	u, err := url.Parse(strings.TrimRight(o.API, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("chatpage: API base URL %q", o.API)
	}
	if len(o.Users) == 0 {
		return nil, fmt.Errorf("chatpage: no users")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, _ *http.Request) {
		labels := make([]string, len(o.Users))
		for i, u := range o.Users {
			labels[i] = u.Label
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"users": labels, "load_widget": o.LoadWidget})
	})
	mux.HandleFunc("GET /api/", func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/api")
		ok := false
		for _, a := range allowed {
			ok = ok || p == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(p, a))
		}
		i, err := strconv.Atoi(r.URL.Query().Get("as"))
		if !ok || strings.Contains(p, "..") || err != nil || i < 0 || i >= len(o.Users) {
			http.Error(w, "not an API read this page makes", http.StatusBadRequest)
			return
		}
		tok, err := o.Users[i].Token()
		if err != nil {
			http.Error(w, "sign-in failed: "+err.Error(), http.StatusBadGateway)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String()+p, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := o.Client.Do(req)
		if err != nil {
			http.Error(w, "the API did not answer: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(res.Body, 8<<20))
	})
	return mux, nil
}
