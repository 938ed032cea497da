package hubspottest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vidlib/vidlib/internal/clock"
)

// Clock is the fake's source of time (rate-limit windows, token issue
// times). hubspot.Clock values satisfy it, so one clock drives both.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Scope names the fake checks.
const (
	ScopeVisitorTokens = "conversations.visitor_identification.tokens.create"
	ScopeContactsWrite = "crm.objects.contacts.write"
	ScopeSchemasWrite  = "crm.schemas.contacts.write"
	DefaultToken       = "pat-na1-00000000-test"
	DefaultBurst       = 100
	DefaultDaily       = 250_000
	DefaultIntervalMS  = 10_000
	tenSecondlyMessage = "You have reached your ten_secondly_rolling limit."
	dailyMessage       = "You have reached your daily limit."
	PolicyTenSecondly  = "TEN_SECONDLY_ROLLING"
	PolicyDaily        = "DAILY"
	visitorOp          = "visitor_token"
	contactPatchOp     = "contact_patch"
	contactUpsertOp    = "contact_upsert"
	contactCreateOp    = "contact_create"
	propertyCreateOp   = "property_create"
)

// Operations, as Calls counts them.
const (
	OpVisitorToken   = visitorOp
	OpContactPatch   = contactPatchOp
	OpContactUpsert  = contactUpsertOp
	OpContactCreate  = contactCreateOp
	OpPropertyCreate = propertyCreateOp
)

// Options configures a Server. The zero value is valid.
type Options struct {
	// Token is the bearer token accepted (default DefaultToken).
	Token string
	// Scopes granted to Token (nil: all of them).
	Scopes []string
	// BelowProfessional makes visitor identification answer 403, as on an
	// account without a Professional or Enterprise hub.
	BelowProfessional bool
	// Burst is the requests allowed per rolling Interval (default
	// DefaultBurst per 10 s); Daily the requests per day (default
	// DefaultDaily).
	Burst    int
	Interval time.Duration
	Daily    int
	// OmitRateHeaders leaves out the X-HubSpot-RateLimit-* headers (as
	// search endpoints and some failures do).
	OmitRateHeaders bool
	// RetryAfter, if set, adds Retry-After (whole seconds) to 429 answers;
	// HubSpot documents none.
	RetryAfter time.Duration
	// RateLimitCategory answers 429s with category RATE_LIMITS instead of
	// errorType RATE_LIMIT (seen in the wild).
	RateLimitCategory bool
	// Clock defaults to the wall clock.
	Clock Clock
}

// Fault is an injected failure.
type Fault struct {
	Status    int           // answer with this status and an error envelope (500, 502, 504, 429, …)
	Policy    string        // for Status 429: PolicyTenSecondly (default) or PolicyDaily
	Delay     time.Duration // wait this long (real time) before answering; the request's end stops it
	Truncated bool          // a 200 whose JSON body is cut short
	NonJSON   bool          // an HTML error page instead of the envelope (with Status, default 502)
}

// IssuedToken is a visitor identification token the fake minted.
type IssuedToken struct {
	Email        string
	FirstName    string
	LastName     string
	AgentContext map[string]string
	Token        string
	IssuedAt     time.Time
	Path         string
}

// Contact is a contact the fake keeps.
type Contact struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Server is a fake HubSpot API on httptest. It is safe for concurrent use.
type Server struct {
	*httptest.Server
	o     Options
	clock Clock

	mu         sync.Mutex
	scopes     map[string]bool
	below      bool
	faults     []Fault // FailNext queue
	always     *Fault
	calls      map[string]int
	requests   int
	limited    int
	sent       []time.Time // accepted requests, for the rolling window
	maxWindow  int
	dailyCount int
	tokens     []IssuedToken
	contacts   map[string]*Contact // by email
	props      map[string]bool
	nextID     int
}

