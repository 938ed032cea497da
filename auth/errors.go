package auth

import (
	"errors"
	"fmt"
)

// Token errors. Every rejection of a token wraps ErrInvalidToken and one of the
// specific reasons below, so callers can test either:
//
//	errors.Is(err, auth.ErrInvalidToken) // reject with 401
//	errors.Is(err, auth.ErrExpired)      // say why
var (
	ErrNoToken        = errors.New("auth: no bearer token")
	ErrInvalidToken   = errors.New("auth: invalid token")
	ErrMalformed      = errors.New("malformed token")
	ErrUnsupportedAlg = errors.New("unsupported signing algorithm")
	ErrUnknownKey     = errors.New("unknown signing key")
	ErrBadSignature   = errors.New("bad signature")
	ErrExpired        = errors.New("token expired")
	ErrNotYetValid    = errors.New("token not yet valid")
	ErrWrongIssuer    = errors.New("untrusted issuer")
	ErrWrongAudience  = errors.New("wrong audience")
	ErrWrongTokenUse  = errors.New("wrong token use")
	// ErrLifetime: exp is further after iat than VerifierOptions.MaxTokenLifetime.
	ErrLifetime = errors.New("token lifetime too long")
)

// Errors that are not about the token itself.
var (
	// ErrKeysUnavailable: the issuer's keys could not be fetched, so a token
	// signed with a key not yet cached cannot be checked (try again later).
	ErrKeysUnavailable = errors.New("auth: signing keys unavailable")
	// ErrUserDisabled: the token is valid but an admin disabled the user.
	ErrUserDisabled = errors.New("auth: user disabled")
	// ErrUnavailable: the user store or the auditor failed; nothing was decided.
	ErrUnavailable = errors.New("auth: unavailable")
)

// tokenError builds an error wrapping ErrInvalidToken and the reason.
func tokenError(reason error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidToken, reason, fmt.Sprintf(format, args...))
}

// reasonOf returns the specific reason of a token error, for WWW-Authenticate.
func reasonOf(err error) error {
	for _, r := range []error{ErrMalformed, ErrUnsupportedAlg, ErrUnknownKey, ErrBadSignature, ErrExpired,
		ErrNotYetValid, ErrWrongIssuer, ErrWrongAudience, ErrWrongTokenUse, ErrLifetime} {
		if errors.Is(err, r) {
			return r
		}
	}
	return ErrInvalidToken
}
