package config

import (
	"flag"
	"io"
	"testing"
)

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// FuzzSettingValue: any value of any setting, from the environment, is
// either refused or accepted without a panic; an accepted value (not a
// secret: those print redacted) prints in a form that reads back to the
// same value.
func FuzzSettingValue(f *testing.F) {
	for i, v := range []string{"30s", "0.1", "a,b", "x=y,z=w", "true", "debug", "postgres://u:p@h/db", "-1", "1e309", "\x00", ":8080"} {
		f.Add(uint16(i), v)
	}
	f.Fuzz(func(t *testing.T, pick uint16, value string) {
		st := settings[int(pick)%len(settings)]
		getenv := func(k string) (string, bool) {
			if k == st.env() {
				return value, true
			}
			return "", false
		}
		c := Default()
		if err := st.set(c, value); err != nil {
			l := Register(newFlagSet(), ForAll...)
			_, lerr := l.Load(getenv)
			if lerr == nil {
				t.Fatalf("%s=%q: set refused it (%v) but Load accepted it", st.name, value, err)
			}
			return
		}
		if st.secret {
			return // printed redacted, by design
		}
		printed := st.get(c)
		again := Default()
		if err := st.set(again, printed); err != nil {
			t.Fatalf("%s=%q prints as %q, which does not read back: %v", st.name, value, printed, err)
		}
		if st.get(again) != printed {
			t.Fatalf("%s=%q prints as %q, then as %q", st.name, value, printed, st.get(again))
		}
	})
}
