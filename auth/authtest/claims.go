package authtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
)

// User is whom a minted token is about.
type User struct {
	// Subject is the pool's "sub" (default: derived from the provider subject
	// or the email, stable for the same input).
	Subject string
	// Provider is "Google", "SignInWithApple" or "" for a native pool user.
	Provider string
	// ProviderSubject is the identity provider's own "sub" (default derived).
	ProviderSubject string
	Email           string
	EmailVerified   bool
	Name            string
	Groups          []string
	// Extra claims, merged last (e.g. "custom:tier").
	Extra map[string]any
}

func (u User) subject() string {
	if u.Subject != "" {
		return u.Subject
	}
	sum := sha256.Sum256([]byte(u.Provider + "|" + u.ProviderSubject + "|" + u.Email))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (u User) providerSubject() string {
	if u.ProviderSubject != "" {
		return u.ProviderSubject
	}
	sum := sha256.Sum256([]byte("idp|" + u.subject()))
	n := new([8]byte)
	copy(n[:], sum[:8])
	v := uint64(0)
	for _, b := range n {
		v = v<<8 | uint64(b)
	}
	if u.Provider == "SignInWithApple" {
		return fmt.Sprintf("000%03d.%s.%04d", v%1000, hex.EncodeToString(sum[8:24]), v%10000)
	}
	return "1" + strconv.FormatUint(v%1e18, 10) + "00"
}

func (u User) username() string {
	if u.Provider == "" {
		return u.subject()
	}
	return u.Provider + "_" + u.providerSubject()
}

func jti() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// groups returns the user's groups plus Cognito's automatic federated group.
func (is *Issuer) groups(u User) []string {
	g := append([]string(nil), u.Groups...)
	if u.Provider != "" {
		g = append(g, is.opts.PoolID+"_"+u.Provider)
	}
	return g
}

// IDClaims returns Cognito-shaped ID token claims for the user, valid from now
// for the token TTL. Change the map to make negative fixtures, then Sign it.
func (is *Issuer) IDClaims(u User) map[string]any {
	now := is.opts.Now()
	origin := jti()
	c := map[string]any{
		"sub":              u.subject(),
		"aud":              is.opts.ClientID,
		"iss":              is.URL(),
		"token_use":        "id",
		"cognito:username": u.username(),
		"cognito:groups":   is.groups(u),
		"auth_time":        now.Unix(),
		"iat":              now.Unix(),
		"exp":              now.Add(is.opts.TokenTTL).Unix(),
		"jti":              jti(),
		"origin_jti":       origin,
		"event_id":         jti(),
	}
	if u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	if u.Provider != "" {
		c["identities"] = []map[string]any{{
			"userId": u.providerSubject(), "providerName": u.Provider, "providerType": u.Provider,
			"issuer": nil, "primary": "true", "dateCreated": strconv.FormatInt(now.Add(-24*3600e9).UnixMilli(), 10),
		}}
	}
	maps.Copy(c, u.Extra)
	return c
}

// AccessClaims returns Cognito-shaped access token claims: no "aud", the
// client in "client_id".
func (is *Issuer) AccessClaims(u User) map[string]any {
	now := is.opts.Now()
	c := map[string]any{
		"sub":            u.subject(),
		"iss":            is.URL(),
		"token_use":      "access",
		"client_id":      is.opts.ClientID,
		"username":       u.username(),
		"cognito:groups": is.groups(u),
		"scope":          "openid email profile",
		"auth_time":      now.Unix(),
		"iat":            now.Unix(),
		"exp":            now.Add(is.opts.TokenTTL).Unix(),
		"jti":            jti(),
		"origin_jti":     jti(),
		"event_id":       jti(),
		"version":        2,
	}
	maps.Copy(c, u.Extra)
	return c
}

// IDToken mints a signed Cognito ID token.
func (is *Issuer) IDToken(u User) string { return is.Sign(is.IDClaims(u)) }

// AccessToken mints a signed Cognito access token.
func (is *Issuer) AccessToken(u User) string { return is.Sign(is.AccessClaims(u)) }

// GoogleClaims returns claims shaped like a Google ID token for the audience
// (iss "https://accounts.google.com"; set "iss" to "accounts.google.com" to
// test the schemeless form). Sign them with this Issuer's keys and point a
// Google issuer's JWKSURL here.
func (is *Issuer) GoogleClaims(u User, aud string) map[string]any {
	now := is.opts.Now()
	c := map[string]any{
		"iss": "https://accounts.google.com", "azp": aud, "aud": aud, "sub": u.providerSubject(),
		"email": u.Email, "email_verified": u.EmailVerified, "name": u.Name,
		"iat": now.Unix(), "exp": now.Add(is.opts.TokenTTL).Unix(), "jti": jti(),
	}
	maps.Copy(c, u.Extra)
	return c
}

// AppleClaims returns claims shaped like a Sign in with Apple ID token:
// string booleans, a private-relay style email if none is given, no name.
func (is *Issuer) AppleClaims(u User, aud string) map[string]any {
	now := is.opts.Now()
	email := u.Email
	private := "false"
	if email == "" {
		email = u.providerSubject()[:6] + "@privaterelay.appleid.com"
		private = "true"
	}
	u.Provider = "SignInWithApple"
	c := map[string]any{
		"iss": "https://appleid.apple.com", "aud": aud, "sub": u.providerSubject(),
		"email": email, "email_verified": strconv.FormatBool(u.EmailVerified || u.Email == ""), "is_private_email": private,
		"real_user_status": 2, "nonce_supported": true, "auth_time": now.Unix(),
		"iat": now.Unix(), "exp": now.Add(10 * 60e9).Unix(),
	}
	maps.Copy(c, u.Extra)
	return c
}