// New starts a fake HubSpot API; Close it when done.
func New(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Interval <= 0 {
		o.Interval = DefaultIntervalMS * time.Millisecond
	}
	if o.Daily <= 0 {
		o.Daily = DefaultDaily
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	s := &Server{o: o, clock: o.Clock, below: o.BelowProfessional, calls: map[string]int{},
		contacts: map[string]*Contact{}, nextID: 100,
		props: map[string]bool{"email": true, "firstname": true, "lastname": true, "phone": true}}
	if o.Scopes == nil {
		o.Scopes = []string{ScopeVisitorTokens, ScopeContactsWrite, ScopeSchemasWrite}
	}
	s.scopes = map[string]bool{}
	for _, sc := range o.Scopes {
		s.scopes[sc] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Token is the bearer token the fake accepts.
func (s *Server) Token() string { return s.o.Token }

// FailNext makes the next requests fail with the faults, in order.
func (s *Server) FailNext(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// FailAlways makes every request fail with f until Recover.
func (s *Server) FailAlways(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = &f
}

// Recover clears every injected fault.
func (s *Server) Recover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always, s.faults = nil, nil
}

// SetBelowProfessional switches the account tier check of visitor
// identification.
func (s *Server) SetBelowProfessional(b bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.below = b
}

// SetScopes replaces the token's scopes.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = map[string]bool{}
	for _, sc := range scopes {
		s.scopes[sc] = true
	}
}

// Calls returns how many requests reached the operation (any outcome).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Stats are the fake's counters.
type Stats struct {
	Requests    int // every request
	RateLimited int // answered 429 by the limiter or a fault
	// MaxInWindow is the most requests the limiter counted in any rolling
	// interval: above Burst means the client broke the limit.
	MaxInWindow int
}

// Stats returns the fake's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Requests: s.requests, RateLimited: s.limited, MaxInWindow: s.maxWindow}
}

// Tokens returns the visitor tokens minted so far, oldest first.
func (s *Server) Tokens() []IssuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]IssuedToken(nil), s.tokens...)
}

// TokensFor returns the tokens minted for email.
func (s *Server) TokensFor(email string) []IssuedToken {
	var out []IssuedToken
	for _, t := range s.Tokens() {
		if t.Email == email {
			out = append(out, t)
		}
	}
	return out
}

// Contact returns a copy of the contact with email.
func (s *Server) Contact(email string) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[strings.ToLower(email)]
	if !ok {
		return Contact{}, false
	}
	cp := *c
	cp.Properties = make(map[string]string, len(c.Properties))
	for k, v := range c.Properties {
		cp.Properties[k] = v
	}
	return cp, true
}

// AddContact creates a contact with email.
func (s *Server) AddContact(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contactLocked(email)
}

func (s *Server) contactLocked(email string) *Contact {
	key := strings.ToLower(email)
	if c, ok := s.contacts[key]; ok {
		return c
	}
	s.nextID++
	now := s.clock.Now().UTC()
	c := &Contact{ID: strconv.Itoa(s.nextID), Properties: map[string]string{"email": key}, CreatedAt: now, UpdatedAt: now}
	s.contacts[key] = c
	return c
}

// ---- serving

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	corr := newID()
	w.Header().Set("X-HubSpot-Correlation-Id", corr)
	op, pathArg := route(r.Method, r.URL.EscapedPath())
	// Read the body first: the server notices a client that hangs up only
	// once it has (so a slow answer ends with the client's timeout).
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	s.mu.Lock()
	s.requests++
	if op != "" {
		s.calls[op]++
	}
	var fault *Fault
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		fault = &f
	} else if s.always != nil {
		f := *s.always
		fault = &f
	}
	s.mu.Unlock()

	if fault != nil && fault.Delay > 0 && clock.Sleep(r.Context(), fault.Delay) != nil {
		return // the client gave up waiting
	}
	if !s.authorized(r) {
		writeErr(w, http.StatusUnauthorized, corr, map[string]any{"category": "INVALID_AUTHENTICATION",
			"message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"})
		return
	}
	if op == "" {
		writeErr(w, http.StatusNotFound, corr, map[string]any{"category": "OBJECT_NOT_FOUND", "message": "resource not found"})
		return
	}
	// The burst limiter counts every authenticated request.
	if !s.admit(w, corr, fault) {
		return
	}
	if fault != nil {
		switch {
		case fault.NonJSON:
			st := fault.Status
			if st == 0 {
				st = http.StatusBadGateway
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(st)
			_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			return
		case fault.Truncated:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"token":"eyJhbGciOiJIUzI1`)
			return
		case fault.Status >= 500:
			writeErr(w, fault.Status, corr, map[string]any{"category": "INTERNAL_ERROR", "message": "internal error"})
			return
		case fault.Status != 0 && fault.Status != http.StatusTooManyRequests:
			writeErr(w, fault.Status, corr, map[string]any{"category": "VALIDATION_ERROR", "message": "injected failure"})
			return
		}
	}
	switch op {
	case visitorOp:
		s.visitorToken(w, r, corr, body)
	case contactPatchOp:
		s.contactPatch(w, r, corr, pathArg, body)
	case contactUpsertOp:
		s.contactUpsert(w, corr, body)
	case contactCreateOp:
		s.contactCreate(w, corr, body)
	case propertyCreateOp:
		s.propertyCreate(w, corr, body)
	}
}

