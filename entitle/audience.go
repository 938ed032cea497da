package entitle

import (
	"maps"
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
	for _, r := range roles {
		if r != "" {
			a.roles = append(a.roles, r)
		}
	}
	slices.Sort(a.roles)
	a.roles = slices.Compact(a.roles)
	for _, k := range slices.Sorted(maps.Keys(segments)) {
		if v := segments[k]; k != "" && v != "" {
			a.segments = append(a.segments, segment{k, v})
		}
	}
	// Length-prefixed parts make the encoding injective whatever the strings hold.
	var b strings.Builder
	for _, r := range a.roles {
		writePart(&b, 'r', r)
	}
	for _, s := range a.segments {
		writePart(&b, 's', s.key)
		writePart(&b, '=', s.value)
	}
	a.key = b.String()
	if userID != "" {
		writePart(&b, 'u', userID)
	}
	a.userKey = b.String()
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

func writePart(b *strings.Builder, tag byte, s string) {
	b.WriteByte(tag)
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

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
