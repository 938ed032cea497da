package config

import (
	"fmt"
	"log/slog"
)

// Redacted is what every printed form of a set Secret shows.
const Redacted = "[redacted]"

// Secret holds a credential. Every way of printing it (fmt verbs, JSON, text,
// slog, zap's reflection) shows Redacted; only Value returns the secret.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Value returns the secret itself. Pass it to the client that needs it;
// never to a logger.
func (s Secret) Value() string { return s.v }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s.v != "" }

// String returns Redacted, or "" for an empty secret.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return Redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "config.Secret(" + fmt.Sprintf("%q", s.String()) + ")" }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x, ...) print the
// redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			_, _ = fmt.Fprint(f, s.GoString())
			return
		}
		_, _ = fmt.Fprint(f, s.String())
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = fmt.Fprint(f, s.String())
	}
}

// MarshalText returns the redacted form (encoding/json and zap use it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue returns the redacted form for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Secrets is a list of secrets, e.g. webhook secrets during a rotation.
type Secrets []Secret

// Values returns the secrets themselves.
func (ss Secrets) Values() []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.v
	}
	return out
}

// String returns a redacted count, e.g. "[redacted] x2".
func (ss Secrets) String() string {
	if len(ss) == 0 {
		return ""
	}
	return fmt.Sprintf("%s x%d", Redacted, len(ss))
}
