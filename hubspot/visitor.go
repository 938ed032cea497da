package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"
)

// TokenLifetime is how long HubSpot honours a visitor identification token:
// it must be refreshed at least every 12 hours.
const TokenLifetime = 12 * time.Hour

// VisitorTokenPath is the long-standing documented path of the Visitor
// Identification API (the same operation is also served under
// /visitor-identification/v3 and the date-versioned paths).
const VisitorTokenPath = "/conversations/v3/visitor-identification/tokens/create"

// VisitorRequest asks for an identification token for one chat visitor.
type VisitorRequest struct {
	// Email is required: the contact the chat is attached to.
	Email string
	// FirstName and LastName are optional; HubSpot sets them only on new
	// contacts or where the name is unknown.
	FirstName, LastName string
	// AgentContext is sent as hsCustomerAgentContext (string values only):
	// context for HubSpot's customer agent. Optional.
	AgentContext map[string]string
}

// VisitorToken is an identification token for the chat widget: pass Email
// and Token as hsConversationsSettings.identificationEmail and
// identificationToken. The token is opaque and new on every call.
type VisitorToken struct {
	Email     string
	Token     string
	IssuedAt  time.Time
	ExpiresAt time.Time // IssuedAt + TokenLifetime
}

type visitorBody struct {
	Email        string            `json:"email"`
	FirstName    string            `json:"firstName,omitempty"`
	LastName     string            `json:"lastName,omitempty"`
	AgentContext map[string]string `json:"hsCustomerAgentContext,omitempty"`
}

// ValidEmail reports whether s is a bare email address HubSpot can take.
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " <>\t\r\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// CreateVisitorToken mints an identification token (POST
// VisitorTokenPath). It needs the conversations.visitor_identification.
// tokens.create scope and a Professional or Enterprise hub; otherwise the
// answer is 403 (ErrForbidden). An invalid email fails with
// ErrInvalidArgument before anything is sent.
func (c *Client) CreateVisitorToken(ctx context.Context, r VisitorRequest) (*VisitorToken, error) {
	email := strings.TrimSpace(r.Email)
	if !ValidEmail(email) {
		return nil, fmt.Errorf("%w: email %q", ErrInvalidArgument, r.Email)
	}
	issued := c.clock.Now()
	var out struct {
		Token string `json:"token"`
	}
	body := visitorBody{Email: email, FirstName: r.FirstName, LastName: r.LastName, AgentContext: r.AgentContext}
	if err := c.do(ctx, http.MethodPost, VisitorTokenPath, nil, body, &out); err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, &APIError{StatusCode: http.StatusOK, Method: http.MethodPost, Path: VisitorTokenPath, NonJSON: true, Message: "answer without a token"}
	}
	return &VisitorToken{Email: email, Token: out.Token, IssuedAt: issued, ExpiresAt: issued.Add(TokenLifetime)}, nil
}
