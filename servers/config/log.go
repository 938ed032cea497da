package config

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"

	"go.uber.org/zap/zapcore"
)

// fields returns (key, printable value) for every registered setting;
// secrets are redacted and URLs lose their password.
func (c Config) fields() [][2]string {
	var out [][2]string
	for _, st := range settings {
		if !c.Has(st.section) {
			continue
		}
		out = append(out, [2]string{strings.ReplaceAll(st.name, "-", "_"), st.display(&c)})
	}
	return out
}

// String prints the settings as key=value pairs, secrets redacted.
func (c Config) String() string {
	var b strings.Builder
	for i, f := range c.fields() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f[0])
		b.WriteByte('=')
		b.WriteString(f[1])
	}
	return b.String()
}

// GoString keeps %#v from printing unexported internals and secrets.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

// MarshalLogObject logs the settings with zap.Object("config", cfg),
// secrets redacted.
func (c Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, f := range c.fields() {
		enc.AddString(f[0], f[1])
	}
	return nil
}

// LogValue logs the settings with log/slog, secrets redacted.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, f := range c.fields() {
		attrs = append(attrs, slog.String(f[0], f[1]))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the printable settings (secrets redacted), so that a
// Config put into a JSON document, or handed to zap.Any, never leaks.
func (c Config) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range c.fields() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteJSON(f[0]))
		b.WriteByte(':')
		b.WriteString(quoteJSON(f[1]))
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func quoteJSON(s string) string {
	b, _ := jsonMarshal(s)
	return string(b)
}

var jsonMarshal = json.Marshal

// String prints the URL with its password hidden.
func (p Postgres) String() string { return redactURL(p.URL) }

// GoString prints the URL with its password hidden.
func (p Postgres) GoString() string { return "config.Postgres{URL:" + strconv.Quote(p.String()) + "}" }

// MarshalJSON writes the URL with its password hidden.
func (p Postgres) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"url": p.String()})
}

// LogValue logs the URL with its password hidden.
func (p Postgres) LogValue() slog.Value { return slog.StringValue(p.String()) }

// String prints the URL with its password hidden.
func (r Redis) String() string { return redactURL(r.URL) }

// GoString prints the URL with its password hidden.
func (r Redis) GoString() string { return "config.Redis{URL:" + strconv.Quote(r.String()) + "}" }

// MarshalJSON writes the URL with its password hidden.
func (r Redis) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"url": r.String()})
}

// LogValue logs the URL with its password hidden.
func (r Redis) LogValue() slog.Value { return slog.StringValue(r.String()) }