// route names the operation of a request, and its path argument.
func route(method, p string) (op, arg string) {
	switch {
	case method == http.MethodPost && (p == "/conversations/v3/visitor-identification/tokens/create" ||
		p == "/visitor-identification/v3/tokens/create" || p == "/visitor-identification/2026-03/tokens/create" ||
		p == "/visitor-identification/2026-09/tokens/create"):
		return visitorOp, ""
	case method == http.MethodPost && (p == "/crm/v3/objects/contacts/batch/upsert" || p == "/crm/objects/2026-03/contacts/batch/upsert"):
		return contactUpsertOp, ""
	case method == http.MethodPost && (p == "/crm/v3/objects/contacts" || p == "/crm/objects/2026-03/contacts"):
		return contactCreateOp, ""
	case method == http.MethodPost && p == "/crm/v3/properties/contacts":
		return propertyCreateOp, ""
	case method == http.MethodPatch:
		for _, pre := range []string{"/crm/v3/objects/contacts/", "/crm/objects/2026-03/contacts/"} {
			if rest, ok := strings.CutPrefix(p, pre); ok && rest != "" && !strings.Contains(rest, "/") {
				id, err := url.PathUnescape(rest)
				if err == nil {
					return contactPatchOp, id
				}
			}
		}
	}
	return "", ""
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return false
	}
	tok, ok := strings.CutPrefix(h[0], "Bearer ")
	return ok && tok == s.o.Token
}

// admit runs the burst and daily limiters (and an injected 429) and writes
// the rate-limit headers; false when it answered 429.
func (s *Server) admit(w http.ResponseWriter, corr string, fault *Fault) bool {
	s.mu.Lock()
	now := s.clock.Now()
	cut := now.Add(-s.o.Interval)
	i := 0
	for i < len(s.sent) && !s.sent[i].After(cut) {
		i++
	}
	s.sent = s.sent[i:]
	policy := ""
	switch {
	case fault != nil && fault.Status == http.StatusTooManyRequests:
		policy = fault.Policy
		if policy == "" {
			policy = PolicyTenSecondly
		}
	case s.dailyCount >= s.o.Daily:
		policy = PolicyDaily
	case len(s.sent) >= s.o.Burst:
		policy = PolicyTenSecondly
	default:
		s.sent = append(s.sent, now)
		s.dailyCount++
		s.maxWindow = max(s.maxWindow, len(s.sent))
	}
	remaining := max(s.o.Burst-len(s.sent), 0)
	dailyLeft := max(s.o.Daily-s.dailyCount, 0)
	if policy != "" {
		s.limited++
	}
	s.mu.Unlock()
	if !s.o.OmitRateHeaders {
		h := w.Header()
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.o.Burst))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.o.Interval.Milliseconds(), 10))
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(s.o.Daily))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(dailyLeft))
	}
	if policy == "" {
		return true
	}
	if s.o.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.o.RetryAfter.Seconds())))
	}
	msg := tenSecondlyMessage
	if policy == PolicyDaily {
		msg = dailyMessage
	}
	body := map[string]any{"message": msg, "policyName": policy,
		"groupName": "publicapi:private_app-api-calls-ten-secondly:1:1"}
	if s.o.RateLimitCategory {
		body["category"] = "RATE_LIMITS"
	} else {
		body["errorType"] = "RATE_LIMIT"
	}
	writeErr(w, http.StatusTooManyRequests, corr, body)
	return false
}

