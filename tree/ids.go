package tree

// MaxIDDigits bounds a numeric id: Vimeo's ids fit in an int64.
const MaxIDDigits = 19

// CanonicalID returns the one spelling of a numeric folder or video id:
// decimal digits without leading zeros ("0900000047" → "900000047"; "0" stays
// "0"), and ok. Anything else (empty, a sign, spaces, other characters, more
// than MaxIDDigits significant digits) is returned unchanged with ok false.
// Every entry point (webhooks, the API, the Vimeo client's parsing) passes
// ids through it, so that one video is one row however it was spelt.
func CanonicalID(id string) (string, bool) {
	if id == "" {
		return id, false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return id, false
		}
	}
	i := 0
	for i < len(id)-1 && id[i] == '0' {
		i++
	}
	if len(id)-i > MaxIDDigits {
		return id, false
	}
	return id[i:], true
}
