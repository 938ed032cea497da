package library

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Search text is compared folded: lower case, accents removed and
// compatibility forms decomposed (NFKD without combining marks), so that
// "episode" finds "Épisode" and "ﬁlm" finds "film". Text is cut into words
// (runs of letters and digits) and, for scripts written without spaces (Han,
// Hiragana, Katakana, Hangul), into runs of those characters, which are
// matched by substring instead of by word.

// foldCache holds the folding of each non-ASCII rune met so far.
var foldCache sync.Map // rune → string

// special folds that NFKD does not decompose.
var foldSpecial = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o",
	'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d", 'þ': "th", 'Þ': "th",
	'ı': "i", 'ς': "σ",
}

// appendFolded appends r folded for search.
func appendFolded(b []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(b, byte(r))
	}
	if s, ok := foldCache.Load(r); ok {
		return append(b, s.(string)...)
	}
	s, ok := foldSpecial[r]
	if !ok {
		var out []byte
		for _, d := range norm.NFKD.String(string(r)) {
			if unicode.Is(unicode.Mn, d) {
				continue
			}
			if f, ok := foldSpecial[d]; ok {
				out = append(out, f...)
				continue
			}
			out = utf8.AppendRune(out, unicode.ToLower(d))
		}
		s = string(out)
	}
	foldCache.Store(r, s)
	return append(b, s...)
}

// isSpaceless reports whether r belongs to a script written without spaces
// between words, matched by substring.
func isSpaceless(r rune) bool {
	if r < 0x1100 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r == 'ー' || r == '々' // the prolonged sound mark and the iteration mark
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// token is a word or a run of spaceless script in a text: text is the
// folded word (for a run, the run as written: those scripts have no case or
// accents to fold), start and end its byte range in the original text.
type token struct {
	text       []byte // reused between calls of the tokenize callback: copy to keep
	start, end int
	run        bool // a run of spaceless script
}

// tokenize calls fn with each token of s in order. buf is scratch space;
// the grown buffer is returned for reuse.
func tokenize(s string, buf []byte, fn func(t token)) []byte {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isSpaceless(r):
			j := i + size
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if !isSpaceless(r2) {
					break
				}
				j += n
			}
			buf = append(buf[:0], s[i:j]...)
			fn(token{text: buf, start: i, end: j, run: true})
			i = j
		case isWordRune(r) && (r < utf8.RuneSelf || !unicode.Is(unicode.Mn, r)):
			buf = buf[:0]
			j := i
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if !isWordRune(r2) || isSpaceless(r2) {
					break
				}
				buf = appendFolded(buf, r2)
				j += n
			}
			if len(buf) > 0 {
				fn(token{text: buf, start: i, end: j})
			}
			i = j
		default:
			i += size
		}
	}
	return buf
}
