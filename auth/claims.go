package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
	all, _ := decodeClaims(t.payload) // parseClaims checked it when verified
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

// claims are the registered and provider claims the verifier reads, decoded
// by parseClaims. Lenient types absorb the providers' quirks (Apple's string
// booleans, Cognito's string "primary"); nothing else is lenient.
type claims struct {
	Issuer          string
	Subject         string
	Audience        audience
	Expiry          *numericDate
	NotBefore       *numericDate
	IssuedAt        *numericDate
	AuthTime        *numericDate
	ID              string
	OriginJTI       string
	TokenUse        string
	ClientID        string
	Email           string
	EmailVerified   flexBool
	Name            string
	CognitoUsername string
	Username        string
	Groups          []string
	Identities      []identityClaim
}

type identityClaim struct {
	ProviderName string
	UserID       string
	Primary      flexBool
}

// maxSubject bounds "sub": OpenID Connect Core §2 says it "MUST NOT exceed
// 255 ASCII characters".
const maxSubject = 255

// parseClaims decodes a token's claims strictly, unlike encoding/json's
// struct decoding: names match exactly ("COGNITO:GROUPS" is not
// "cognito:groups" and grants nothing), a name given twice is refused (a
// verifier reading the first and another the last would disagree), values
// have their registered types ("exp" as a string is refused), and strings
// hold no NUL (nothing downstream can store one). A null is an absent claim.
func parseClaims(payload []byte) (claims, error) {
	var c claims
	err := eachField(payload, func(name string, raw json.RawMessage) error {
		switch name {
		case "iss":
			return decodeString(raw, &c.Issuer)
		case "sub":
			if err := decodeString(raw, &c.Subject); err != nil {
				return err
			}
			if len(c.Subject) > maxSubject {
				return fmt.Errorf("longer than %d bytes", maxSubject)
			}
			return nil
		case "aud":
			return c.Audience.UnmarshalJSON(raw)
		case "exp":
			return decodeDate(raw, &c.Expiry)
		case "nbf":
			return decodeDate(raw, &c.NotBefore)
		case "iat":
			return decodeDate(raw, &c.IssuedAt)
		case "auth_time":
			return decodeDate(raw, &c.AuthTime)
		case "jti":
			return decodeString(raw, &c.ID)
		case "origin_jti":
			return decodeString(raw, &c.OriginJTI)
		case "token_use":
			return decodeString(raw, &c.TokenUse)
		case "client_id":
			return decodeString(raw, &c.ClientID)
		case "email":
			return decodeString(raw, &c.Email)
		case "email_verified":
			return c.EmailVerified.UnmarshalJSON(raw)
		case "name":
			return decodeString(raw, &c.Name)
		case "cognito:username":
			return decodeString(raw, &c.CognitoUsername)
		case "username":
			return decodeString(raw, &c.Username)
		case "cognito:groups":
			return decodeStrings(raw, &c.Groups)
		case "identities":
			return decodeIdentities(raw, &c.Identities)
		}
		return nil
	})
	return c, err
}

// eachField calls fn with each member of the JSON object in b, in order,
// refusing anything else, duplicate names and trailing data.
func eachField(b []byte, fn func(name string, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("want a JSON object")
	}
	seen := make(map[string]struct{}, 24)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		if _, dup := seen[name]; dup {
			return fmt.Errorf("%q given twice", name)
		}
		seen[name] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := fn(name, raw); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON object")
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func decodeString(raw json.RawMessage, dst *string) error {
	if isNull(raw) {
		return nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return fmt.Errorf("want a string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("NUL in a string")
	}
	*dst = s
	return nil
}

func decodeStrings(raw json.RawMessage, dst *[]string) error {
	if isNull(raw) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("want an array of strings")
	}
	out := make([]string, len(items))
	for i, it := range items {
		if err := decodeString(it, &out[i]); err != nil || isNull(it) {
			return fmt.Errorf("want an array of strings")
		}
	}
	*dst = out
	return nil
}

func decodeDate(raw json.RawMessage, dst **numericDate) error {
	if isNull(raw) {
		return nil
	}
	d := &numericDate{}
	if err := d.UnmarshalJSON(raw); err != nil {
		return err
	}
	*dst = d
	return nil
}

func decodeIdentities(raw json.RawMessage, dst *[]identityClaim) error {
	if isNull(raw) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("want an array of objects")
	}
	out := make([]identityClaim, len(items))
	for i, it := range items {
		id := &out[i]
		err := eachField(it, func(name string, raw json.RawMessage) error {
			switch name {
			case "providerName":
				return decodeString(raw, &id.ProviderName)
			case "userId":
				return decodeString(raw, &id.UserID)
			case "primary":
				return id.Primary.UnmarshalJSON(raw)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	*dst = out
	return nil
}

// audience is "aud": a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := decodeString(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := decodeStrings(b, &many); err != nil {
		return fmt.Errorf("want a string or an array of strings")
	}
	*a = many
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly
// fractional; a JSON number, never a string.
type numericDate struct{ time.Time }

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return fmt.Errorf("want a number of seconds")
	}
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
	switch {
	case isNull(b):
		*f = false
		return nil
	case len(b) > 0 && b[0] == '"':
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
