package tree_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

func TestCanonicalID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"900000047", "900000047", true},
		{"0900000047", "900000047", true},
		{"000000000900000047", "900000047", true},
		{"0", "0", true},
		{"000", "0", true},
		{"9223372036854775807", "9223372036854775807", true},
		{"00009223372036854775807", "9223372036854775807", true},
		{"12345678901234567890", "12345678901234567890", false},
		{"", "", false},
		{"+12", "+12", false},
		{"-12", "-12", false},
		{" 12", " 12", false},
		{"12a", "12a", false},
		{"１２", "１２", false}, // full-width digits are not digits here
	} {
		got, ok := tree.CanonicalID(tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
	}
}

func FuzzCanonicalID(f *testing.F) {
	for _, s := range []string{"0", "0900000047", "", "x", "00", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := tree.CanonicalID(in)
		if !ok {
			if got != in {
				t.Fatalf("CanonicalID(%q) changed a refused id to %q", in, got)
			}
			return
		}
		again, ok2 := tree.CanonicalID(got)
		if !ok2 || again != got {
			t.Fatalf("not idempotent: %q → %q → %q", in, got, again)
		}
		if len(got) > 1 && got[0] == '0' {
			t.Fatalf("CanonicalID(%q) = %q keeps a leading zero", in, got)
		}
	})
}
