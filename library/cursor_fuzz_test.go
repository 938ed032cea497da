package library

import (
	"encoding/base64"
	"errors"
	"testing"
)

// FuzzDecodeCursor: a cursor decodes only if it is exactly what encode
// writes for what it decodes to; anything else is ErrInvalid, never a panic.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []cursor{{offset: 1, last: "f1"}, {offset: 50, last: "v900000047"}, {offset: 1 << 30, last: "v12345678901234567890"}} {
		f.Add(c.encode())
	}
	for _, raw := range []string{"1|+5|v12", "1|05|v12", "1|5|v012", "1|5|x12", "2|5|v1", "1|5|v1|"} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(raw)))
	}
	f.Add("")
	f.Add("MXw1fHYx=")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		switch {
		case err != nil:
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("decodeCursor(%q) = %v, want ErrInvalid", s, err)
			}
		case s == "":
			if c != (cursor{}) {
				t.Fatalf("empty cursor decoded to %+v", c)
			}
		case c.encode() != s:
			t.Fatalf("decodeCursor(%q) = %+v, which encodes as %q", s, c, c.encode())
		}
	})
}
