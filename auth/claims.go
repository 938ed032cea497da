package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TokenUse is what a token is for: Cognito issues ID tokens and access tokens;
// Google and Apple issue ID tokens.
type TokenUse string

// Token uses.
const (
	UseID     TokenUse = "id"
	UseAccess TokenUse = "access"
)

// Provider names, as Cognito names the built-in social identity providers.
const (
	ProviderGoogle  = "Google"
	ProviderApple   = "SignInWithApple"
	ProviderCognito = "Cognito" // a user of the pool itself
)

// knownProviders are the prefixes of cognito:username that name a federated
// provider ("Google_1182…", "SignInWithApple_0003…").
var knownProviders = []string{ProviderGoogle, ProviderApple, "Facebook", "LoginWithAmazon"}

// Token is a verified token: who it names and what it says. Verify returns
// the same Token to every caller of one raw token while it is cached: treat
// it as read-only.
type Token struct {
	// Identity is the external identity: Issuer and Subject identify it;
	// Provider, Email and EmailVerified come from the claims. UserID is empty.
	Identity Identity
	Kind     IssuerKind
	Use      TokenUse
	ClientID string   // the audience or client_id that matched the configuration
	Groups   []string // cognito:groups, as issued
	Username string   // cognito:username (ID token) or username (access token)
	Name     string   // name claim, if any (Apple never sends one)
	ID       string   // jti
	// Session identifies the sign-in the token belongs to: origin_jti (Cognito
	// keeps it across refreshes), else auth_time, else jti, else iat.
	Session  string
	IssuedAt time.Time
	Expiry   time.Time
	AuthTime time.Time

	payload []byte // the claims' JSON, checked to decode when verified
}

// Claims decodes every claim of the token (numbers as json.Number). The
// verifier keeps only the claims' JSON, so each call decodes it afresh: a
// cached token costs a few hundred bytes instead of a map of every claim.
func (t *Token) Claims() map[string]any {
	all, _ := decodeClaims(t.payload) // decoded once already when verified
	return all
}

func decodeClaims(payload []byte) (map[string]any, error) {
	all := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		return nil, err
	}
	return all, nil
}

// claims are the registered and provider claims the verifier reads. Lenient
// types absorb the providers' quirks (Apple's string booleans, Cognito's
// string "primary").
type claims struct {
	Issuer          string       `json:"iss"`
	Subject         string       `json:"sub"`
	Audience        audience     `json:"aud"`
	Expiry          *numericDate `json:"exp"`
	NotBefore       *numericDate `json:"nbf"`
	IssuedAt        *numericDate `json:"iat"`
	AuthTime        *numericDate `json:"auth_time"`
	ID              string       `json:"jti"`
	OriginJTI       string       `json:"origin_jti"`
	TokenUse        string       `json:"token_use"`
	ClientID        string       `json:"client_id"`
	Email           string       `json:"email"`
	EmailVerified   flexBool     `json:"email_verified"`
	Name            string       `json:"name"`
	CognitoUsername string       `json:"cognito:username"`
	Username        string       `json:"username"`
	Groups          []string     `json:"cognito:groups"`
	Identities      []struct {
		ProviderName string   `json:"providerName"`
		UserID       string   `json:"userId"`
		Primary      flexBool `json:"primary"`
	} `json:"identities"`
}

// audience is "aud": a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud: want a string or an array of strings")
	}
	*a = many
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly
// fractional.
type numericDate struct{ time.Time }

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a number of seconds: %w", err)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return fmt.Errorf("bad numeric date %s", n)
	}
	sec := int64(f)
	d.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

// flexBool is a boolean that Apple and Cognito sometimes send as "true"/"false".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil {
			return fmt.Errorf("want a boolean, got %q", s)
		}
		*f = flexBool(v)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*f = false
		return nil
	}
	var v bool
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("want a boolean: %w", err)
	}
	*f = flexBool(v)
	return nil
}

// provider says which identity provider a Cognito user signed in with: the
// primary entry of "identities", else the prefix of the username, else the
// pool itself.
func (c *claims) provider() string {
	for _, id := range c.Identities {
		if bool(id.Primary) && id.ProviderName != "" {
			return id.ProviderName
		}
	}
	if len(c.Identities) > 0 && c.Identities[0].ProviderName != "" {
		return c.Identities[0].ProviderName
	}
	name := c.CognitoUsername
	if name == "" {
		name = c.Username
	}
	if prefix, _, ok := strings.Cut(name, "_"); ok {
		for _, p := range knownProviders {
			if strings.EqualFold(prefix, p) {
				return p
			}
		}
	}
	return ProviderCognito
}

// session is the sign-in a token belongs to.
func (c *claims) session() string {
	switch {
	case c.OriginJTI != "":
		return "o:" + c.OriginJTI
	case c.AuthTime != nil:
		return "a:" + strconv.FormatInt(c.AuthTime.Unix(), 10)
	case c.ID != "":
		return "j:" + c.ID
	case c.IssuedAt != nil:
		return "i:" + strconv.FormatInt(c.IssuedAt.Unix(), 10)
	}
	return ""
}

func timeOf(d *numericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}
