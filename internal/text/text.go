// Package text holds the few string rules that several packages apply to
// text they do not control (titles, error messages, audit details, search
// input): whether it is printable, and how it is cut to a byte budget
// without splitting a character. It is a leaf: any package may import it.
package text

import (
	"strings"
	"unicode/utf8"
)

// Printable reports whether s is valid UTF-8 without control characters
// (below U+0020, or DEL) and at most max bytes long.
func Printable(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Cut makes s valid UTF-8 (each invalid sequence becomes U+FFFD) and cuts it
// to at most n bytes on a character boundary: the longest such prefix.
func Cut(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Clip shortens s to its first 80 bytes and an ellipsis, for quoting input
// in an error message.
func Clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
