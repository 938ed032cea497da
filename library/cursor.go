package library

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// A folder cursor is opaque to clients: base64url of
// "1|<offset>|<kind><id>", where the last part names the last item of the
// previous page ("f" folder or "v" video). If the listing changed between
// pages, the page continues after that item when it is still listed, else
// at the offset.
const cursorFormat = "1"

type cursor struct {
	offset int
	last   string // "f123" or "v456"
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorFormat + "|" + strconv.Itoa(c.offset) + "|" + c.last))
}

func decodeCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	if len(s) > 128 {
		return cursor{}, fmt.Errorf("%w: cursor too long", ErrInvalid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != cursorFormat {
		return cursor{}, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off <= 0 || off > 1<<30 {
		return cursor{}, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	last := parts[2]
	if len(last) < 2 || (last[0] != 'f' && last[0] != 'v') || !ValidID(last[1:]) {
		return cursor{}, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	c := cursor{offset: off, last: last}
	if c.encode() != s {
		// One cursor, one spelling: "+5", "05", an id with leading zeros or
		// stray base64 bits are not cursors this server wrote.
		return cursor{}, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return c, nil
}

// ValidID reports whether s has the shape of a Vimeo folder or video id:
// 1 to 20 decimal digits. Anything else is ErrInvalid (400), not a 404.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
