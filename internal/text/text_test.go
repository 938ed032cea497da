package text_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/text"
)

func TestPrintable(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want bool
	}{
		{"", 0, true},
		{"Épisode 1 — 研修", 64, true},
		{"abc", 2, false},
		{"a\tb", 10, false},
		{"a\x7fb", 10, false},
		{"a\x00b", 10, false},
		{"a\xffb", 10, false},
	} {
		require.Equal(t, tc.want, text.Printable(tc.s, tc.max), "%q max %d", tc.s, tc.max)
	}
}

func TestCut(t *testing.T) {
	require.Equal(t, "abc", text.Cut("abc", 5))
	require.Equal(t, "ab", text.Cut("abc", 2))
	require.Equal(t, "a", text.Cut("aé", 2), "é is two bytes: not split")
	require.Equal(t, "aé", text.Cut("aé", 3))
	require.Equal(t, "a\uFFFDb", text.Cut("a\xffb", 10), "invalid bytes replaced")
	require.Equal(t, "", text.Cut("研", 2))

	// Against an oracle that adds whole characters while they fit.
	alphabet := []string{"a", "é", "研", "😀", "\xff", "\xe7\xa0"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s, n := b.String(), r.IntN(20)
		want := ""
		for _, c := range strings.ToValidUTF8(s, "\uFFFD") {
			if len(want)+utf8.RuneLen(c) > n {
				break
			}
			want += string(c)
		}
		require.Equal(t, want, text.Cut(s, n), "%q to %d bytes", s, n)
	}
}

func TestClip(t *testing.T) {
	require.Equal(t, "short", text.Clip("short"))
	long := strings.Repeat("x", 100)
	require.Equal(t, strings.Repeat("x", 80)+"…", text.Clip(long))
}
