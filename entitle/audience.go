package entitle

import (
	"slices"
	"strconv"
	"strings"
)

// Audience is whom a question is asked for: a signed-in user's id, roles and
// profile segments, or an anonymous visitor (Anonymous). Build it once per
// request with NewAudience; it is a small immutable value. The zero Audience
// is a signed-in user with no id, no roles and no segments (only "public" and
// "everyone" rules match it).
type Audience struct {
	anon     bool // an anonymous visitor: only "public" rules match
	user     string
	roles    []string // sorted, unique, non-empty
	segments []segment
	key      string // canonical encoding of roles and segments (not the user)
	userKey  string // key plus the user id
}

type segment struct{ key, value string }

// NewAudience builds an Audience. Roles are matched exactly (case-sensitive),
// duplicates and empty names are dropped; segments with an empty key or value
// match no rule and are dropped.
func NewAudience(userID string, roles []string, segments map[string]string) Audience {
	a := Audience{user: userID}
	size := 0
	if len(roles) > 0 {
		a.roles = make([]string, 0, len(roles))
		for _, r := range roles {
			if r != "" {
				a.roles = append(a.roles, r)
			}
		}
		slices.Sort(a.roles)
		a.roles = slices.Compact(a.roles)
		for _, r := range a.roles {
			size += partSize(r)
		}
	}
	if len(segments) > 0 {
		a.segments = make([]segment, 0, len(segments))
		for k, v := range segments {
			if k != "" && v != "" {
				a.segments = append(a.segments, segment{k, v})
				size += partSize(k) + partSize(v)
			}
		}
		slices.SortFunc(a.segments, func(x, y segment) int { return strings.Compare(x.key, y.key) })
	}
	// Length-prefixed parts make the encoding injective whatever the strings
	// hold. One buffer holds both keys: key is userKey's prefix.
	if userID != "" {
		size += partSize(userID)
	}
	b := make([]byte, 0, size)
	for _, r := range a.roles {
		b = appendPart(b, 'r', r)
	}
	for _, s := range a.segments {
		b = appendPart(b, 's', s.key)
		b = appendPart(b, '=', s.value)
	}
	n := len(b)
	if userID != "" {
		b = appendPart(b, 'u', userID)
	}
	a.userKey = string(b)
	a.key = a.userKey[:n]
	return a
}

// anonymousKey is the Key of Anonymous. Keys of NewAudience are empty or
// start with a part tag ('r', 's'), so it is distinct from all of them.
const anonymousKey = "anonymous"

// Anonymous is the audience of a visitor who has not signed in: only rules
// for the "public" subject match it. All anonymous visitors share one Key,
// hence one View.
func Anonymous() Audience {
	return Audience{anon: true, key: anonymousKey, userKey: anonymousKey}
}

// IsAnonymous reports whether the audience is Anonymous.
func (a Audience) IsAnonymous() bool { return a.anon }

func appendPart(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// partSize is the length appendPart adds for s, at most.
func partSize(s string) int { return len(s) + 22 }

// User is the user id ("" if none).
func (a Audience) User() string { return a.user }

// Roles returns the audience's roles, sorted.
func (a Audience) Roles() []string { return slices.Clone(a.roles) }

// Segments returns the audience's profile segments.
func (a Audience) Segments() map[string]string {
	out := make(map[string]string, len(a.segments))
	for _, s := range a.segments {
		out[s.key] = s.value
	}
	return out
}

// Key is the canonical key of the roles and segments, without the user: two
// audiences with equal keys see the same library unless a user rule names one
// of their users (the Index takes care of that).
func (a Audience) Key() string { return a.key }

// Matches reports whether the subject applies to the audience: public always,
// everyone for any signed-in audience, a role or segment the audience has, or
// the audience's user.
func (a Audience) Matches(s Subject) bool {
	switch s.Kind {
	case Public:
		return true
	case Everyone:
		return !a.anon
	case Role:
		_, ok := slices.BinarySearch(a.roles, s.Name)
		return ok
	case Segment:
		for _, g := range a.segments {
			if g.key == s.Name {
				return g.value == s.Value
			}
		}
	case User:
		return a.user != "" && a.user == s.Name
	}
	return false
}