func (s *Server) hasScope(w http.ResponseWriter, corr, scope string) bool {
	s.mu.Lock()
	ok := s.scopes[scope]
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusForbidden, corr, map[string]any{"category": "MISSING_SCOPES",
			"message": "This app hasn't been granted all required scopes to make this call.",
			"errors": []map[string]any{{"message": "One or more of the following scopes are required.",
				"context": map[string][]string{"requiredGranularScopes": {scope}}}}})
	}
	return ok
}

func validEmail(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && strings.Contains(e, "@")
}

func (s *Server) visitorToken(w http.ResponseWriter, r *http.Request, corr string, body []byte) {
	if !s.hasScope(w, corr, ScopeVisitorTokens) {
		return
	}
	s.mu.Lock()
	below := s.below
	s.mu.Unlock()
	if below {
		writeErr(w, http.StatusForbidden, corr, map[string]any{"category": "FEATURE_NOT_ENABLED",
			"message": "Visitor identification requires a Professional or Enterprise subscription."})
		return
	}
	var in struct {
		Email        string            `json:"email"`
		FirstName    string            `json:"firstName"`
		LastName     string            `json:"lastName"`
		AgentContext map[string]string `json:"hsCustomerAgentContext"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR",
			"message": "Invalid input JSON on line 1: " + err.Error()})
		return
	}
	if in.Email == "" || !validEmail(in.Email) {
		writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR",
			"message": "Invalid email: " + strconv.Quote(in.Email),
			"errors":  []map[string]any{{"message": "invalid email", "code": "INVALID_EMAIL", "in": "email"}}})
		return
	}
	now := s.clock.Now()
	tok := mintToken(in.Email, now)
	s.mu.Lock()
	s.tokens = append(s.tokens, IssuedToken{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		AgentContext: in.AgentContext, Token: tok, IssuedAt: now, Path: r.URL.Path})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// mintToken returns a JWT-shaped token, new on every call.
func mintToken(email string, now time.Time) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p, _ := json.Marshal(map[string]any{"email": email, "iat": now.Unix(), "exp": now.Add(12 * time.Hour).Unix(), "jti": newID()})
	sig := make([]byte, 32)
	_, _ = rand.Read(sig)
	return h + "." + enc.EncodeToString(p) + "." + enc.EncodeToString(sig)
}

func (s *Server) checkProps(w http.ResponseWriter, corr string, props map[string]any) (map[string]string, bool) {
	out := make(map[string]string, len(props))
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []map[string]any
	for k, v := range props {
		str, ok := v.(string)
		if !ok {
			errs = append(errs, map[string]any{"message": fmt.Sprintf("Property values must be strings: %s", k),
				"code": "INVALID_OPTION", "context": map[string][]string{"propertyName": {k}}})
			continue
		}
		if !s.props[k] {
			errs = append(errs, map[string]any{"message": fmt.Sprintf("Property \"%s\" does not exist", k),
				"code": "PROPERTY_DOESNT_EXIST", "context": map[string][]string{"propertyName": {k}}})
			continue
		}
		out[k] = str
	}
	if len(errs) > 0 {
		writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR",
			"message": "Property values were not valid", "errors": errs})
		return nil, false
	}
	return out, true
}

func (s *Server) apply(c *Contact, props map[string]string) {
	for k, v := range props {
		if v == "" {
			delete(c.Properties, k)
		} else {
			c.Properties[k] = v
		}
	}
	c.UpdatedAt = s.clock.Now().UTC()
}

func simpleObject(c *Contact) map[string]any {
	return map[string]any{"id": c.ID, "properties": c.Properties, "createdAt": c.CreatedAt.Format(time.RFC3339Nano),
		"updatedAt": c.UpdatedAt.Format(time.RFC3339Nano), "archived": false}
}

// contactInput is the properties of a contact write's body, checked (scope,
// JSON, properties); a bad one is answered and ok is false.
func (s *Server) contactInput(w http.ResponseWriter, corr string, body []byte) (map[string]string, bool) {
	if !s.hasScope(w, corr, ScopeContactsWrite) {
		return nil, false
	}
	var in struct {
		Properties map[string]any `json:"properties"`
	}
	if json.Unmarshal(body, &in) != nil {
		writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR", "message": "Invalid input JSON"})
		return nil, false
	}
	return s.checkProps(w, corr, in.Properties)
}

func (s *Server) contactPatch(w http.ResponseWriter, r *http.Request, corr, id string, body []byte) {
	props, ok := s.contactInput(w, corr, body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var c *Contact
	if r.URL.Query().Get("idProperty") == "email" {
		c = s.contacts[strings.ToLower(id)]
	} else {
		for _, x := range s.contacts {
			if x.ID == id {
				c = x
			}
		}
	}
	if c == nil {
		writeErr(w, http.StatusNotFound, corr, map[string]any{"category": "OBJECT_NOT_FOUND", "message": "resource not found"})
		return
	}
	s.apply(c, props)
	writeJSON(w, http.StatusOK, simpleObject(c))
}

func (s *Server) contactUpsert(w http.ResponseWriter, corr string, body []byte) {
	if !s.hasScope(w, corr, ScopeContactsWrite) {
		return
	}
	var in struct {
		Inputs []struct {
			IDProperty string         `json:"idProperty"`
			ID         string         `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"inputs"`
	}
	if json.Unmarshal(body, &in) != nil || len(in.Inputs) == 0 || len(in.Inputs) > 100 {
		writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR", "message": "Invalid input: 1 to 100 inputs"})
		return
	}
	type pending struct {
		email string
		props map[string]string
	}
	var all []pending
	for _, x := range in.Inputs {
		if x.IDProperty != "email" || !validEmail(x.ID) {
			writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR",
				"message": "idProperty must be email and id a valid email"})
			return
		}
		props, ok := s.checkProps(w, corr, x.Properties)
		if !ok {
			return
		}
		all = append(all, pending{x.ID, props})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	results := make([]map[string]any, 0, len(all))
	for _, p := range all {
		c := s.contactLocked(p.email)
		s.apply(c, p.props)
		results = append(results, simpleObject(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "COMPLETE", "results": results})
}

func (s *Server) contactCreate(w http.ResponseWriter, corr string, body []byte) {
	props, ok := s.contactInput(w, corr, body)
	if !ok {
		return
	}
	email := props["email"]
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.contacts[strings.ToLower(email)]; ok {
		writeErr(w, http.StatusConflict, corr, map[string]any{"category": "CONFLICT",
			"message": "Contact already exists. Existing ID: " + c.ID})
		return
	}
	c := s.contactLocked(email)
	s.apply(c, props)
	writeJSON(w, http.StatusCreated, simpleObject(c))
}

func (s *Server) propertyCreate(w http.ResponseWriter, corr string, body []byte) {
	if !s.hasScope(w, corr, ScopeSchemasWrite) {
		return
	}
	var in map[string]string
	if json.Unmarshal(body, &in) != nil {
		writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR", "message": "Invalid input JSON"})
		return
	}
	for _, k := range []string{"name", "label", "type", "fieldType", "groupName"} {
		if in[k] == "" {
			writeErr(w, http.StatusBadRequest, corr, map[string]any{"category": "VALIDATION_ERROR",
				"message": "Property definition is missing " + k,
				"errors":  []map[string]any{{"message": k + " is required", "code": "REQUIRED_FIELD", "in": k}}})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.props[in["name"]] {
		writeErr(w, http.StatusConflict, corr, map[string]any{"category": "OBJECT_ALREADY_EXISTS",
			"message": fmt.Sprintf("A property named '%s' already exists.", in["name"])})
		return
	}
	s.props[in["name"]] = true
	writeJSON(w, http.StatusCreated, in)
}

func writeErr(w http.ResponseWriter, status int, corr string, fields map[string]any) {
	fields["status"] = "error"
	fields["correlationId"] = corr
	writeJSON(w, status, fields)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
