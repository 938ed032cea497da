package auth

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// IssuerKind says how an issuer's tokens are read.
type IssuerKind string

// Issuer kinds.
const (
	// Cognito: a user pool. ID tokens carry the app client id in "aud" and
	// token_use "id"; access tokens carry no "aud" but "client_id" and
	// token_use "access". Both are accepted unless TokenUses says otherwise.
	Cognito IssuerKind = "cognito"
	// Google: Google's ID tokens directly ("iss" may lack the scheme).
	Google IssuerKind = "google"
	// Apple: Sign in with Apple ID tokens directly ("aud" is the Services ID on
	// the web and the bundle ID in the iOS app: list both in ClientIDs).
	Apple IssuerKind = "apple"
)

// Well-known issuers and key sets.
const (
	GoogleIssuerURL = "https://accounts.google.com"
	GoogleJWKSURL   = "https://www.googleapis.com/oauth2/v3/certs"
	AppleIssuerURL  = "https://appleid.apple.com"
	AppleJWKSURL    = "https://appleid.apple.com/auth/keys"
)

// Issuer is one trusted token issuer.
type Issuer struct {
	Kind IssuerKind
	// URL is the exact "iss" value: no trailing slash.
	URL string
	// ClientIDs are the accepted audiences: Cognito app client ids (matched
	// against "aud" of ID tokens and "client_id" of access tokens), Google
	// OAuth client ids, Apple Services ID and bundle ID. At least one.
	ClientIDs []string
	// JWKSURL is where the keys are; empty means discovery
	// (URL + "/.well-known/openid-configuration" → jwks_uri).
	JWKSURL string
	// TokenUses limits which Cognito tokens are accepted (default: both).
	TokenUses []TokenUse
}

// CognitoIssuer is the issuer of a Cognito user pool, e.g.
// CognitoIssuer("eu-west-1", "eu-west-1_AbC123", "<app client id>").
func CognitoIssuer(region, userPoolID string, clientIDs ...string) Issuer {
	u := "https://cognito-idp." + region + ".amazonaws.com/" + userPoolID
	return Issuer{Kind: Cognito, URL: u, ClientIDs: clientIDs, JWKSURL: u + "/.well-known/jwks.json"}
}

// GoogleIssuer accepts Google ID tokens issued to one of the client ids.
func GoogleIssuer(clientIDs ...string) Issuer {
	return Issuer{Kind: Google, URL: GoogleIssuerURL, ClientIDs: clientIDs, JWKSURL: GoogleJWKSURL}
}

// AppleIssuer accepts Sign in with Apple ID tokens for the Services ID and/or
// bundle ID given.
func AppleIssuer(audiences ...string) Issuer {
	return Issuer{Kind: Apple, URL: AppleIssuerURL, ClientIDs: audiences, JWKSURL: AppleJWKSURL}
}

func (is Issuer) validate() error {
	switch is.Kind {
	case Cognito, Google, Apple:
	default:
		return fmt.Errorf("%w: issuer %q: unknown kind %q", ErrInvalid, is.URL, is.Kind)
	}
	u, err := url.Parse(is.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.HasSuffix(is.URL, "/") {
		return fmt.Errorf("%w: issuer URL %q: want an absolute http(s) URL without a trailing slash", ErrInvalid, is.URL)
	}
	if len(is.ClientIDs) == 0 || slices.Contains(is.ClientIDs, "") {
		return fmt.Errorf("%w: issuer %q: no client ids (audiences)", ErrInvalid, is.URL)
	}
	if is.JWKSURL != "" {
		if j, err := url.Parse(is.JWKSURL); err != nil || (j.Scheme != "https" && j.Scheme != "http") || j.Host == "" {
			return fmt.Errorf("%w: issuer %q: bad JWKS URL %q", ErrInvalid, is.URL, is.JWKSURL)
		}
	}
	for _, use := range is.TokenUses {
		if is.Kind != Cognito || (use != UseID && use != UseAccess) {
			return fmt.Errorf("%w: issuer %q: token use %q", ErrInvalid, is.URL, use)
		}
	}
	return nil
}

func (is Issuer) accepts(use TokenUse) bool {
	return len(is.TokenUses) == 0 || slices.Contains(is.TokenUses, use)
}
