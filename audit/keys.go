package audit

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// ParseSigningKey reads a checkpoint signing key: the standard base64 of an
// Ed25519 seed (32 bytes) or private key (64 bytes).
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: signing key: not base64", ErrInvalid)
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		k := ed25519.PrivateKey(b)
		if !ed25519.NewKeyFromSeed(k.Seed()).Equal(k) {
			return nil, fmt.Errorf("%w: signing key: the public half does not match", ErrInvalid)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: signing key: %d bytes, want an Ed25519 seed (32) or private key (64)", ErrInvalid, len(b))
}

// ParsePublicKey reads the standard base64 of an Ed25519 public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key: want the base64 of 32 bytes", ErrInvalid)
	}
	return ed25519.PublicKey(b), nil
}

// KeyID names a public key in checkpoints: the first 8 bytes of it, hex.
func KeyID(pub ed25519.PublicKey) string { return fmt.Sprintf("ed25519:%x", []byte(pub)[:8]) }
