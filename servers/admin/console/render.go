package console

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/vidlib/vidlib/auth"
)

// navItem is one entry of the navigation.
type navItem struct {
	Path  string
	Label string
}

// view is what every page template gets.
type view struct {
	Title   string
	Section string // the navigation entry to highlight
	Nav     []navItem
	User    string
	CSRF    string
	Flash   *flash
	Data    any
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	"num": func(n any) string {
		switch v := n.(type) {
		case int:
			return formatInt(v)
		case int64:
			return formatInt(int(v))
		}
		return fmt.Sprint(n)
	},
	"signed": func(n int) string {
		if n > 0 {
			return "+" + formatInt(n)
		}
		return formatInt(n)
	},
	"dur": func(ms int64) string {
		return (time.Duration(ms) * time.Millisecond).Round(time.Millisecond).String()
	},
	"join": strings.Join,
	"badge": func(status string) string {
		switch status {
		case "ok", "processed", "replayed", "allowed", "approved", "allow":
			return "badge ok"
		case "held", "running", "received", "open", "hidden", "unavailable", "teaser", "locked":
			return "badge warn"
		case "failed", "error", "denied", "rejected", "deleted", "deny":
			return "badge bad"
		}
		return "badge"
	},
	// options writes <option>s from value, label pairs, selecting cur.
	"options": func(cur string, pairs ...string) template.HTML {
		var b strings.Builder
		for i := 0; i+1 < len(pairs); i += 2 {
			sel := ""
			if pairs[i] == cur {
				sel = " selected"
			}
			fmt.Fprintf(&b, `<option value="%s"%s>%s</option>`, html.EscapeString(pairs[i]), sel, html.EscapeString(pairs[i+1]))
		}
		return template.HTML(b.String()) //nolint:gosec // every part is escaped above
	},
	"has": func(errs map[string]string, k string) string {
		if errs[k] != "" {
			return " has-error"
		}
		return ""
	},
	"q": urlQueryEscape,
}

// formatInt writes 1204 as "1,204".
func formatInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// parseTemplates pairs the layout with each page template.
func parseTemplates() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}

// render writes a page with the layout. Rendering goes to a buffer first, so
// a template error is a clean 500, never half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	t := c.pages[page]
	if t == nil {
		panic(fmt.Sprintf("console: no template %q", page))
	}
	if s := sessionOf(r); s != nil {
		v.CSRF = s.CSRF
	}
	if p := principal(r); p != nil {
		v.User = displayName(p)
		if v.Nav == nil && c.opts.IsAdmin(p) {
			v.Nav = c.nav
		}
	}
	if v.Flash == nil {
		var f flash
		if c.readCookie(r, flashCookie, &f) {
			clearCookie(w, flashCookie)
			v.Flash = &f
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("render " + page + ": " + err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func displayName(p *auth.Principal) string {
	switch {
	case p.User.DisplayName != "":
		return p.User.DisplayName
	case p.User.Email != "":
		return p.User.Email
	}
	return p.User.ID
}

type signInData struct {
	Message string
	Next    string
	Issuer  string
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, msg, next string) {
	host := c.opts.Issuer
	if u, err := url.Parse(c.opts.Issuer); err == nil {
		host = u.Host
	}
	c.render(w, r, status, "signin", view{Title: "Sign in", Data: signInData{Message: msg, Next: localPath(next), Issuer: host}})
}

type errorData struct {
	Status  int
	Message string
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	c.render(w, r, status, "error", view{Title: title, Data: errorData{Status: status, Message: msg}})
}

type forbiddenData struct {
	Email string
	Roles []string
	Role  string
}

func (c *Console) renderForbidden(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	c.render(w, r, http.StatusForbidden, "forbidden", view{Title: "Not an administrator", Nav: []navItem{},
		Data: forbiddenData{Email: p.User.Email, Roles: p.Roles, Role: c.opts.AdminRole}})
}
